"""Does the model generate digits, or replay its 100 training images?

FID cannot tell: a decoder that replays the training set scores like real digits against held-out digits.
So, for each sample x:  ratio(x) = d(x, training set) / d(x, held-out set),
with d the smallest RMSE over the set and over shifts of up to 2 px (so a shifted copy is still a copy), and the
held-out set the same size as the training set (100 reference digits, 10 per class). A fresh digit is about as
close to either set (ratio ~ 1); a copy of a training image is far closer to it (ratio ~ 0). Calibration: README.
"""
import numpy as np
import torch

from . import config


def shifted(images: np.ndarray, px: int) -> torch.Tensor:
    """[N, H, W] uint8 -> [(2px+1)^2 * N, H*W] float in [0, 1]. The digits have >= 4 px of black margin, so a
    circular roll of <= 2 px equals a shift with zero fill."""
    x = torch.from_numpy(images).float().div(255)
    rolls = [torch.roll(x, (dy, dx), dims=(1, 2)) for dy in range(-px, px + 1) for dx in range(-px, px + 1)]
    return torch.cat(rolls).flatten(1)


def nearest_rmse(samples: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Smallest RMSE from each sample [N, D] to any row of bank [M, D]."""
    sq = (samples ** 2).sum(1, keepdim=True) + (bank ** 2).sum(1) - 2 * samples @ bank.T
    return sq.clamp_min(0).min(1).values.div(samples.shape[1]).sqrt()


def copy_ratios(samples: np.ndarray, train: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(samples).double().div(255).flatten(1)
    px = config.MEMORISATION_SHIFT_PX
    d_train = nearest_rmse(x, shifted(train, px).double())
    d_held = nearest_rmse(x, shifted(held_out, px).double())
    return (d_train / d_held.clamp_min(1e-12)).numpy()


def held_out_subset(reference: np.ndarray) -> np.ndarray:
    """Every 10th reference digit: 100 images, 10 per class (the reference set is stored class by class)."""
    return reference[::10]


def memorised_fraction(samples: np.ndarray, train: np.ndarray, reference: np.ndarray) -> float:
    ratios = copy_ratios(samples, train, held_out_subset(reference))
    return float((ratios < config.MEMORISATION_RATIO).mean())
