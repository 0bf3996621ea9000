"""Feedback beside the score, never part of it: what the samples lack, measured in the features of a digit classifier
(instruments/digits.py, diagnostics.py), the advice that follows from it, and data/sample/grid/diagnostics.png.

The score is 100 - FID and nothing here changes it; a failure here is said in the advice and never stops grading.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..copies import SOURCES, Bank, CopyReport
from ..instruments.digits import DigitNet, DigitNetError, features, features_and_labels, load_digit_net
from ..stages import Result
from . import diagnostics, picture as diagnostics_picture

CLOSEST = 5  # samples named in closest_to_training


@dataclass
class DigitInstruments:
    """The digit classifier and what it says of the reference digits, loaded before any student code runs."""
    net: DigitNet | None = None
    real: diagnostics.RealDigits | None = None
    error: str = ""


def prepare(reference_images: np.ndarray) -> DigitInstruments:
    try:
        net = load_digit_net()
    except DigitNetError as error:
        return DigitInstruments(error=str(error))
    return DigitInstruments(net, diagnostics.real_digits(features(reference_images, net)))


def closest_to_training(copies: CopyReport, bank: Bank, count: int) -> np.ndarray:
    """Indices of the samples whose nearest real digit is a training digit, most like it first (lowest ratio)."""
    mine = np.flatnonzero(bank.source[copies.nearest] == SOURCES.index("training"))
    return mine[np.argsort(copies.ratios[mine], kind="stable")][:count]


def describe(result: Result, images: np.ndarray, copies: CopyReport, tools: DigitInstruments, bank: Bank,
             picture: Path | None) -> diagnostics.Diagnosis | None:
    """Fill result's diagnostic keys and the advice, and draw the picture; never raises."""
    if tools.error:
        result.advice = f"no diagnostics: {tools.error}"
        return None
    try:
        feats, labels = features_and_labels(images, tools.net)
        found = diagnostics.diagnose(feats, labels, tools.real, copies.fraction)
        result.digit_fid, result.realism, result.variety = found.digit_fid, found.realism, found.variety
        result.classes = diagnostics.classes_in_words(found.class_shares) or "every class drawn"
        result.class_shares = " ".join(f"{c}:{share:.1%}" for c, share in enumerate(found.class_shares))
        closest = closest_to_training(copies, bank, diagnostics_picture.PAIRS)
        result.closest_to_training = ", ".join(f"{i:04d}.png {copies.ratios[i]:.2f}" for i in closest[:CLOSEST])
        result.advice = diagnostics.advice(found)
        if picture is not None:
            diagnostics_picture.save(found, images[closest], bank.images[copies.nearest[closest]],
                                     copies.ratios[closest], bank.copy_ratio, picture)
        return found
    except Exception as error:  # feedback must never cost a student the grade
        result.advice = f"no diagnostics: internal error ({type(error).__name__}: {error}); please tell your instructor"
        return None


def inception_coverage(result: Result, sample_features: np.ndarray, reference_features: np.ndarray,
                       reference_radii: np.ndarray) -> None:
    """Realism and variety in the Inception's features too (with a real network, official or the estimate's: the
    random stand-in's features know nothing of digits)."""
    try:
        result.inception_realism = diagnostics.realism(sample_features, reference_features, reference_radii)
        result.inception_variety = diagnostics.variety(sample_features, reference_features)
    except Exception:  # feedback must never cost a student the grade; the digit-feature diagnostics stand
        result.inception_realism = result.inception_variety = None
