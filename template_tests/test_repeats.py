"""Stage 'repeats': a prior that draws codes from a stored list fails, whatever the stored images are (here: MNIST
digits bent by elastic warps, which the copy check does not trace back); honest priors never repeat a code, even
where their images do. The README's numbers (What protects the grade) are the ones asserted here."""
import numpy as np
import pytest
import torch

from template_tests.conftest import grade_through_the_scripts
from template_tests.submissions import (
    LATENT_SIZE,
    load_model,
    mixture_prior_submission,
    train_variant,
    warp_cheat_submission,
)
from tests.grader import config
from tests.grader.child.sampling import Samples, draw
from tests.grader.repeats import check_repeats, repeats
from tests.grader.stages import StageFailure


def test_the_codes_that_drew_the_samples_come_back(trained_repo):
    folder = trained_repo[0]
    drawn = draw(folder, config.N_SAMPLES, config.SEED, probe=False)
    latent = load_model(folder).Latent()
    latent.load_state_dict(torch.load(folder / "latent.pth", weights_only=True))
    generator = torch.Generator().manual_seed(config.SEED)
    expected = torch.cat([latent.sample(config.SAMPLE_BATCH, generator=generator)
                          for _ in range(config.N_SAMPLES // config.SAMPLE_BATCH)])
    assert drawn.codes.dtype == np.float64 and np.array_equal(drawn.codes, expected.double().numpy())


def test_shares_count_every_sample_that_has_a_twin():
    images = np.zeros((5, 32, 32), np.uint8)
    images[1] = 1  # samples 0, 2, 3, 4 are one image; 1 stands alone
    codes = np.arange(10.0).reshape(5, 2)
    codes[4] = codes[0]
    found = repeats(Samples(images, codes))
    assert (found.codes, found.images, found.distinct, found.samples) == (0.4, 0.8, 2, 5)
    with pytest.raises(StageFailure, match=r"40% of the samples were drawn from a code another sample was drawn "
                                           r"from too \(limit 1%; the 5 samples are 2 different images\)"):
        check_repeats(found)


def test_codes_that_do_not_come_back_fail_the_stage():
    found = repeats(Samples(np.zeros((3, 32, 32), np.uint8), None))
    with pytest.raises(StageFailure, match="the codes Latent.sample drew did not come back"):
        check_repeats(found)


@pytest.fixture(scope="module")
def latent_1(tmp_path_factory):
    """An honest model with a one-dimensional latent: codes a hair apart decode to the same 8-bit image."""
    return train_variant(tmp_path_factory.mktemp("latent-1"), epochs=200, code=LATENT_SIZE % (1, 1))


def test_honest_priors_never_repeat_a_code(trained_repo, long_trained_repo, latent_1, tmp_path):
    mixture = mixture_prior_submission(tmp_path / "mixture", trained_repo[0])
    for folder in (trained_repo[0], long_trained_repo, mixture, latent_1):
        for seed in (config.SEED, 1):
            found = repeats(draw(folder, config.N_SAMPLES, seed, probe=False))
            assert found.codes == 0, (folder.name, seed, found)
            check_repeats(found)


def test_a_one_dimensional_latent_draws_identical_images_but_passes(latent_1):
    shares = [repeats(draw(latent_1, config.N_SAMPLES, seed, probe=False)).images for seed in (config.SEED, 1, 2)]
    assert max(shares) > 0, shares  # why the images are not what is judged


def test_the_warp_cheat_scores_zero_through_the_stage_scripts(tmp_path, grader_env, unshipped_digits):
    cheat = warp_cheat_submission(tmp_path / "made", unshipped_digits[::2])  # 50 of each class
    result, graded, scored = grade_through_the_scripts(cheat, tmp_path / "repo", grader_env)
    assert graded.returncode != 0 and scored.returncode != 0, graded.stderr[-2000:]
    assert result.stage == "repeats" and result.score == 0 and result.fid is None, result
    assert result.repeated_codes > 0.5 and result.memorised_fraction < config.COPIES_MAX_FRACTION, result
    assert "Latent.sample picks from a finite store of codes" in result.reason, result.reason
    assert "Latent.sample picks from a finite store" in graded.stderr and "Score:" not in scored.stdout
