"""Does the model generate digits, or replay digits that the repository ships?

FID cannot tell: replayed real digits score like real digits. So every real digit a student can read is put in
a bank, as sets of 100 images with 10 per class: the training set, and the 1,000 reference digits cut into 10
such sets. For a sample x and each set S, d(x, S) is the smallest RMSE to any image of S over shifts of up to
2 px (a shifted copy is still a copy). A new digit is about as close to one set as to any other; a copy of a digit
of set S is far closer to S than to the rest:

    ratio(x) = min over S of d(x, S) / median over the other sets S' of d(x, S')

and x counts as a near-copy of the set that gives the minimum when ratio(x) < COPY_RATIO. Comparing sets of equal
size with each other needs no digit kept secret: it holds however many sets there are. Calibration: README.
"""
from dataclasses import dataclass

import numpy as np
import torch

from . import config

SET_SIZE = 100
FOLDERS = {"training": "data/train/", "reference": "tests/reference/"}  # what a student would have copied


@dataclass
class CopyReport:
    fraction: float            # share of samples that are near-copies of some shipped digit
    by_folder: dict            # "training" | "reference" -> share of samples that copy a digit of that folder
    ratios: np.ndarray         # ratio(x) per sample
    distances: np.ndarray      # d(x, S) per sample and set, the training set first

    def training_ratios(self) -> np.ndarray:
        """Per sample, d(x, training set) / median of d(x, S) over the other sets: how much closer x lies to the
        training digits than to other real digits (under COPY_RATIO: a near-copy of a training digit)."""
        return self.distances[:, 0] / np.clip(np.median(self.distances[:, 1:], axis=1), 1e-12, None)

    def copied(self) -> str:
        """Which folders were copied, most first: 'tests/reference/ 71.0%, data/train/ 2.0%'."""
        shares = sorted(((share, FOLDERS[name]) for name, share in self.by_folder.items() if share), reverse=True)
        return ", ".join(f"{folder} {share:.1%}" for share, folder in shares)


def shipped_sets(train: np.ndarray, reference: np.ndarray) -> dict[str, np.ndarray]:
    """{name: uint8 [100, H, W]}: the training set, then the reference set cut into 10 sets of 10 per class
    (it is stored class by class, 100 of each, so every 10th image starting at k is one such set)."""
    sets = {"training": train}
    step = len(reference) // SET_SIZE
    sets.update({f"reference-{k}": reference[k::step] for k in range(step)})
    return sets


def shifted(images: np.ndarray, px: int) -> torch.Tensor:
    """[N, H, W] uint8 -> [(2px+1)^2, N, H*W] float in [0, 1]. The digits keep a black frame, so a
    circular roll of <= 2 px equals a shift with zero fill (ink lies in rows and columns 3-29 of 32)."""
    x = torch.from_numpy(images).float().div(255)
    rolls = [torch.roll(x, (dy, dx), dims=(1, 2)) for dy in range(-px, px + 1) for dx in range(-px, px + 1)]
    return torch.stack(rolls).flatten(2)


@torch.inference_mode()
def set_distances(samples: np.ndarray, sets: dict[str, np.ndarray]) -> np.ndarray:
    """d(x, S) for every sample and set: float [N, len(sets)], RMSE in [0, 1] pixel units."""
    x = torch.from_numpy(samples).float().div(255).flatten(1)
    x_sq = (x ** 2).sum(1, keepdim=True)
    out = []
    for images in sets.values():
        bank = shifted(images, config.MEMORISATION_SHIFT_PX).flatten(0, 1)
        sq = x_sq + (bank ** 2).sum(1) - 2 * x @ bank.T
        out.append(sq.clamp_min(0).min(1).values)
    return torch.stack(out, 1).div(x.shape[1]).sqrt().double().numpy()


def copy_report(samples: np.ndarray, train: np.ndarray, reference: np.ndarray) -> CopyReport:
    sets = shipped_sets(train, reference)
    d = set_distances(samples, sets)
    nearest = d.argmin(1)
    others = np.ma.masked_array(d, mask=np.eye(len(sets), dtype=bool)[nearest])
    ratios = d.min(1) / np.clip(np.ma.median(others, axis=1).filled(np.nan), 1e-12, None)
    copied = ratios < config.COPY_RATIO
    folder_of = np.array([name.split("-")[0] for name in sets])[nearest]
    by_folder = {folder: float((copied & (folder_of == folder)).mean()) for folder in FOLDERS}
    return CopyReport(float(copied.mean()), by_folder, ratios, d)
