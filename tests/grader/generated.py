"""Stage 'generated': do the samples come from a network, or from a table of stored images?

FID and the copy check look at the samples alone; a decoder that stores real digits in decoder.pth and returns
them would score like real digits, and only digits the grader knows can be recognised as copies. This stage
looks at the decoder instead: child/probes.py (in the sampling child) moves the very codes that drew the graded samples
by tiny steps, and here, from those images alone, each point is judged:
  jump      the image changes by more than a whole-digit amount (JUMP) over the small step, or is NaN/inf
  flat      it does not change (under FLAT x the decoder's own usual change): a nearest-code lookup
  not proportional  the small-step change is not about SMALL/LARGE of the large-step change
  cliff     a whole-digit change is left in the last interval of a bisection: a border between stored images
More than PROBE_LIMIT of the points bad in either probe: the stage fails. Calibration: README.
"""
from dataclasses import dataclass

import numpy as np

from . import config
from .stages import StageFailure

ALSO = ("(rounding or thresholding the output, or indexing a table with part of z, does this too: return the "
        "sigmoid's output as it is, and feed a class as a one-hot vector through a Linear layer)")


@dataclass
class Continuity:
    flat: float
    jump: float
    not_proportional: float
    median_ratio: float
    bad: float     # share of the step probe's points that are flat, jump or not proportional
    cliffs: float  # share of the bisections that end on a whole-digit change

    @property
    def passed(self) -> bool:
        return self.bad <= config.PROBE_LIMIT and self.cliffs <= config.PROBE_LIMIT


def distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pixel L2 between matching images of two stacks (pixels in [0, 1]; two real digits are ~8 apart)."""
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    return np.sqrt((d.reshape(len(d), -1) ** 2).sum(1))


def continuity(probes: np.ndarray, ends: np.ndarray) -> Continuity:
    """probes: [3, P, ...] images at z, z + SMALL*u, z + LARGE*u; ends: [2, Q, ...] ends of the last intervals."""
    small, large = distance(probes[1], probes[0]), distance(probes[2], probes[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = small / np.maximum(large, 1e-30)
    jump = ~np.isfinite(small) | ~np.isfinite(large) | (small > config.PROBE_JUMP)  # NaN must not look smooth
    usual = np.quantile(small[~jump], 0.9) if (~jump).any() else 0.0  # the decoder's own usual change
    flat = ~jump & (small <= config.PROBE_FLAT * usual)
    expected = config.PROBE_SMALL / config.PROBE_LARGE
    low, high = config.PROBE_RATIO_BAND
    off = ~flat & ~jump & ((ratio < expected * low) | (ratio > expected * high))
    last = distance(ends[1], ends[0])
    cliff = ~np.isfinite(last) | (last > config.PROBE_JUMP)
    return Continuity(float(flat.mean()), float(jump.mean()), float(off.mean()), float(np.nanmedian(ratio)),
                      float((flat | jump | off).mean()), float(cliff.mean()))


def probed(drawn) -> Continuity:
    """The continuity of a child/sampling.Samples drawn with its probes; StageFailure when the decoder could not be
    probed (raising on moved codes must not dodge the check)."""
    if drawn.probe_error or drawn.probes is None or drawn.cliffs is None:
        why = drawn.probe_error or "no images came back"
        raise StageFailure("generated", f"the decoder fails on codes next to the ones its prior drew ({why}): a "
                                        "decoder must accept any code close to its samples.")
    return continuity(drawn.probes, drawn.cliffs)


def check_generated(found: Continuity) -> None:
    """The stage's verdict: StageFailure('generated', one line) unless the decoder behaves like a network."""
    if found.bad > config.PROBE_LIMIT:
        raise StageFailure("generated", f"the decoder's output jumps or stands still under tiny changes of z at "
                                        f"{found.bad:.0%} of the points (at most {config.PROBE_LIMIT:.0%}): it looks "
                                        f"images up instead of computing them {ALSO}.")
    if found.cliffs > config.PROBE_LIMIT:
        raise StageFailure("generated", f"along short paths in z the decoder's output jumps from one whole digit to "
                                        f"another at {found.cliffs:.0%} of the points (at most "
                                        f"{config.PROBE_LIMIT:.0%}): it looks images up instead of computing them "
                                        f"{ALSO}.")
