"""Stage 'check': what came back from the child has the right shape and pixel values. From here on the grade
reads the samples as uint8 [n, 32, 32], exactly what the PNGs hold."""
import numpy as np

from .images import to_uint8
from .stages import StageFailure


def check_samples(drawn, n: int):
    """drawn (child/sampling.Samples) with its images checked and made uint8; StageFailure('check', one line)."""
    checked = checked_pixels(drawn.images, n)
    if drawn.probes is not None:  # the images at z are the graded samples themselves, whatever the child says:
        drawn.probes[0] = checked[:drawn.probes.shape[1]]  # model.py cannot choose what the steps are measured from
    drawn.images = to_uint8(checked)
    return drawn


def checked_pixels(samples: np.ndarray, n: int) -> np.ndarray:
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
