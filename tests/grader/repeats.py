"""Stage 'repeats': does the prior draw the same code twice? A continuous prior never does (two float draws from a
density coincide with probability nil, in one dimension as in many). A prior that returns codes from a finite store
does, as soon as it draws more samples than the square root of the store's size: 500 draws from 500 stored codes
leave about 316 distinct codes, and 63% of the samples share theirs with another. That is the mark of stored digits
that no copy check can trace back to a real digit (bent by an elastic warp, say), and it needs no bank at all.

The codes are judged, not the images: an honest model with a one-dimensional latent draws some pixel-identical
images (0.8-2.4% of its samples over four seeds, measured), since codes a hair apart decode to the same 8-bit
image; its codes still never repeat. The images' repeats are reported beside the verdict, as evidence.
Calibration: README, What protects the grade; benchmarks/copy_deformations.py.
"""
from dataclasses import dataclass

import numpy as np

from . import config
from .stages import StageFailure


@dataclass
class Repeats:
    codes: float | None  # share of samples whose code another sample drew too (None: the codes did not come back)
    images: float        # share of samples pixel-identical to another sample
    distinct: int        # how many different images the samples are
    samples: int


def repeats(drawn) -> Repeats:
    """drawn: child/sampling.Samples, its images uint8 [N, 32, 32] and the codes that drew them."""
    images, distinct = repeated_share(drawn.images)
    codes = None if drawn.codes is None else repeated_share(drawn.codes)[0]
    return Repeats(codes, images, distinct, len(drawn.images))


def repeated_share(rows: np.ndarray) -> tuple[float, int]:
    """Share of rows (the first axis) equal to another row, bit for bit, and how many different rows there are."""
    _, inverse, counts = np.unique(rows.reshape(len(rows), -1), axis=0, return_inverse=True, return_counts=True)
    return float((counts[inverse.ravel()] > 1).mean()), len(counts)


def check_repeats(found: Repeats) -> None:
    """The stage's verdict: StageFailure('repeats', one line) when the codes did not come back, or when more than
    REPEATS_MAX_FRACTION of the samples share their code with another."""
    if found.codes is None:
        raise StageFailure("repeats", "the codes Latent.sample drew did not come back from the sampling process: "
                                      "does model.py delete or replace the grader's files?")
    if found.codes > config.REPEATS_MAX_FRACTION:
        raise StageFailure("repeats", f"{found.codes:.0%} of the samples were drawn from a code another sample was "
                                      f"drawn from too (limit {config.REPEATS_MAX_FRACTION:.0%}; the {found.samples} "
                                      f"samples are {found.distinct} different images): Latent.sample picks from a "
                                      "finite store of codes instead of drawing from a continuous distribution.")
