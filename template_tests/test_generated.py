"""Stage 'generated': decoders that look stored digits up fail, wherever the digits came from and however they were
posed or noised; honest decoders pass with a wide margin. The README's table (What protects the grade) lists
the numbers asserted here."""

import numpy as np
import pytest

from template_tests.conftest import grade_through_the_scripts
from template_tests.submissions import (
    HONEST,
    LOOKUPS,
    REFERENCE,
    TRAIN,
    lookup_submission,
    make_submission,
    mixture_prior_submission,
    noised,
    posed,
    train_variant,
)
from tests.grader import config
from tests.grader.child.sampling import draw
from tests.grader.generated import check_generated, probed
from tests.grader.images import to_uint8
from tests.grader.stages import StageFailure


def continuity_of(folder):
    return probed(draw(folder, config.N_SAMPLES, config.SEED))


@pytest.fixture(scope="module")
def sources(unshipped_digits):
    return {"training": TRAIN, "reference": REFERENCE, "unshipped": unshipped_digits}


VARIANTS = {"exact": lambda x: x, "posed": posed, "posed + noise 0.1": lambda x: noised(posed(x), 0.1)}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("source", ["training", "reference", "unshipped"])
@pytest.mark.parametrize("kind", LOOKUPS)
def test_a_lookup_of_stored_digits_fails(tmp_path, sources, kind, source, variant):
    found = continuity_of(lookup_submission(tmp_path / "sub", kind, VARIANTS[variant](sources[source])))
    assert not found.passed, found
    limit = config.PROBE_LIMIT
    if kind == "blend":  # smooth by construction, flat where its softmax saturates: 60-74% measured
        assert found.bad > 4 * limit, found
    else:  # a hash jumps at 89% of the points and a nearest-code lookup stands still at 100%
        assert found.bad > 8 * limit and found.cliffs > 5 * limit, found
    with pytest.raises(StageFailure, match="looks images up instead of computing them"):
        check_generated(found)


def assert_passes_wide(found):
    assert found.passed and found.bad <= config.PROBE_LIMIT / 10 and found.cliffs <= config.PROBE_LIMIT / 10, found
    assert 0.115 < found.median_ratio < 0.136, found  # a network is linear over both steps: 1e-3 / 8e-3


def test_the_notebook_baseline_passes(trained_repo):
    found = continuity_of(trained_repo[0])
    assert_passes_wide(found)
    assert found.bad == 0 and found.cliffs == 0


def test_the_baseline_trained_three_times_longer_passes(long_trained_repo):
    assert_passes_wide(continuity_of(long_trained_repo))


def test_a_mixture_prior_passes(tmp_path, trained_repo):
    assert_passes_wide(continuity_of(mixture_prior_submission(tmp_path / "sub", trained_repo[0])))


@pytest.mark.parametrize("name", HONEST)
def test_other_architectures_pass(tmp_path, name):
    assert_passes_wide(continuity_of(train_variant(tmp_path / "sub", name)))


def test_an_untrained_decoder_and_one_with_noise_of_its_own_pass(tmp_path):
    assert_passes_wide(continuity_of(make_submission(tmp_path / "untrained")))
    noisy = ("Latent.sample = lambda self, n, generator=None: torch.randn(n, self.dim)\n"
             "_forward = Decoder.forward\n"
             "Decoder.forward = lambda self, z: (_forward(self, z)\n"
             "                                   + 0.02 * torch.randn(len(z), 1, 32, 32)).clamp(0, 1)\n")
    assert_passes_wide(continuity_of(make_submission(tmp_path / "noisy", noisy)))


def test_a_decoder_that_rounds_its_pixels_fails_and_is_told_why(tmp_path):
    code = "_forward = Decoder.forward\nDecoder.forward = lambda self, z: (_forward(self, z) > 0.5).float()\n"
    found = continuity_of(make_submission(tmp_path / "sub", code))
    with pytest.raises(StageFailure, match="rounding or thresholding the output"):
        check_generated(found)


def test_a_decoder_that_fails_on_moved_codes_fails(tmp_path):
    code = ("_forward = Decoder.forward\n_seen = set()\n"
            "def forward(self, z):\n"
            "    if len(_seen) >= 5:\n"
            "        raise RuntimeError('only the codes I was asked for')\n"
            "    _seen.add(len(_seen))\n"
            "    return _forward(self, z)\n"
            "Decoder.forward = forward\n")
    with pytest.raises(StageFailure, match="fails on codes next to the ones its prior drew"):
        continuity_of(make_submission(tmp_path / "sub", code))


def test_the_probes_never_change_the_graded_samples(trained_repo):
    probed = draw(trained_repo[0], config.N_SAMPLES, config.SEED)
    plain = draw(trained_repo[0], config.N_SAMPLES, config.SEED, probe=False)
    assert np.array_equal(probed.images, plain.images) and plain.probes is None


@pytest.mark.parametrize("kind", ["nearest", "blend"])
def test_a_lookup_of_unshipped_digits_scores_zero_through_the_stage_scripts(tmp_path, grader_env, unshipped_digits,
                                                                             kind):
    lookup_submission(tmp_path / "made", kind, posed(unshipped_digits))
    result, graded, scored = grade_through_the_scripts(tmp_path / "made", tmp_path / "repo", grader_env)
    assert graded.returncode != 0 and scored.returncode != 0, graded.stderr[-2000:]
    assert result.stage == "generated" and result.score == 0 and result.fid is None, result
    assert "looks images up instead of computing them" in graded.stderr and "Score:" not in scored.stdout


FORGED_PROBES = '''
import sys as _sys
import numpy as _np
_main = _sys.modules["__main__"]  # the sampling child: model.py can rewrite its probing


def _forged_probe(latent, decoder, codes, seed, samples, batch):
    base = _np.full((min(500, len(codes)), 1, 32, 32), 0.5, _np.float32)
    step = _np.linspace(0, 0.02, 1024, dtype=_np.float32).reshape(1, 1, 32, 32)
    return _np.stack([base, base + step / 8, base + step])  # perfectly proportional, and not about the samples


def _forged_cliffs(latent, decoder, codes, seed, batch):
    return _np.full((2, min(100, len(codes)), 1, 32, 32), 0.5, _np.float32)


_main.probe, _main.cliffs = _forged_probe, _forged_cliffs
'''


def test_probes_rewritten_by_model_py_are_measured_from_the_graded_samples(tmp_path, standin_env):
    """The child's probes are steps away from images the grader already holds: a model.py that rewrites the probing
    to answer smoothly about other images is still judged from the samples it really drew (README: what still gets
    through, for a rewrite that fakes steps around the real samples)."""
    folder = lookup_submission(tmp_path / "forged", "nearest", REFERENCE)
    (folder / "model.py").write_text((folder / "model.py").read_text() + FORGED_PROBES)
    drawn = draw(folder, 100, config.SEED)
    assert np.allclose(drawn.probes[1], 0.5, atol=0.003)  # the forgery reached the grader ...
    assert np.array_equal(to_uint8(drawn.probes[0]), drawn.images[:len(drawn.probes[0])])  # ... beside the samples
    found = probed(drawn)
    assert found.bad > config.PROBE_LIMIT  # ... and failed: the steps are measured from the real samples
    with pytest.raises(StageFailure, match="looks images up"):
        check_generated(found)
