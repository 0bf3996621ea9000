"""The metric: our exact low-rank Fréchet distance, pytorch-fid's own numbers, and the behaviour of FID/KID."""
import re
import subprocess
import sys

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance

from template_tests.conftest import ROOT
from tests.grader.images import load_folder, save_folder
from tests.grader.instruments.fid import features, frechet_distance, kernel_inception_distance


def stats(a):
    return a.mean(0), np.cov(a, rowvar=False)


def test_frechet_distance_closed_form():
    # b = s*a + t: S_b = s^2 S_a, so FID = |mu_b - mu_a|^2 + (1 - s)^2 tr(S_a), exactly.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 6))
    s, t = 1.7, rng.normal(size=6)
    b = s * a + t
    expected = ((b.mean(0) - a.mean(0)) ** 2).sum() + (1 - s) ** 2 * np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-10)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("n1,n2,d", [(30, 50, 8), (60, 90, 200)])
def test_frechet_distance_equals_pytorch_fid(n1, n2, d):
    # Full rank (n > d) and low rank (n < d, as with 2048-d features) both agree with sqrtm.
    rng = np.random.default_rng(n1)
    a, b = rng.normal(size=(n1, d)), rng.normal(0.3, 1.2, size=(n2, d))
    assert frechet_distance(a, b) == pytest.approx(calculate_frechet_distance(*stats(a), *stats(b)), rel=1e-6)


def test_fid_equals_pytorch_fid_cli_on_the_same_folders(tmp_path, instruments, grader_env):
    reference = load_folder(ROOT / "tests" / "reference")
    noisy = np.clip(reference[1::10] / 255 + np.random.default_rng(0).normal(0, 0.1, (100, 32, 32)), 0, 1)
    a_images, b_images = reference[::10], np.rint(noisy * 255).astype(np.uint8)
    save_folder(a_images, tmp_path / "a")
    save_folder(b_images, tmp_path / "b")
    ours = frechet_distance(features(instruments.net, a_images), features(instruments.net, b_images))
    # The CLI finds the stand-in in $TORCH_HOME/hub/checkpoints under the official name.
    cli = subprocess.run([sys.executable, "-m", "pytorch_fid", str(tmp_path / "a"), str(tmp_path / "b"),
                          "--device", "cpu", "--num-workers", "0"], env=grader_env, capture_output=True, text=True,
                         timeout=600)
    assert cli.returncode == 0, cli.stderr[-2000:]
    theirs = float(re.search(r"FID:\s+([-0-9.e+]+)", cli.stdout).group(1))
    assert abs(ours - theirs) < 1e-3, (ours, theirs)


def test_fid_is_zero_against_itself_and_grows_with_noise(instruments):
    images = load_folder(ROOT / "data" / "train")[:60]
    rng = np.random.default_rng(1)
    reference = features(instruments.net, images)
    assert frechet_distance(reference, reference) == pytest.approx(0, abs=1e-6)
    fids = []
    for sigma in (0.05, 0.2, 0.4):
        noisy = np.rint(np.clip(images / 255 + rng.normal(0, sigma, images.shape), 0, 1) * 255).astype(np.uint8)
        fids.append(frechet_distance(features(instruments.net, noisy), reference))
    assert 0 < fids[0] < fids[1] < fids[2], fids


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(2)
    same = kernel_inception_distance(rng.normal(size=(300, 16)), rng.normal(size=(300, 16)))
    apart = kernel_inception_distance(rng.normal(size=(300, 16)), rng.normal(0.5, 1, size=(300, 16)))
    assert abs(same[0]) < 3 * same[1] + 1e-3
    assert apart[0] > 10 * abs(same[0]) and apart[0] > 3 * apart[1]


def test_a_tampered_feature_cache_is_detected_and_recomputed(tmp_path, instruments):
    from tests.grader.instruments.fid import cached_features
    folder = tmp_path / "digits"
    save_folder(load_folder(ROOT / "data" / "train")[:20], folder)
    genuine = cached_features(instruments.net, instruments.weights, folder, tmp_path / "cache")
    (cache_file,) = (tmp_path / "cache").glob("features-digits-*.npy")
    np.save(cache_file, genuine * 0.5)  # what code that ran before the grader could have written
    again = cached_features(instruments.net, instruments.weights, folder, tmp_path / "cache")
    np.testing.assert_allclose(again, genuine, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.load(cache_file), genuine, rtol=1e-4, atol=1e-6)
