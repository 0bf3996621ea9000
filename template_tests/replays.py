"""What a student could hand in instead of a generative model: replays of the digits the repository ships.
Shared by the copy tests and benchmarks/copy_calibration.py."""
import numpy as np

from tests.grader import config
from tests.grader.images import load_folder

TRAIN = load_folder(config.TRAIN_DIR)
REFERENCE = load_folder(config.REFERENCE_DIR)
SOURCES = {"training": TRAIN, "reference": REFERENCE}
KINDS = ("exact", "shifted", "noise 0.05", "noise 0.1")


def replayed(source: str, kind: str, n: int = 1000, seed: int = 0) -> np.ndarray:
    """n copies of shipped digits as a cheating decoder would return them: exact, shifted by up to 2 px in each
    direction, or with Gaussian noise of sigma 0.05 or 0.1 (then clipped and stored as 8-bit, like samples)."""
    rng = np.random.default_rng(seed)
    bank = SOURCES[source]
    images = bank[rng.integers(0, len(bank), n)] if len(bank) < n else bank[rng.permutation(len(bank))[:n]]
    if kind == "shifted":
        return np.stack([np.roll(im, tuple(rng.integers(-2, 3, 2)), (0, 1)) for im in images])
    if kind.startswith("noise"):
        noisy = images / 255 + rng.normal(0, float(kind.split()[1]), images.shape)
        return np.rint(np.clip(noisy, 0, 1) * 255).astype(np.uint8)
    return images
