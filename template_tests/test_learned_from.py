"""Stage 'learned-from': a model trained on more than the 100 digits scores 0; honest models keep their grade.

The limits sit between honest models and models trained on more (README, What protects the grade, measured by
benchmarks/learned_from_calibration.py). Here: the suite's shared baseline and its 3x-longer run, as graded, pass
by a margin; models trained briefly on the reference digits or on the stand-in MNIST fail, with a reason that says
so; a decoder whose gradients are missing or useless fails and is told why; asking never changes the samples.
"""
import shutil

import numpy as np
import pytest

from template_tests.submissions import REFERENCE, TRAIN, make_submission, train_on
from tests.grader import config
from tests.grader.child.sampling import draw
from tests.grader.copies import SOURCES
from tests.grader.learned_from import Asked, ask, check_learned_from, digits_to_ask, explained as explained_from
from tests.grader.pipeline import grade
from tests.grader.stages import Result, StageFailure

STEPS = 600 * 4  # as long as the notebook's baseline trains


@pytest.fixture(scope="module")
def asked(instruments) -> Asked:
    """The digits a grading here asks about: unseen ones from the stand-in MNIST, as the grade of record's are."""
    assert (instruments.bank.source == SOURCES.index("mnist")).any(), "these tests need the stand-in MNIST"
    return digits_to_ask(instruments, config.SEED)


def explained(folder, asked):
    return explained_from(draw(folder, config.N_SAMPLES, config.SEED, explain=asked.digits), asked)


def assert_passes_wide(found):
    """Passes, and not by a hair: a fifth of the way from the limits at least (README: the margins measured)."""
    check_learned_from(found)
    assert found.training_advantage > 1.2 * config.LEARNED_MIN_TRAINING_ADVANTAGE, found
    assert found.reference_advantage < config.LEARNED_MAX_REFERENCE_ADVANTAGE, found


def test_the_notebooks_baseline_passes_as_graded(trained_repo):
    graded = Result.read(trained_repo[0] / "result_autograding.csv")
    assert graded.ok and graded.unseen_digits == "MNIST", graded.problem()
    assert graded.training_advantage > 1.2 * config.LEARNED_MIN_TRAINING_ADVANTAGE, graded.training_advantage
    assert graded.reference_advantage < config.LEARNED_MAX_REFERENCE_ADVANTAGE, graded.reference_advantage


def test_the_baseline_trained_three_times_longer_passes(long_trained_repo, asked):
    assert_passes_wide(explained(long_trained_repo, asked))


def test_trained_on_the_reference_digits_too_scores_zero(tmp_path, standin_env, instruments):
    folder = train_on(tmp_path / "sub", np.concatenate([TRAIN, REFERENCE]), STEPS)
    result = grade(folder, sample_dir=tmp_path / "samples", result_csv=None, tools=instruments)
    assert (result.status, result.stage, result.score) == ("failed", "learned-from", 0.0), result.problem()
    assert "trained on" in result.reason and "data/train only" in result.reason, result.reason
    assert result.training_advantage < config.LEARNED_MIN_TRAINING_ADVANTAGE


def test_trained_on_mnist_instead_fails(tmp_path, asked, unshipped_digits):
    found = explained(train_on(tmp_path / "sub", unshipped_digits, STEPS), asked)
    with pytest.raises(StageFailure, match="other digits too"):
        check_learned_from(found)


def test_a_decoder_that_hides_its_gradients_fails_and_is_told_why(tmp_path, asked):
    detached = "_forward = Decoder.forward\nDecoder.forward = lambda self, z: _forward(self, z.detach())\n"
    with pytest.raises(StageFailure, match="no gradient with respect to z"):
        check_learned_from(explained(make_submission(tmp_path / "detached", detached), asked))
    useless = ("_forward = Decoder.forward\n"
               "Decoder.forward = lambda self, z: _forward(self, z.detach()) + 0 * z.sum()\n")
    with pytest.raises(StageFailure, match="no gradient with respect to z"):
        check_learned_from(explained(make_submission(tmp_path / "useless", useless), asked))


def test_a_trained_decoder_with_scrambled_gradients_fails_and_is_told_why(tmp_path, trained_repo, asked):
    folder = tmp_path / "scrambled"
    folder.mkdir()
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv", "model.py"):
        shutil.copy(trained_repo[0] / name, folder / name)
    with open(folder / "model.py", "a") as code:  # the same images, and a gradient that points anywhere
        code.write("\n\nclass _Scrambled(torch.autograd.Function):\n"
                   "    forward = staticmethod(lambda ctx, z: z.clone())\n"
                   "    backward = staticmethod(lambda ctx, grad: torch.randn_like(grad) * grad.norm())\n\n\n"
                   "_forward = Decoder.forward\n"
                   "Decoder.forward = lambda self, z: _forward(self, _Scrambled.apply(z))\n")
    with pytest.raises(StageFailure, match="gradients are useless"):
        check_learned_from(explained(folder, asked))


def test_an_untrained_model_learned_nothing_and_is_not_judged(tmp_path, asked):
    found = explained(make_submission(tmp_path / "untrained"), asked)
    assert not found.learned and found.training_advantage < config.LEARNED_MIN_TRAINING_ADVANTAGE, found
    check_learned_from(found)


def test_asking_never_changes_the_graded_samples(trained_repo, asked):
    plain = draw(trained_repo[0], config.N_SAMPLES, config.SEED)
    drawn = draw(trained_repo[0], config.N_SAMPLES, config.SEED, explain=asked.digits)
    assert np.array_equal(drawn.images, plain.images) and np.array_equal(drawn.probes, plain.probes)
    assert drawn.inverted is not None and plain.inverted is None


def test_the_sets_are_shuffled_and_offline_there_are_two():
    found = ask(TRAIN, REFERENCE, np.zeros((0, 32, 32), np.uint8), "none (no MNIST)", config.SEED)
    assert list(np.bincount(found.sets)) == [len(TRAIN), config.INVERSION_DIGITS]  # all 100 training digits
    assert len(set(found.sets[:10])) > 1  # the order says nothing about which set a digit is from
