"""Code that a student's model.py starts cannot change the recorded grade: the sampling child runs as a user of
its own, and every process of that user is ended before the grader writes anything."""
import base64
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

from template_tests.conftest import copy_repository, run, runner_like
from template_tests.submissions import make_submission
from tests.grader.child import sandbox
from tests.grader.scoring import score_from_fid
from tests.grader.stages import Result

FORGED = "key,value\nstatus,ok\nfid,0.0\nscore,100.0\n"
DAEMON = """
import os as _os, time as _time

def _outlive_the_grader(target, pidfile, forged):
    # Double fork and setsid: out of the worker's process group and session, reparented away from it.
    if _os.fork():
        return
    _os.setsid()
    if _os.fork():
        _os._exit(0)
    with open(pidfile, "a") as f:
        f.write(f"{_os.getpid()}\\n")
    deadline = _time.time() + 600  # bounded: it ends by itself even if nothing ends it
    while _time.time() < deadline:
        try:
            with open(target, "w") as f:
                f.write(forged)
        except OSError:
            pass
        _time.sleep(0.01)
    _os._exit(0)

_outlive_the_grader(%r, %r, %r)
"""


@pytest.fixture
def checkout(tmp_path):
    """A checkout laid out like a runner's: readable by all, writable by its owner only. The daemon's pid file
    goes to a folder anyone may write to; every pid in it is ended afterwards, by its own id."""
    repo = Path(tempfile.mkdtemp(prefix="vae-checkout-", dir="/tmp"))
    drop = Path(tempfile.mkdtemp(prefix="vae-pids-", dir="/tmp"))
    os.chmod(repo, 0o755)
    os.chmod(drop, 0o1777)
    copy_repository(repo)
    make_submission(tmp_path / "made")
    for name in ("model.py", "encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        shutil.copy(tmp_path / "made" / name, repo / name)
    target, pidfile = repo / "result_autograding.csv", drop / "daemon.pids"
    with open(repo / "model.py", "a") as f:
        f.write(DAEMON % (str(target), str(pidfile), FORGED))
    for folder, _, files in os.walk(repo):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    yield repo, pidfile
    for line in (pidfile.read_text().split() if pidfile.is_file() else []):
        try:
            os.kill(int(line), signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(repo, ignore_errors=True)
    shutil.rmtree(drop, ignore_errors=True)


def grade_as_the_workflow(repo: Path, env: dict, wrap) -> tuple[int, str]:
    """prepare, run, eval and the points step, each its own command, with pauses in which a surviving daemon
    would strike. Returns the points and what the run step printed."""
    assert run(wrap(["bash", "tests/prepare_test.sh"]), repo, env, 60).returncode == 0
    graded = run(wrap([sys.executable, "-m", "unittest", "tests/run_test.py"]), repo, env, 900)
    run(wrap([sys.executable, "-m", "unittest", "tests/eval_test.py"]), repo, env, 300)
    time.sleep(1)
    points_step = run(wrap([sys.executable, "tests/platforms/per_push.py"]), repo, env, 120)
    encoded = points_step.stdout.strip().split("=", 1)[1]
    time.sleep(1)
    return sum(t["score"] for t in json.loads(base64.b64decode(encoded))["tests"]), graded.stdout + graded.stderr


def test_a_daemon_from_model_py_cannot_change_the_grade(checkout, grader_env, tmp_path):
    repo, pidfile = checkout
    points, log = grade_as_the_workflow(repo, grader_env, lambda c: runner_like(c, tmp_path))
    assert pidfile.is_file(), "the daemon never started: this test would prove nothing"
    result = Result.read(repo / "result_autograding.csv")
    assert result.ok and result.sandbox.startswith("on (uid "), (result, log[-2000:])
    assert result.fid > 0 and points == round(score_from_fid(result.fid))
    uid = int(result.sandbox.split("uid ")[1].rstrip(")"))
    assert sandbox.processes_of(uid) == [], "a process of the sandbox user outlived the grading"


def test_without_the_sandbox_the_same_daemon_does_forge_the_file(checkout, grader_env):
    # The control: where the sandbox is off (a student's laptop), the attack works, so the test above can fail.
    if sandbox.choose().uid is not None:
        pytest.skip("the sandbox is on here without help; the control needs a machine where it is off")
    repo, pidfile = checkout
    with open(repo / "model.py", "a") as f:  # fail right after sampling, so that the daemon is still alive then
        f.write("\nDecoder.forward = lambda self, z: torch.full((len(z), 1, 32, 32), float('nan'))\n")
    _, log = grade_as_the_workflow(repo, grader_env, lambda c: c)
    assert re.search(r"^  sandbox +off: ", log, re.M), log[-2000:]
    deadline = time.time() + 10
    while (repo / "result_autograding.csv").read_text() != FORGED and time.time() < deadline:
        time.sleep(0.05)
    assert (repo / "result_autograding.csv").read_text() == FORGED
