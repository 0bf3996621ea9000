"""The instructors' calibration command: the table's shape, and that it runs only when asked (the class regrade:
test_regrade.py)."""
import sys

import yaml

from template_tests.conftest import ROOT, run
from tests.grader.stages import NETWORK_ESTIMATE


def test_calibrate_prints_one_table_of_the_documented_shape(tmp_path, grader_env, calibration_digits):
    summary = tmp_path / "summary.md"
    done = run([sys.executable, "-m", "instructor", "calibrate", "--seeds", "2", "--n", "100", "--epochs", "2"],
               ROOT, {**grader_env, "GITHUB_STEP_SUMMARY": str(summary)}, 1200)
    assert done.returncode == 0, done.stderr[-3000:]
    table = summary.read_text()
    assert table in done.stdout and f"({NETWORK_ESTIMATE}: an estimate" in table.splitlines()[0]
    for row in ("floor: 100 real digits not in the repository", "the notebook's baseline (2 epochs)",
                "score over 2 sampling seeds", "an idea of the notebook's: LATENT_DIM = 4 (2 epochs)",
                "an idea of the notebook's: 3 x the epochs (6 epochs)", "a model that draws only 1s",
                "100 downloaded MNIST digits replayed", "anchor: the 100 training digits replayed",
                "grading the baseline"):
        assert row in table, row


def test_calibration_runs_only_when_asked():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "calibrate.yml").read_text())
    assert list(workflow["on"]) == ["workflow_dispatch"]
