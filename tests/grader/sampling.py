"""Parent side of sampling: run sample_worker.py in a child with a time limit, end everything it started, then
check what came back.

The child sees a copy of the submission (model.py and the three .pth files), never the repository. It runs as a
sandbox user of its own where the machine allows it (sandbox.py), with a scratch working directory and a minimal
environment, and has no way back into this process: everything it returns is one .npy array (read with
allow_pickle=False) and one status line.
"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from dataclasses import dataclass

import numpy as np

from . import config
from .images import to_uint8
from .sandbox import Sandbox, end
from .stages import StageFailure

WORKER = Path(__file__).with_name("sample_worker.py")
SUBMITTED_CODE = ("model.py", *config.WEIGHT_FILES)
MAX_SAMPLES_BYTES = 1 << 29  # room for any wrong shape worth a message; a bound on what is read back


@dataclass
class Samples:
    """What the grader drew from a submission."""
    images: np.ndarray  # uint8 [n, 32, 32]: exactly what the PNGs hold, and what is measured


def draw(root: Path, n: int, seed: int, timeout_s: float = config.SAMPLE_TIMEOUT_S,
         sandbox: Sandbox = Sandbox(None)) -> Samples:
    """The one way to sample a submission, for the grade and for every tool: n samples at seed, drawn by the
    student's code in a child (stages 'load' and 'sample'), then checked (stage 'check'). Raises StageFailure."""
    return Samples(to_uint8(check_samples(run_worker(Path(root), n, seed, timeout_s, sandbox), n)))


def child_env(home: Path) -> dict:
    keep = ("PATH", "LANG", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH", "LD_LIBRARY_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=str(home), TMPDIR=str(home), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
               PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
    return env


def stop(child: subprocess.Popen) -> None:
    """Kill the child's whole process group (a student's own subprocesses too), then reap the child."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group is already gone
    else:
        child.kill()
    child.wait()


def copy_submission(root: Path, scratch: Path) -> Path:
    folder = scratch / "submission"
    folder.mkdir()
    for name in SUBMITTED_CODE:
        shutil.copyfile(Path(root) / name, folder / name)
        os.chmod(folder / name, 0o644)
    os.chmod(folder, 0o755)
    return folder


def read_output(path: Path, limit: int) -> bytes:
    """A file the child wrote: never through a link it planted, never larger than limit."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


def run_worker(root: Path, n: int, seed: int, timeout_s: float, sandbox: Sandbox = Sandbox(None)) -> np.ndarray:
    """The student's samples as float32 [n, ...], or StageFailure('load' | 'sample', one-line reason)."""
    with tempfile.TemporaryDirectory(prefix="vae-grader-", dir="/tmp" if sandbox.uid else None) as tmp:
        scratch = Path(tmp)
        os.chmod(scratch, 0o711)  # the sandbox user may pass through, not list
        out = scratch / "out"
        out.mkdir()
        args = [sys.executable, str(WORKER), str(copy_submission(root, scratch)), str(out), str(n), str(seed),
                str(config.SAMPLE_BATCH), str(sandbox.uid or "")]
        argv, env = sandbox.command(args, child_env(out))
        with open(scratch / "stdout.txt", "wb") as log:
            child = subprocess.Popen(argv, cwd=out, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            try:
                child.wait(timeout=timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:  # anything the student's code started must not outlive the sampling stage
                if sandbox.uid:
                    end(sandbox, child.pid, scratch)
                    child.wait()
                else:
                    stop(child)
        if timed_out:
            raise StageFailure("sample", f"sampling {n} images took longer than {timeout_s:.0f} s and was "
                                         "stopped: does Latent.sample or Decoder loop forever?")
        return read_back(out, scratch / "stdout.txt", child.returncode)


def read_back(out: Path, log: Path, returncode: int) -> np.ndarray:
    try:
        status = json.loads(read_output(out / "status.json", 1 << 16))
    except (OSError, ValueError):
        tail = log.read_bytes().decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise StageFailure("sample", f"the sampling process died (exit code {returncode}) before it "
                                     f"finished. Its last words: {tail[0][:200]!r}") from None
    if not isinstance(status, dict) or not status.get("ok"):
        status = status if isinstance(status, dict) else {}
        stage = status.get("stage") if status.get("stage") in ("load", "sample") else "sample"
        raise StageFailure(stage, str(status.get("reason", "unknown failure")))
    try:
        return np.load(io.BytesIO(read_output(out / "samples.npy", MAX_SAMPLES_BYTES)), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise StageFailure("sample", f"the samples could not be read back ({error}).") from None


def check_samples(samples: np.ndarray, n: int) -> np.ndarray:
    """Validate shape, finiteness and range; return them as float32 [n, 1, 32, 32] in [0, 1]."""
    if samples.shape != (n, 1, 32, 32):
        raise StageFailure("check", f"Decoder must return [B, 1, 32, 32] images; {n} samples came back with shape "
                                    f"{list(samples.shape)}.")
    bad = ~np.isfinite(samples)
    if bad.any():
        raise StageFailure("check", f"{bad.any(axis=(1, 2, 3)).sum()} of {n} samples contain NaN or inf: check "
                                    "the training loss for NaN, or a division by zero in the decoder.")
    lo, hi = float(samples.min()), float(samples.max())
    tolerance = 1e-4
    if lo < -tolerance or hi > 1 + tolerance:
        hint = (" That looks like a tanh output in [-1, 1]: use (x + 1) / 2, or end the decoder with a sigmoid."
                if lo < -0.1 and hi <= 1 + tolerance else " End the decoder with a sigmoid to keep pixels in [0, 1].")
        raise StageFailure("check", f"pixel values must lie in [0, 1]; the samples span [{lo:.3f}, {hi:.3f}].{hint}")
    return samples.astype(np.float32)
