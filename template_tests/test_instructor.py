"""The instructors' commands: a class regrade with the pristine grader, and the calibration table's shape."""
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from PIL import Image

from instructor.regrade import COLUMNS, STRIP
from template_tests.conftest import ROOT, copy_repository, run
from tests.grader.scoring import points
from tests.grader.stages import Result

GIT = ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com"]


def student(folder: Path, trained: Path) -> Path:
    repo = copy_repository(folder)
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        shutil.copy(trained / name, repo / name)
    return repo


def test_regrade_a_class(tmp_path, trained_repo, grader_env):
    trained, _ = trained_repo
    expected = points(Result.read(trained / "result_autograding.csv"))  # what the stages gave these weights
    submissions = tmp_path / "class"
    ada = student(submissions / "ada", trained)
    subprocess.run(["git", "init", "-q"], cwd=ada, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=ada, check=True)
    subprocess.run([*GIT, "commit", "-qm", "submit"], cwd=ada, check=True)
    student(submissions / "bob", trained)  # a copy of ada's weights
    cyd = student(submissions / "cyd", trained)
    shutil.copy(ROOT / "data" / "train" / "000.png", cyd / "tests" / "reference" / "0000.png")
    dan = student(submissions / "dan", trained)
    (dan / "model.py").write_text("raise ImportError('half-finished edit')\n")
    out = tmp_path / "out"

    first = run([sys.executable, "-m", "instructor", "regrade", str(submissions), "--out", str(out), "--jobs", "2"],
                ROOT, grader_env, 1800)
    assert first.returncode == 0, first.stderr[-3000:]
    with open(out / "gradebook.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == COLUMNS
        rows = {row["repo"]: row for row in reader}
    assert list(rows) == ["ada", "bob", "cyd", "dan"]
    assert len(rows["ada"]["commit"]) == 40 and rows["bob"]["commit"] == ""
    for name in ("ada", "bob", "cyd"):
        assert rows[name]["status"] == "ok" and int(rows[name]["points"]) == expected, rows[name]
    # dan broke model.py but kept the very same weight files: byte-identical, so named too
    assert set(rows["ada"]["same_weights_as"].split(";")) == {"bob", "cyd", "dan"}
    assert rows["cyd"]["protected_changes"] == "tests/reference/0000.png"  # shown, and the grade is unchanged
    assert rows["ada"]["protected_changes"] == ""
    assert rows["dan"]["status"] == "failed" and rows["dan"]["stage"] == "load" and rows["dan"]["points"] == "0"
    assert "half-finished edit" in rows["dan"]["reason"]
    assert "do not change this grade" in (out / "feedback" / "cyd.md").read_text()
    assert f"**{expected} / 100**" in (out / "feedback" / "ada.md").read_text()
    sheet = Image.open(out / "contact-sheet.png")
    assert sheet.size == (260 + STRIP * 66, 4 * 66)

    again = run([sys.executable, "-m", "instructor", "regrade", str(submissions), "--out", str(out)], ROOT,
                grader_env, 600)
    assert again.returncode == 0 and "4 unchanged since the last run, 0 to grade" in again.stdout, again.stdout
    with open(out / "gradebook.csv", newline="") as f:
        assert {row["repo"]: row for row in csv.DictReader(f)} == rows


def test_calibrate_prints_one_table_of_the_documented_shape(tmp_path, grader_env, calibration_digits):
    summary = tmp_path / "summary.md"
    done = run([sys.executable, "-m", "instructor", "calibrate", "--seeds", "2", "--n", "100", "--epochs", "2"],
               ROOT, {**grader_env, "GITHUB_STEP_SUMMARY": str(summary)}, 1200)
    assert done.returncode == 0, done.stderr[-3000:]
    table = summary.read_text()
    assert table in done.stdout and "UNOFFICIAL stand-in" in table.splitlines()[0]
    for row in ("floor: 100 real digits not in the repository", "the notebook's baseline (2 epochs)",
                "score over 2 sampling seeds", "anchor: the 100 training digits replayed", "grading the baseline"):
        assert row in table, row


def test_calibration_runs_only_when_asked():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "calibrate.yml").read_text())
    assert list(workflow["on"]) == ["workflow_dispatch"]
