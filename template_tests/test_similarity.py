"""similar_to (instructor/similarity.py): copies of a classmate's model, with noise added, fine-tuned or sampled
with a wider prior, are linked to it; models trained apart are not. The figures are INSTRUCTORS.md's table (Copied
from a classmate), measured on the notebook's own baseline; test_regrade.py checks the column in a class."""
import re

import numpy as np
import pytest

from instructor import similarity
from instructor.similarity import BASELINE, DIMS, LINK_BELOW, distance, links, signature
from template_tests.conftest import ROOT
from template_tests.submissions import TRAIN, noised_copy, train_on, widened_prior_copy
from tests.grader import config
from tests.grader.child.sampling import draw

MARGIN = 1.25  # every copy at most LINK_BELOW / MARGIN, every model trained apart at least LINK_BELOW * MARGIN


def signature_of(folder):
    return signature(draw(folder, config.N_SAMPLES, config.SEED, probe=False).images)


@pytest.fixture(scope="module")
def baseline(trained_repo):
    return trained_repo[0], signature_of(trained_repo[0])


COPIES = {
    "noise 0.5%": lambda f, base: noised_copy(f, base, 0.005),
    "noise 1%": lambda f, base: noised_copy(f, base, 0.01),
    "noise 3%": lambda f, base: noised_copy(f, base, 0.03),
    "fine-tuned 1 epoch": lambda f, base: train_on(f, TRAIN, 4, seed=1, start=base),
    "fine-tuned 5 epochs": lambda f, base: train_on(f, TRAIN, 20, seed=1, start=base),
    "prior widened 1.2x": lambda f, base: widened_prior_copy(f, base, 1.2),
}


@pytest.mark.parametrize("kind", COPIES)
def test_copies_of_a_model_are_linked(tmp_path, baseline, kind):
    folder, reference = baseline
    d = distance(signature_of(COPIES[kind](tmp_path / "copy", folder)), reference)
    assert 0 < d <= LINK_BELOW / MARGIN, d


def test_models_trained_apart_are_not(tmp_path, baseline, long_trained_repo):
    _, reference = baseline
    apart = {"3x longer": long_trained_repo, "training seed 1": train_on(tmp_path / "seed-1", TRAIN, 2400, seed=1)}
    for name, folder in apart.items():
        assert distance(signature_of(folder), reference) >= LINK_BELOW * MARGIN, name


def test_the_signature_estimates_the_pixel_rmse(baseline, tmp_path):
    folder, reference = baseline
    ours = draw(folder, config.N_SAMPLES, config.SEED, probe=False).images[:similarity.DRAWS] / 255
    copy = draw(noised_copy(tmp_path / "copy", folder, 0.03), config.N_SAMPLES, config.SEED, probe=False).images
    exact = np.sqrt(((ours - copy[:similarity.DRAWS] / 255) ** 2).mean())
    assert distance(signature(copy), reference) == pytest.approx(exact, rel=0.1)
    assert reference.shape == (similarity.DRAWS, DIMS) and reference.nbytes <= 32_000


def test_links_every_pair_once_each_way_and_only_below_the_limit(monkeypatch):
    rng = np.random.default_rng(0)
    base = [rng.random((similarity.DRAWS, 1024)).astype(np.float32) for _ in range(5)]
    near = base[0] + 0.5 * LINK_BELOW * rng.standard_normal(base[0].shape).astype(np.float32)
    signatures = {f"m{k}": (image @ similarity.projection()) for k, image in enumerate(base)}
    signatures["copy"] = near @ similarity.projection()
    signatures["short"] = signatures["m0"][:10]  # another N: never compared with the rest
    monkeypatch.setattr(similarity, "CHUNK", 2)  # rows in blocks, as for a large class
    found = links(signatures)
    assert set(found["copy"]) == {"m0"} and set(found["m0"]) == {"copy"}
    assert found["copy"]["m0"] == found["m0"]["copy"] == pytest.approx(0.5 * LINK_BELOW, rel=0.1)
    assert all(not found[name] for name in ("m1", "m2", "m3", "m4", "short"))


def test_instructors_md_states_the_limit():
    text = (ROOT / "INSTRUCTORS.md").read_text()
    assert re.search(rf"linked below a pixel RMSE of {LINK_BELOW}\b", text), "INSTRUCTORS.md: similar_to's limit"
    assert f"at least {similarity.APART_AT_LEAST}" in text and BASELINE in text
