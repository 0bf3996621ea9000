"""Submissions the tests grade: the baseline (untrained, or with code added to model.py), and what a student could
hand in instead of a generative model, replays of the digits the repository ships. Shared by the tests and
benchmarks/copy_calibration.py."""
import importlib.util
from pathlib import Path

import numpy as np
import torch

from tests.grader import config
from tests.grader.images import load_folder

BASE_MODEL = (config.ROOT / "model.py").read_text()

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


def make_submission(folder: Path, extra_code: str = "", fill=None) -> Path:
    """A submission whose model.py is the baseline plus extra_code, with state dicts that fit it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(BASE_MODEL + "\n" + extra_code)
    spec = importlib.util.spec_from_file_location(f"variant_{abs(hash(str(folder)))}", folder / "model.py")
    variant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variant)
    torch.manual_seed(0)
    modules = {"encoder": variant.Encoder(), "latent": variant.Latent(), "decoder": variant.Decoder()}
    if fill:
        fill(modules)
    for name, module in modules.items():
        torch.save(module.state_dict(), folder / f"{name}.pth")
    (folder / "result.csv").write_text("epoch,loss,reconstruction,kl,fid\n1,30.0,29.0,1.0,\n")
    return folder


REPLAY = """
class Decoder(Decoder):
    # Stores real digits and returns one of them, picked by the code: what a student could try.
    def __init__(self):
        super().__init__()
        self.register_buffer("bank", torch.zeros(%d, 1, 32, 32))

    def forward(self, z):
        return self.bank[(z[:, 0] * 1e4).long().abs() %% len(self.bank)]
"""


def replay_submission(folder: Path, images: np.ndarray) -> Path:
    """A model.py whose decoder holds images (uint8 [N, 32, 32]) and returns them."""
    bank = torch.from_numpy(images).float().div(255)[:, None]
    return make_submission(folder, REPLAY % len(images), fill=lambda m: m["decoder"].bank.copy_(bank))
