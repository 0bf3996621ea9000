"""Parent side of sampling: run worker.py in a child (run.py) with a time limit and read back what it wrote.
Everything the child returns is .npy arrays (read with allow_pickle=False) and one status line.
"""
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import config
from ..check import check_samples
from ..stages import StageFailure
from .run import Finished, read_output, run_child
from .sandbox import Sandbox

UNSANDBOXED = Sandbox(None)  # the child runs as the grader's own user (frozen: one shared default is safe)

WORKER = Path(__file__).with_name("worker.py")
SUBMITTED_CODE = ("model.py", *config.WEIGHT_FILES)
MAX_SAMPLES_BYTES = 1 << 29  # room for any wrong shape worth a message; a bound on what is read back


@dataclass
class Samples:
    """What the grader drew from a submission."""
    images: np.ndarray                # uint8 [n, 32, 32]: exactly what the PNGs hold, and what is measured
    codes: np.ndarray | None = None   # float64 [n, dim]: the codes Latent.sample drew for them (None: not back)
    probes: np.ndarray | None = None  # the decoder near the samples' codes (probes.py), when asked for
    cliffs: np.ndarray | None = None
    probe_error: str = ""             # why the decoder could not be probed, if it could not
    inverted: tuple | None = None     # for the digits asked: the best codes, the images there, the values at the
                                      # start and a step down its gradient, the gradients' norms (inversion.py)
    inversion_error: str = ""         # why the decoder could not be asked (inversion.py), if it could not


def draw(root: Path, n: int, seed: int, timeout_s: float = config.SAMPLE_TIMEOUT_S,
         sandbox: Sandbox = UNSANDBOXED, probe: bool = True, explain: np.ndarray | None = None) -> Samples:
    """The one way to sample a submission, for the grade and for every tool: n samples at seed, drawn by the
    student's code in a child (stages 'load' and 'sample'), then checked (stage 'check'); with probe, also the
    decoder's images near their codes, for stage 'generated', and with explain (uint8 [K, 32, 32] real digits),
    how well the decoder explains each, for stage 'learned-from'. Raises StageFailure."""
    return check_samples(run_worker(Path(root), n, seed, timeout_s, sandbox, probe, explain), n)


def run_worker(root: Path, n: int, seed: int, timeout_s: float, sandbox: Sandbox = UNSANDBOXED,
               probe: bool = True, explain: np.ndarray | None = None) -> Samples:
    """The student's samples as float32 [n, ...] (and the probes, and the inversion), or
    StageFailure('load' | 'sample', one line)."""
    args = [str(n), str(seed), str(config.SAMPLE_BATCH), "probe" if probe else "no-probe"]
    inputs = {} if explain is None else {"explain": np.asarray(explain, np.uint8)}
    with run_child(WORKER, root, SUBMITTED_CODE, args, timeout_s, sandbox, inputs) as finished:
        if finished.timed_out:
            raise StageFailure("sample", f"sampling {n} images and probing the decoder took longer than "
                                         f"{timeout_s:.0f} s and was stopped: does Latent.sample or Decoder loop "
                                         "forever?")
        return read_back(finished, n, probe, 0 if explain is None else len(explain))


def read_probe(out: Path, name: str, shape: tuple) -> np.ndarray | None:
    """One probe array, only if it is there and of the expected shape (None: any; a wrong one is the decoder's
    failure)."""
    try:
        array = np.load(io.BytesIO(read_output(out / f"{name}.npy", MAX_SAMPLES_BYTES)), allow_pickle=False)
    except (OSError, ValueError):
        return None
    return array if shape is None or array.shape == shape else None


def read_back(finished: Finished, n: int, probe: bool, asked: int = 0) -> Samples:
    try:
        status = json.loads(read_output(finished.out / "status.json", 1 << 16))
    except (OSError, ValueError):
        raise StageFailure("sample", f"the sampling process died (exit code {finished.returncode}) before it "
                                     f"finished. Its last words: {finished.last_words()!r}") from None
    if not isinstance(status, dict) or not status.get("ok"):
        status = status if isinstance(status, dict) else {}
        stage = status.get("stage") if status.get("stage") in ("load", "sample") else "sample"
        raise StageFailure(stage, str(status.get("reason", "unknown failure")))
    try:
        images = np.load(io.BytesIO(read_output(finished.out / "samples.npy", MAX_SAMPLES_BYTES)), allow_pickle=False)
    except (OSError, ValueError) as error:
        raise StageFailure("sample", f"the samples could not be read back ({error}).") from None
    codes = read_probe(finished.out, "codes", None)
    codes = codes if codes is not None and codes.ndim == 2 and len(codes) == n else None
    if not probe:
        return Samples(images, codes)
    probes = read_probe(finished.out, "probes", (3, min(config.PROBE_POINTS, n), 1, 32, 32))
    cliffs = read_probe(finished.out, "cliffs", (2, min(config.CLIFF_POINTS, n), 1, 32, 32))
    drawn = Samples(images, codes, probes, cliffs, str(status.get("probe_error", ""))[:300])
    if asked:
        drawn.inverted, drawn.inversion_error = read_inversion(finished.out, asked, status)
    return drawn


def read_inversion(out: Path, asked: int, status: dict) -> tuple[tuple | None, str]:
    """(codes [K, dim], images [K, 1, 32, 32], values at the start and a step down [K], gradient norms [K]) as
    inversion.py wrote them, or why not."""
    error = str(status.get("inversion_error", ""))[:300]
    codes = read_probe(out, "inverted_codes", None)
    if error or codes is None or codes.ndim != 2 or len(codes) != asked:
        return None, error or "no codes came back"
    images = read_probe(out, "inverted_images", (asked, 1, 32, 32))
    per_digit = [read_probe(out, name, (asked,)) for name in ("inverted_before", "inverted_stepped",
                                                                 "inverted_gradient")]
    if images is None or any(array is None for array in per_digit):
        return None, "the decoder's images for the codes did not come back"
    return (codes, images, *per_digit), ""
