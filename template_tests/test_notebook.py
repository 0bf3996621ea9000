"""The starter notebook, executed headless as a student first runs it, and in quick mode without weights."""
import json
import sys

import pandas as pd
import pytest

from template_tests.conftest import ROOT, copy_repository, run
from tests.grader.report import read_result

NOTEBOOK = ROOT / "assignment_09.ipynb"


def test_default_run_produces_the_submission(trained_repo, baseline_weights):
    repo, done = trained_repo
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        assert (repo / name).is_file(), name
    results = pd.read_csv(repo / "result.csv")
    assert list(results.columns) == ["epoch", "loss", "reconstruction", "kl", "fid"]
    assert len(results) == 600 and results["epoch"].tolist() == list(range(1, 601))
    assert (results["loss"] - results["reconstruction"] - results["kl"]).abs().max() < 1e-3  # beta = 1
    assert results["loss"].iloc[-1] < 0.8 * results["loss"].iloc[0]
    assert results["kl"].iloc[-1] > 1, "posterior collapse: the codes carry no information"
    assert results["fid"].iloc[:-1].isna().all() and results["fid"].iloc[-1] > 0
    # The notebook's FID is the grader's FID, computed by the grader itself.
    graded = read_result(repo / "result_autograding.csv")
    assert float(graded["fid"]) == pytest.approx(results["fid"].iloc[-1], abs=1e-4)
    assert "UNOFFICIAL" in done.stdout + done.stderr or "UNOFFICIAL" in graded["note"]


def test_quick_mode_without_weights_still_saves_everything(tmp_path, grader_env):
    repo = copy_repository(tmp_path / "repo")
    env = {**grader_env, "VAE_EPOCHS": "2", "VAE_FID_WEIGHTS": str(tmp_path / "no-such-weights.pth")}
    done = run([sys.executable, "-m", "jupyter", "execute", "assignment_09.ipynb", "--output=executed"],
               repo, env, 600)
    executed = repo / "executed.ipynb"
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("encoder.pth", "latent.pth", "decoder.pth"):
        assert (repo / name).is_file(), name
    results = pd.read_csv(repo / "result.csv")
    assert len(results) == 2 and results["fid"].isna().all()
    text = "\n".join(
        "".join(output.get("text", ""))
        for cell in json.loads(executed.read_text())["cells"] for output in cell.get("outputs", []))
    lines = [line for line in text.splitlines() if line.startswith("No FID this time")]
    assert len(lines) == 1 and "VAE_FID_WEIGHTS" in lines[0], text[-2000:]


def test_committed_notebook_is_clean_and_small():
    notebook = json.loads(NOTEBOOK.read_text())
    assert NOTEBOOK.stat().st_size < 100_000
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "commit the notebook without outputs"
