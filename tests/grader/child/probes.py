"""Child side of the stage 'generated' (generated.py judges): the decoder's output near the codes that drew the
graded samples. Runs in the sampling child after the graded samples exist; it never changes them.

A network is continuous in its code z: shrink a step in z and the change of its image shrinks in proportion. A
decoder that stores digits and returns them cannot do that: picked by a hash of z it jumps to another whole digit
however small the step; picked by the nearest stored code it stands still over most small steps and jumps at the
borders between codes. Two probes, each rerunning the grader's own sampling loop (sample.batches: fresh generator,
global seed, Latent.sample in the grader's batches) and only moving the codes before they reach the decoder, so that
noise a prior or decoder draws from torch's global RNG is the same in every pass:
  probe():  z, z + SMALL*u, z + LARGE*u -> does the image stand still, jump, or change in proportion?
  cliffs(): bisect z -> z + SPAN*u LEVELS times, always into the half that changed more -> is a whole-digit change
            left in the last, tiny interval (a border between stored digits)?
Steps are in units of the graded codes' own spread (each dimension's standard deviation), so a prior of any scale
or shape is probed alike. Calibration: README, What protects the grade.
"""
import config  # the grader's folder is on the child's sys.path (worker.py)
import numpy as np
import torch
from sample import batches


def directions(codes: torch.Tensor, seed: int, n: int) -> torch.Tensor:
    """n random unit directions, stretched by each dimension's spread over the graded codes."""
    scale = codes.double().std(0) if len(codes) > 1 else torch.ones(codes.shape[1], dtype=torch.float64)
    if not scale.any():
        scale = torch.ones_like(scale)
    u = torch.randn(n, codes.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return u / u.norm(dim=1, keepdim=True) * scale


def decode_moved(latent, decoder, seed: int, shifts: torch.Tensor, total: int, batch: int) -> np.ndarray:
    """The grader's sampling loop (total codes in batches of batch) for the first len(shifts) codes, each moved by its
    shift before decoding; len(shifts) is a multiple of batch, so the decoder sees the same batches."""
    moved = batches(latent.sample, decoder, total, seed, batch, shifts)
    return torch.cat([x.float().cpu() for _, x in moved]).numpy()


@torch.no_grad()
def probe(latent, decoder, codes: torch.Tensor, seed: int, samples: np.ndarray, batch: int) -> np.ndarray:
    """float32 [3, P, 1, 32, 32]: the images at z (the graded samples themselves), z + SMALL*u and z + LARGE*u for
    the first P graded codes."""
    points = min(config.PROBE_POINTS, len(codes))
    u = directions(codes, seed, points)
    moved = [decode_moved(latent, decoder, seed, step * u, len(codes), batch)
             for step in (config.PROBE_SMALL, config.PROBE_LARGE)]
    return np.stack([np.asarray(samples[:points], np.float32), *moved])


@torch.no_grad()
def cliffs(latent, decoder, codes: torch.Tensor, seed: int, batch: int) -> np.ndarray:
    """float32 [2, P, 1, 32, 32]: for the first P graded codes, the images at both ends of the last interval of a
    bisection of z -> z + SPAN*u that always follows the half whose image changed more."""
    points = min(config.CLIFF_POINTS, len(codes))
    u = directions(codes, seed + 1, points)

    def at(t):
        return torch.from_numpy(decode_moved(latent, decoder, seed, t[:, None] * u, len(codes), batch)).double()

    def change(x, y):
        return (x - y).flatten(1).norm(dim=1)

    a, b = torch.zeros(points, dtype=torch.float64), torch.full((points,), config.CLIFF_SPAN, dtype=torch.float64)
    xa, xb = at(a), at(b)
    for _ in range(config.CLIFF_LEVELS):
        m = (a + b) / 2
        xm = at(m)
        left = change(xa, xm) >= change(xm, xb)
        keep = left[:, None, None, None]
        a, b = torch.where(left, a, m), torch.where(left, m, b)
        xa, xb = torch.where(keep, xa, xm), torch.where(keep, xm, xb)
    return torch.stack([xa, xb]).float().numpy()
