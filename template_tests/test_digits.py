"""The digit classifier and the diagnostics built on it: the weights are the pinned ones and load safely, the
features know digits, every diagnostic means what its name says, and the advice names the real problem of each
kind of model (the README's table: real models sampled as the grader samples, and hand-made diagnoses)."""
import hashlib
import re

import numpy as np
import pytest
import torch

from template_tests.submissions import make_submission, narrowed_submission, train_variant
from tests.grader import config
from tests.grader.child.sampling import draw
from tests.grader.copies import copy_report
from tests.grader.feedback import diagnostics as dg
from tests.grader.images import load_folder
from tests.grader.instruments.digits import (
    WEIGHTS,
    WEIGHTS_SHA256,
    DigitNetError,
    classify,
    features,
    features_and_labels,
    load_digit_net,
)

REFERENCE = load_folder(config.REFERENCE_DIR)
TRAIN = load_folder(config.TRAIN_DIR)
REFERENCE_LABELS = np.arange(len(REFERENCE)) // 100  # stored class by class


@pytest.fixture(scope="module")
def real():
    return dg.real_digits(features(REFERENCE))


def test_the_shipped_weights_are_the_pinned_ones():
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == WEIGHTS_SHA256
    assert WEIGHTS.stat().st_size < 400_000  # a few hundred KB in the repository


@pytest.mark.parametrize("damage", ["missing", "other bytes", "pickle", "other keys"])
def test_bad_weights_fail_with_one_line(tmp_path, damage):
    path = tmp_path / "digit_classifier.pth"
    if damage == "other bytes":
        path.write_bytes(WEIGHTS.read_bytes() + b"\0")
    elif damage == "pickle":
        torch.save({"net": torch.nn.Linear(1, 1)}, path)  # a pickled module: weights_only must refuse it
    elif damage == "other keys":
        torch.save({"a": torch.zeros(1)}, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() and damage != "other bytes" else WEIGHTS_SHA256
    with pytest.raises(DigitNetError) as error:
        load_digit_net(path, sha)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_features_and_labels_agree_and_know_digits():
    feats, labels = features_and_labels(REFERENCE)
    assert feats.dtype == np.float64 and feats.shape == (1000, 128)
    assert np.array_equal(feats, features(REFERENCE)) and np.array_equal(labels, classify(REFERENCE))
    assert (labels == REFERENCE_LABELS).mean() >= 0.95  # provenance file: 95.8%


def test_the_digit_fid_ranks_real_digits_far_above_one_class(real, calibration_digits):
    unseen = dg.diagnose(*features_and_labels(calibration_digits[::2]), real, 0.0)
    ones = calibration_digits[np.arange(len(calibration_digits)) // 100 == 1]  # stored class by class too
    one_class = dg.diagnose(*features_and_labels(ones), real, 0.0)
    assert unseen.digit_fid * 100 < one_class.digit_fid
    # Only 100 samples here: sparser than the grader's 500, so bigger k-NN balls and a higher variety.
    assert one_class.realism > 0.9 and one_class.variety < unseen.variety / 2
    assert dg.classes_in_words(one_class.class_shares).startswith("only 1s")


def test_coverage_is_precision_and_recall():
    rng = np.random.default_rng(0)
    one, other = rng.normal(size=(150, 8)), rng.normal(size=(150, 8)) + 50  # two far-apart kinds
    both = np.concatenate([one, other])
    assert dg.coverage(both, both) == 1.0  # every point lies in its own ball
    assert dg.coverage(both + 1000, both) == 0.0
    assert dg.realism(one, both) == 1.0 and dg.variety(one, both) == 0.5  # real-looking, half the kinds


def test_classes_in_words():
    shares = np.full(10, 0.1)
    assert dg.classes_in_words(shares) == ""
    shares = np.array([0.0, 0.31, 0.1, 0.1, 0.0, 0.1, 0.1, 0.1, 0.02, 0.07])
    assert dg.classes_in_words(shares) == "no 0s or 4s, few 8s (2.0%), many 1s (31%)"
    assert dg.classes_in_words(np.eye(10)[1]) == "only 1s (100%)"


def diagnosis(**changes) -> dg.Diagnosis:
    fine = dict(digit_fid=100.0, realism=0.85, variety=0.55, spread=0.7, class_shares=np.full(10, 0.1),
                near_copies=0.01)
    return dg.Diagnosis(**{**fine, **changes})


@pytest.mark.parametrize("changes, first", [
    ({}, None),
    ({"realism": 0.6, "variety": 0.07, "spread": 0.5}, "blurry"),            # BETA 2 (test_a_blurry_model_...)
    ({"realism": 0.0, "variety": 0.0, "spread": 0.03}, "alike"),             # BETA 8, untrained
    ({"realism": 0.98, "variety": 0.004, "class_shares": np.eye(10)[1]}, "narrow"),  # one class
    ({"near_copies": 0.10}, "copies"),                                      # 3,000 epochs
])
def test_advice_names_the_problem_first(changes, first):
    d = diagnosis(**changes)
    assert dg.problems(d)[:1] == ([first] if first else [])
    text = dg.advice(d)
    assert text and "\n" not in text
    keyword = {None: "larger gap", "blurry": "blurry", "alike": "same image", "narrow": "Latent.sample",
               "copies": "near-copies"}[first]
    assert keyword in text


def test_real_digits_get_no_problem(real, calibration_digits, copy_bank):
    for half in (calibration_digits[0::2], calibration_digits[1::2]):
        copies = copy_report(half, copy_bank).fraction
        d = dg.diagnose(*features_and_labels(half), real, copies)
        assert dg.problems(d) == [], dg.advice(d)
        assert d.realism > 0.9 and d.variety > 0.85 and d.digit_fid < 5


def diagnosis_of(folder, real, copy_bank):
    images = draw(folder, config.N_SAMPLES, config.SEED, probe=False).images
    return dg.diagnose(*features_and_labels(images), real, copy_report(images, copy_bank).fraction)


def test_the_baseline_has_no_problem_and_is_told_its_larger_gap(trained_repo, real, copy_bank):
    d = diagnosis_of(trained_repo[0], real, copy_bank)
    assert dg.problems(d) == [] and d.missing == [] and d.realism > 0.75 and d.variety > 0.4, dg.advice(d)
    assert "The larger gap is" in dg.advice(d)


def test_a_model_narrowed_to_one_or_two_classes_is_told_so(tmp_path, trained_repo, real, copy_bank):
    baseline = diagnosis_of(trained_repo[0], real, copy_bank)
    # Narrowed to the training 1s' codes, 89-91% of the samples read as 1s, depending on the CPU that trained the
    # baseline (a 1 or two of the 100 decode as 2s): the advice says "only 1s" from 90% on, "many 1s" below.
    for classes, words in (((1,), r"(only|many) 1s \(\d+%\)"), ((1, 7), r"no 0s")):
        d = diagnosis_of(narrowed_submission(tmp_path / f"narrow{len(classes)}", trained_repo[0], classes), real,
                         copy_bank)
        assert dg.problems(d)[0] == "narrow" and d.variety < baseline.variety / 10, dg.advice(d)
        assert d.digit_fid > 3 * baseline.digit_fid and re.search(words, dg.advice(d)), dg.advice(d)
        assert "Latent.sample" in dg.advice(d)


def test_a_blurry_model_is_told_so(tmp_path, real, copy_bank):
    d = diagnosis_of(train_variant(tmp_path / "beta2", epochs=600, beta=2.0), real, copy_bank)
    assert dg.problems(d)[:1] == ["blurry"] and d.realism < dg.LOW_REALISM, dg.advice(d)
    assert "lower BETA" in dg.advice(d)


def test_an_untrained_model_is_told_its_samples_are_all_alike(tmp_path, real, copy_bank):
    d = diagnosis_of(make_submission(tmp_path / "untrained"), real, copy_bank)
    assert dg.problems(d) == ["alike"] and d.spread < dg.LOW_SPREAD and "same image" in dg.advice(d)
