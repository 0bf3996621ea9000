"""Parent side of sampling: run sample_worker.py in a child with a time limit, then check what came back.

The child gets a scratch directory as its working directory, a minimal environment and no way back into this
process: everything it returns is one .npy array (read with allow_pickle=False) and one status line.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import config

WORKER = Path(__file__).with_name("sample_worker.py")


class StageFailure(Exception):
    def __init__(self, stage: str, reason: str):
        super().__init__(reason)
        self.stage, self.reason = stage, reason


def child_env() -> dict:
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1",
               CUDA_VISIBLE_DEVICES="")
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


def run_worker(root: Path, n: int, seed: int, timeout_s: float) -> np.ndarray:
    """The student's samples as float32 [n, ...], or StageFailure('load' | 'sample', one-line reason)."""
    with tempfile.TemporaryDirectory(prefix="vae-grader-") as scratch:
        out = Path(scratch)
        args = [sys.executable, str(WORKER), str(root), str(out), str(n), str(seed), str(config.SAMPLE_BATCH)]
        with open(out / "stdout.txt", "wb") as log:
            child = subprocess.Popen(args, cwd=out, env=child_env(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                stop(child)
                raise StageFailure("sample", f"sampling {n} images took longer than {timeout_s:.0f} s and was "
                                             "stopped: does Latent.sample or Decoder loop forever?") from None
        stop(child)  # anything the student's code left running must not outlive the sampling stage
        status_file = out / "status.json"
        if not status_file.is_file():
            tail = (out / "stdout.txt").read_bytes().decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise StageFailure("sample", f"the sampling process died (exit code {child.returncode}) before it "
                                         f"finished. Its last words: {tail[0][:200]!r}")
        status = json.loads(status_file.read_text())
        if not status.get("ok"):
            raise StageFailure(str(status.get("stage", "sample")), str(status.get("reason", "unknown failure")))
        try:
            return np.load(out / "samples.npy", allow_pickle=False)
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
