"""MNIST's 70,000 digits, the public source of every digit the repository ships, for the copy check's bank.

A student can fetch all of MNIST with one line of torchvision and replay it from decoder.pth; a copy check that
only knows the 1,100 shipped digits cannot see that. So the grader fetches MNIST the way it fetches the Inception
weights: $VAE_MNIST_DIR (a folder holding the two image files) -> the cache next to the torch hub cache
($TORCH_HOME/vae-grader/mnist) -> torchvision's downloader and mirrors into that cache -> a one-line error. Each
file is checked against torchvision's own MD5 on every load (not only after the download) and parsed straight
from its gzipped IDX form. Other files (the test suite's stand-in) are refused unless
VAE_ALLOW_UNOFFICIAL_MNIST=1, always refused in GitHub Actions, and labelled UNOFFICIAL.
"""
import gzip
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import MNIST
from torchvision.datasets.utils import check_integrity, download_url

MD5 = dict(MNIST.resources)  # torchvision's checksums: {"train-images-idx3-ubyte.gz": "f68b3c...", ...}
IMAGE_FILES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz")
DOWNLOAD_TIMEOUT_S = 60


class MnistError(RuntimeError):
    """MNIST cannot be had or trusted; the message is one line that says what to do."""


@dataclass(frozen=True)
class Mnist:
    images: np.ndarray  # uint8 [N, 32, 32]: training then test digits, padded like the shipped PNGs
    official: bool      # every file had torchvision's MD5

    @property
    def label(self) -> str:
        return f"MNIST {len(self.images):,}" + ("" if self.official else " (UNOFFICIAL stand-in)")


def cache_dir() -> Path:
    return Path(torch.hub.get_dir()).parent / "vae-grader" / "mnist"


def fetch(name: str, folder: Path) -> Path:
    """folder/name, verified by its MD5; downloaded from torchvision's mirrors if missing or damaged."""
    path = folder / name
    if check_integrity(path, MD5[name]):
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / (name + ".part")  # a download stopped halfway never takes the real name
    errors = []
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)  # urllib would otherwise wait forever on a dead network
    try:
        for mirror in MNIST.mirrors:
            try:
                download_url(mirror + name, str(folder), partial.name, MD5[name])
                os.replace(partial, path)
                return path
            except Exception as error:  # every mirror gets its chance; the message lists them
                errors.append(f"{mirror}: {type(error).__name__}")
            finally:
                partial.unlink(missing_ok=True)
    finally:
        socket.setdefaulttimeout(previous)
    state = "is damaged (MD5 mismatch)" if path.exists() else "is missing"
    raise MnistError(f"MNIST file {path} {state} and the download failed ({'; '.join(errors)}). Download "
                     f"{MNIST.mirrors[0]}{name} by hand (MD5 {MD5[name]}) and save it as {path}, or set "
                     "VAE_MNIST_DIR to the folder that holds it.")


def explicit_file(name: str, folder: Path) -> tuple[Path, bool]:
    """A file of the folder named by VAE_MNIST_DIR: (path, official). Never downloaded there."""
    path = folder / name
    if not path.is_file():
        raise MnistError(f"VAE_MNIST_DIR is set to {folder}, but {name} is not there.")
    if check_integrity(path, MD5[name]):
        return path, True
    if os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("VAE_ALLOW_UNOFFICIAL_MNIST") != "1":
        raise MnistError(f"{path} is not MNIST's file (MD5 mismatch; torchvision's is {MD5[name]}): delete it, or "
                         "unset VAE_MNIST_DIR so that MNIST is downloaded.")
    return path, False


def read_idx_images(path: Path) -> np.ndarray:
    """uint8 [count, 28, 28] from a gzipped IDX3 file (magic 2051, big-endian sizes, then raw pixels)."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise MnistError(f"{path} cannot be read ({type(error).__name__}): delete it so that it is downloaded "
                         "again.") from None
    magic, count, rows, cols = (np.frombuffer(data[:16], ">u4").tolist() + [0] * 4)[:4]
    if magic != 2051 or (rows, cols) != (28, 28) or len(data) != 16 + count * 28 * 28:
        raise MnistError(f"{path} is not an IDX file of 28x28 images: delete it so that it is downloaded again.")
    return np.frombuffer(data, np.uint8, offset=16).reshape(count, 28, 28)


def image_files() -> list[tuple[Path, bool]]:
    """MNIST's image files, each (path, official), found or downloaded in the module's order; or MnistError."""
    explicit = os.environ.get("VAE_MNIST_DIR")
    if explicit:
        return [explicit_file(name, Path(explicit).expanduser()) for name in IMAGE_FILES]
    return [(fetch(name, cache_dir()), True) for name in IMAGE_FILES]


def load_mnist() -> Mnist:
    """Every MNIST digit, or MnistError with a one-line remedy."""
    found = image_files()
    images = np.concatenate([read_idx_images(path) for path, _ in found])
    return Mnist(np.pad(images, ((0, 0), (2, 2), (2, 2))), all(official for _, official in found))
