"""The Classroom 50 bundle: built, packed and unpacked as the platform does, run in a student's checkout, and its
result.json held to the platform's documented rules (classroom50_contract.py)."""
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from template_tests.classroom50_contract import problems
from template_tests.conftest import ROOT, copy_repository, run
from template_tests.submissions import REFERENCE, replayed, smooth_lookup_submission
from tests.grader.scoring import points
from tests.grader.stages import NETWORK_ESTIMATE, Result

SLUG = "vae-09"
PHASES = ("install packages", "import the grader", "download Inception weights", "download MNIST", "load instruments",
          "grade", "write results")
ENV = {"CLASSROOM": "ml-fall-2026", "ASSIGNMENT": SLUG, "SUBMISSION_TAG": "submit/2026-11-24T10-00-00Z-abc1234",
       "COMMIT_URL": "https://github.com/ml-org/ml-fall-2026-vae-09-ada/commit/abc1234",
       "RELEASE_URL": "https://github.com/ml-org/ml-fall-2026-vae-09-ada/releases/tag/submit%2F2026",
       "REVIEW_URL": "https://github.com/ml-org/ml-fall-2026-vae-09-ada/compare/base...abc1234",
       "USERNAME": "ada", "OWNER": "ada", "ASSIGNMENT_TYPE": "individual"}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory, grader_env, instruments) -> Path:
    """python -m instructor bundle, then tar -czf SLUG.tar.gz -C PARENT SLUG, then the runner's extraction."""
    work = tmp_path_factory.mktemp("classroom50")
    done = run([sys.executable, "-m", "instructor", "bundle", str(work / "repo" / SLUG)], ROOT, grader_env, 300)
    assert done.returncode == 0, done.stderr
    assert f"Inception features shipped (network: {NETWORK_ESTIMATE})" in done.stdout, done.stdout
    assert "with the copy check's threshold (the 1,100 shipped digits and MNIST 7,900 (UNOFFICIAL" in done.stdout
    archive = work / f"{SLUG}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(work / "repo" / SLUG, arcname=SLUG)
    assert archive.stat().st_size < 10 * 1024 * 1024
    runtime = work / "runner-temp" / "classroom50-runtime"
    with tarfile.open(archive) as tar:
        assert all(m.name == SLUG or m.name.startswith(f"{SLUG}/") for m in tar.getmembers())
        tar.extractall(runtime, filter="data")
    return runtime / SLUG


def autograde(bundle: Path, checkout: Path, grader_env: dict, tmp_path: Path) -> tuple[dict, str, str]:
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**grader_env, **ENV, "CLASSROOM50_BUNDLE_DIR": str(bundle), "GITHUB_OUTPUT": str(output)}
    done = run([sys.executable, str(bundle / "autograder.py")], checkout, env, 1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # What a submission costs, read from the job's own log: one line per phase, in order, then the total.
    logged = re.findall(r"^autograder phase: (.+): (\d+\.\d) s$", done.stdout, re.MULTILINE)
    assert [name for name, _ in logged] == list(PHASES), done.stdout[-2000:]
    total = float(re.search(r"^autograder total: (\d+\.\d) s", done.stdout, re.MULTILINE).group(1))
    assert sum(float(seconds) for _, seconds in logged) <= total + 0.1 * len(logged)
    document = json.loads((checkout / "result.json").read_text())
    assert problems(document, env) == []
    return document, (checkout / "release-body.md").read_text(), output.read_text()


def student_checkout(tmp_path: Path, trained: Path, leave_out=()) -> Path:
    checkout = copy_repository(tmp_path / "checkout")
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        if name not in leave_out:
            shutil.copy(trained / name, checkout / name)
    return checkout


def test_the_baseline_gets_the_grade_the_tests_stages_give(unpacked, trained_repo, grader_env, tmp_path):
    trained, _ = trained_repo
    checkout = student_checkout(tmp_path, trained)
    shipped = {p.name: p.stat().st_mtime_ns for p in (unpacked / "features").iterdir()}
    assert len(shipped) == 3  # reference and training digits' features, the copy check's threshold
    # A student's own edit of tests/ must change nothing: the bundle grades with its own copy.
    (checkout / "tests" / "grader" / "scoring.py").write_text("MAX_POINTS = 100\ndef points(result):\n    return 100\n"
                                                              "def score_from_fid(fid):\n    return 100.0\n")
    document, body, output = autograde(unpacked, checkout, grader_env, tmp_path)
    expected = points(Result.read(trained / "result_autograding.csv"))  # the notebook ran the stages' grader
    assert 0 < expected < 100 and document["score"] == expected and document["max-score"] == 100
    assert all(test["passed"] for test in document["tests"])
    assert document["tests"][-1]["score"] == expected and float(document["tests"][-1]["fid"]) > 0
    assert f"**{expected} / 100** (an estimate on the same network, not the grade)" in body
    assert "status=success\n" in output and f"summary={expected}/100: FID " in output
    assert (checkout / "data" / "sample" / "grid" / "samples.png").is_file()  # for release_assets
    # The shipped features passed their spot check and were used as they are, not recomputed.
    assert {p.name: p.stat().st_mtime_ns for p in (unpacked / "features").iterdir()} == shipped


def test_a_missing_decoder_gets_zero_and_the_reason(unpacked, trained_repo, grader_env, tmp_path):
    checkout = student_checkout(tmp_path, trained_repo[0], leave_out=("decoder.pth",))
    document, body, output = autograde(unpacked, checkout, grader_env, tmp_path)
    assert document["score"] == 0
    first = document["tests"][0]
    assert first["test-name"] == "submission" and not first["passed"] and "decoder.pth is missing" in first["reason"]
    assert "decoder.pth is missing" in body and "status=failure\n" in output
    assert len([line for line in output.splitlines() if line.startswith("summary=")]) == 1


def test_a_replay_of_the_reference_digits_gets_zero(unpacked, grader_env, tmp_path):
    checkout = copy_repository(tmp_path / "checkout")
    smooth_lookup_submission(tmp_path / "made", replayed(REFERENCE, "exact"))
    for name in ("model.py", "encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        shutil.copy(tmp_path / "made" / name, checkout / name)
    document, body, _ = autograde(unpacked, checkout, grader_env, tmp_path)
    copies = {t["test-name"]: t for t in document["tests"]}["copies"]
    assert document["score"] == 0 and not copies["passed"] and "tests/reference/" in copies["reason"]


@pytest.mark.parametrize("uv_installs", [True, False])
def test_the_install_takes_pypis_pins_then_the_cpu_wheels_then_pytorch_fid_without_scipy(monkeypatch, uv_installs):
    path = ROOT / "tests" / "platforms" / "classroom50.py"
    spec = importlib.util.spec_from_file_location("classroom50_autograder", path)
    autograder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(autograder)
    pins = {"torch": "2.14.1", "torchvision": "0.29.1", "pytorch-fid": "0.3.0", "numpy": "2.4.6", "tqdm": "4.70.1"}
    commands = []

    def fake_run(command, **kwargs):  # only the install of uv itself can fail, and does when uv_installs is False
        commands.append(command)
        return subprocess.CompletedProcess(command, 0 if uv_installs or autograder.UV not in command else 1)

    monkeypatch.setattr(autograder.subprocess, "run", fake_run)
    used = autograder.install(list(pins), pins)
    installs = commands[1:]  # the first asked pip for uv
    assert commands[0][-1] == autograder.UV and (used == autograder.UV) == uv_installs
    assert all(("uv" in c) == uv_installs for c in installs), installs
    assert [c[-2:] for c in installs] == [
        ["numpy==2.4.6", "tqdm==4.70.1"], ["torch==2.14.1", "torchvision==0.29.1"], ["--no-deps", "pytorch-fid==0.3.0"]]
    assert [autograder.TORCH_INDEX in c for c in installs] == [False, True, False]
