"""feedback.describe, as the grader calls it: the diagnostic keys, the advice and data/sample/grid/diagnostics.png,
from samples whose truth is known (replays of training digits: near-copies of training digits; replays of reference
digits: near-copies, none of them of a training digit); and feedback never costs a grade."""
import numpy as np
import pytest
from PIL import Image

from template_tests.submissions import REFERENCE, TRAIN, replayed
from tests.grader.copies import copy_report
from tests.grader.feedback import describe as feedback, picture as diagnostics_picture
from tests.grader.stages import Result


@pytest.fixture(scope="module")
def digit_tools():
    return feedback.prepare(REFERENCE)


def red_frames(path) -> int:
    """Red pixels right of the class chart: the frames of near-copies (the chart's own red marks rare classes)."""
    pixels = np.asarray(Image.open(path).convert("RGB"))[:, 420:].astype(int)
    return int(((pixels[..., 0] > 180) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).sum())


def test_replayed_training_digits_are_shown_beside_their_source(tmp_path, digit_tools, copy_bank):
    images = replayed(TRAIN, "noise 0.05", 500)
    copies = copy_report(images, copy_bank)
    result, picture = Result(), tmp_path / "diagnostics.png"
    found = feedback.describe(result, images, copies, digit_tools, copy_bank, picture)
    assert found is not None and result.digit_fid is not None and 0 <= result.realism <= 1
    shown = result.closest_to_training.split(", ")
    assert len(shown) == feedback.CLOSEST
    assert all(float(entry.split()[1]) < copy_bank.copy_ratio for entry in shown), shown
    assert "near-copies" in result.advice or "copies" in result.advice, result.advice
    assert Image.open(picture).size[0] > 800 and red_frames(picture) > 100 * diagnostics_picture.PAIRS


def test_without_a_sample_near_a_training_digit_no_pair_is_drawn(tmp_path, digit_tools, copy_bank):
    images = replayed(REFERENCE, "exact", 500)
    copies = copy_report(images, copy_bank)
    assert copies.by_source["reference"] > 0.9
    result, picture = Result(), tmp_path / "diagnostics.png"
    feedback.describe(result, images, copies, digit_tools, copy_bank, picture)
    assert result.closest_to_training == "" and picture.is_file() and red_frames(picture) == 0


def test_an_internal_error_becomes_a_line_of_advice_not_a_failure(tmp_path, digit_tools, copy_bank):
    images = replayed(TRAIN, "exact", 50)
    copies = copy_report(images, copy_bank)
    result = Result()
    assert feedback.describe(result, images[:, :16], copies, digit_tools, copy_bank, tmp_path / "d.png") is None
    assert result.advice.startswith("no diagnostics: internal error") and result.status == "failed"  # untouched
