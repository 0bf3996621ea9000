"""The starter notebook, executed headless as a student first runs it, and in quick mode without weights."""
import json
import re
import sys

import pandas as pd
import pytest

from template_tests.conftest import ROOT, copy_repository, run
from tests.grader.stages import Result

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
    graded = Result.read(repo / "result_autograding.csv")
    assert graded.fid == pytest.approx(results["fid"].iloc[-1], abs=1e-4)
    assert graded.status == "estimate" and graded.note.startswith("an estimate, not the grade")
    # The terminal says what happened: sections and their times, the files written, the FID and the score.
    assert "running 5. Training" in done.stdout and "saved with its outputs" in done.stdout, done.stdout
    written = next(line for line in done.stdout.splitlines() if line.startswith("files written: "))
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv", "result_autograding.csv", "data/sample/"):
        assert name in written, written
    assert f"FID {graded.fid:.2f}  ->  score {graded.score:.2f} / 100 (an estimate on the same network, not the " \
           "grade)" in done.stdout
    # ... and the notebook on disk keeps its outputs, the sample grid among them.
    cells = json.loads((repo / "assignment_09.ipynb").read_text())["cells"]
    assert any("64 samples from the prior" in "".join(cell["source"]) and
               any("image/png" in output.get("data", {}) for output in cell["outputs"])
               for cell in cells if cell["cell_type"] == "code")
    # Every section drew its pictures: the strip, the curves, the latent space, the KL weights, the copies, the grid.
    pictures, section = {}, "setup"
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("## "):
            section = text.split(".")[0][3:]
        elif cell["cell_type"] == "code":
            drawn = sum("image/png" in o.get("data", {}) for o in cell["outputs"])
            pictures[section] = pictures.get(section, 0) + drawn
    assert all(pictures.get(str(n), 0) >= 1 for n in (3, 5, 7, 8, 9, 10, 11, 12, 13)), pictures
    assert pictures["10"] == 4, pictures  # codes, histograms, KL per dimension, samples
    # Section 12 shows the grader's own near-copy share before the grader runs (the same codes, seed 2024).
    printed = "\n".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    shown = float(re.search(r"([\d.]+)% of 500 samples are near-copies", printed).group(1)) / 100
    assert shown == pytest.approx(graded.memorised_fraction, abs=0.01), (shown, graded.memorised_fraction)


def test_quick_mode_without_weights_still_saves_everything(tmp_path, grader_env):
    repo = copy_repository(tmp_path / "repo")
    env = {**grader_env, "VAE_EPOCHS": "2", "VAE_FID_WEIGHTS": str(tmp_path / "no-such-weights.pth")}
    done = run([sys.executable, "run_notebook.py"], repo, env, 600)
    executed = repo / "assignment_09.ipynb"
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1].startswith("no score (measure): VAE_FID_WEIGHTS is set to"), done.stdout
    for name in ("encoder.pth", "latent.pth", "decoder.pth"):
        assert (repo / name).is_file(), name
    results = pd.read_csv(repo / "result.csv")
    assert len(results) == 2 and results["fid"].isna().all()
    text = "\n".join(
        "".join(output.get("text", ""))
        for cell in json.loads(executed.read_text())["cells"] for output in cell.get("outputs", []))
    lines = [line for line in text.splitlines() if line.startswith("No FID this time")]
    assert len(lines) == 1 and "VAE_FID_WEIGHTS" in lines[0], text[-2000:]


def test_a_failing_cell_is_one_line_and_the_notebook_is_saved_up_to_it(tmp_path, grader_env):
    repo = copy_repository(tmp_path / "repo")
    (repo / "model.py").write_text((repo / "model.py").read_text() + "\nraise ValueError('half-edited model')\n")
    done = run([sys.executable, "run_notebook.py"], repo, {**grader_env, "VAE_EPOCHS": "2"}, 600)
    assert done.returncode == 1
    # model.py is first imported by the cell that shows vae_loss, at the end of section 2.
    assert "error: ValueError: half-edited model (in 2. From the evidence to the ELBO, the loss you minimise)" in \
        done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    cells = [c for c in json.loads((repo / "assignment_09.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    setup = next(c for c in cells if "EPOCHS = " in "".join(c["source"]))  # the first cell is Colab's: silent here
    assert setup["outputs"] and any(o.get("output_type") == "error" for c in cells for o in c["outputs"])


def test_committed_notebook_is_clean_and_small():
    notebook = json.loads(NOTEBOOK.read_text())
    assert NOTEBOOK.stat().st_size < 100_000
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "commit the notebook without outputs"
    # Tools find cells by tag: the Colab set-up first, the loss shown, training saved, the grader run.
    tags = [tag for cell in notebook["cells"] for tag in cell.get("metadata", {}).get("tags", [])]
    for tag in ("colab", "loss", "save", "grade"):
        assert tags.count(tag) == 1, (tag, tags)
    first_code = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "colab" in first_code["metadata"].get("tags", [])
