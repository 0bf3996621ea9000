"""Find, verify and load the FID Inception weights.

Order: $VAE_FID_WEIGHTS -> torch hub cache ($TORCH_HOME/hub/checkpoints/<official name>) -> download into that
cache -> a clear error. The file is checked by its full sha256 and loaded with weights_only=True: pytorch-fid
itself would unpickle whatever sits in the cache, unchecked.
"""
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
from pytorch_fid.inception import FID_WEIGHTS_URL

from .stages import weights_label

OFFICIAL_NAME = "pt_inception-2015-12-05-6726825d.pth"
OFFICIAL_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
DOWNLOAD_TIMEOUT_S = 60


class WeightsError(RuntimeError):
    """The weights cannot be had or trusted; the message says what to do."""


@dataclass(frozen=True)
class InceptionWeights:
    path: Path
    sha256: str
    official: bool
    state_dict: dict

    @property
    def label(self) -> str:
        return weights_label(self.official)


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
            f"Download {FID_WEIGHTS_URL} by hand and save it there, or set VAE_FID_WEIGHTS=/path/to/{OFFICIAL_NAME}."
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def locate() -> Path:
    explicit = os.environ.get("VAE_FID_WEIGHTS")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsError(f"VAE_FID_WEIGHTS is set to {path}, but there is no such file.")
        return path
    path = hub_path()
    if not path.is_file():
        download(path)
    return path


def load_weights() -> InceptionWeights:
    path = locate()
    sha = sha256_of(path)
    official = sha == OFFICIAL_SHA256
    if not official:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            raise WeightsError(f"{path} is not the official FID Inception file (sha256 {sha[:12]}...); "
                               "unofficial weights are never accepted in GitHub Actions.")
        if os.environ.get("VAE_ALLOW_UNOFFICIAL_WEIGHTS") != "1":
            raise WeightsError(f"{path} is not the official FID Inception file (sha256 {sha[:12]}..., expected "
                               f"{OFFICIAL_SHA256[:12]}...). Delete it so that it is downloaded again.")
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsError(f"{path} could not be loaded as a state dict ({type(error).__name__}).") from None
    return InceptionWeights(path, sha, official, state_dict)
