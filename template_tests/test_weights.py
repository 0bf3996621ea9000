"""Where the Inception weights come from, and when they are refused."""
import hashlib

import pytest

from tests.grader import weights
from tests.grader.weights import OFFICIAL_NAME, WeightsError, load_weights


@pytest.fixture
def clean(monkeypatch, tmp_path):
    for key in ("VAE_FID_WEIGHTS", "VAE_ALLOW_UNOFFICIAL_WEIGHTS", "GITHUB_ACTIONS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return monkeypatch


def test_explicit_path_wins_and_unofficial_file_is_labelled(clean, grader_env):
    clean.setenv("VAE_FID_WEIGHTS", grader_env["VAE_FID_WEIGHTS"])
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    loaded = load_weights()
    assert str(loaded.path) == grader_env["VAE_FID_WEIGHTS"]
    assert not loaded.official and "UNOFFICIAL" in loaded.label
    assert loaded.sha256 == hashlib.sha256(loaded.path.read_bytes()).hexdigest()


def test_unofficial_file_is_refused_unless_allowed(clean, grader_env):
    clean.setenv("VAE_FID_WEIGHTS", grader_env["VAE_FID_WEIGHTS"])
    with pytest.raises(WeightsError, match="not the official FID Inception file"):
        load_weights()


def test_unofficial_file_is_refused_in_github_actions_even_when_allowed(clean, grader_env):
    clean.setenv("VAE_FID_WEIGHTS", grader_env["VAE_FID_WEIGHTS"])
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    clean.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(WeightsError, match="never accepted in GitHub Actions"):
        load_weights()


def test_missing_explicit_file_says_so(clean, tmp_path):
    clean.setenv("VAE_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(WeightsError, match="no such file"):
        load_weights()


def test_hub_cache_is_used_under_the_official_name(clean, grader_env, tmp_path):
    cached = weights.hub_path()
    assert cached == tmp_path / "torch" / "hub" / "checkpoints" / OFFICIAL_NAME
    cached.parent.mkdir(parents=True)
    cached.symlink_to(grader_env["VAE_FID_WEIGHTS"])
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    assert load_weights().path == cached


def test_failed_download_names_the_file_and_where_to_put_it(clean, tmp_path):
    # The real download code runs; a proxy on a closed loopback port makes it fail at once, offline.
    for key in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        clean.setenv(key, "http://127.0.0.1:9")
    clean.delenv("no_proxy", raising=False)
    clean.delenv("NO_PROXY", raising=False)
    with pytest.raises(WeightsError) as error:
        load_weights()
    message = str(error.value)
    assert OFFICIAL_NAME in message and str(weights.hub_path()) in message and "VAE_FID_WEIGHTS" in message
    assert not weights.hub_path().exists(), "a failed download must not leave a file behind"


def test_corrupt_weights_file_is_a_clear_error(clean, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a torch file")
    clean.setenv("VAE_FID_WEIGHTS", str(bad))
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    with pytest.raises(WeightsError, match="could not be loaded"):
        load_weights()
