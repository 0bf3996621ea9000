"""Stage 'copies': is a sample a near-copy of a real digit a student could have, one of the 1,100 the repository ships
or of MNIST's 70,000 (instruments/mnist.py: one line of torchvision away)? Replays come exact, shifted, noised, or
in a new pose. FID cannot tell: replayed real digits score like real digits.

Every image is cleaned the same way: divided by its ink level (a copy made fainter is brought back), pixels
fainter than INK dropped (clipped noise a cheat adds to the black background lies below it), then a Gaussian blur
of BLUR px. For a sample x and a bank digit b, d(x, b) is the
pixel RMSE between x and b posed onto x (read, cleaned and blurred as x was), after fitting that pose: rotation
within MAX_ANGLE, scale within MIN_SCALE-MAX_SCALE, shift within MAX_SHIFT px of the centres of mass. Posing b
onto x (not x onto b) resamples only b, so a copy in a new pose meets its source in the same pose, resampled
once like itself: it comes back to within rounding (bilinear) or a little more (nearest pixel). The search:
x at a few angles, both at a common size, against every bank digit in a PCA subspace, a shortlist ranked at
finer angles, then a Gauss-Newton fit of the pose for the CANDIDATES best.

A new digit is about as close to its nearest bank digit as to its NEIGHBOUR-th nearest; a copy is far closer to
the digit it came from. So

    ratio(x) = d1(x) / dk(x)      (the nearest and the k-th nearest bank digit, k = NEIGHBOUR)

and x is a near-copy of its nearest digit when ratio(x) is below the bank's threshold: the ratio that 1% of real
digits new to the bank fall below, measured on the bank itself (4,000 of its digits, each checked against the
rest; without MNIST, the 1,000 reference digits). Both distances shrink as the bank grows, but not quite together
(the 1% quantile of unseen digits rose from 0.52 to 0.57 between 1,100 and 9,000 digits), so a fixed threshold
would let the false-positive rate drift with the bank's size; a threshold measured on the bank follows it. The
k-th (not the 2nd) neighbour keeps a copy visible when its source has a twin or two in the bank (MNIST holds
near-identical digits). Calibration: README, What protects the grade; benchmarks/copy_calibration.py.
"""
import hashlib
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import config
from .images import load_folder
from .instruments.mnist import MnistError, load_mnist
from .stages import StageFailure

LEVEL_PIXELS, LEVEL_FLOOR = 10, 0.25   # an image's ink level: its 10th brightest pixel, at least 0.25
INK = 0.2                # pixel values below this (of the ink level) are background
BLUR = 0.7               # Gaussian sigma, px
SIZE = 6.7               # candidates are compared at this radius of gyration (px; the median of MNIST's digits) ...
SIZE_TOLERANCE = 1.15    # ... among bank digits within this ratio of the sample's size
# Rotations reach 32 degrees: a replay turned by 20-30 degrees (a few lines of affine_grid) is still a replay.
ANGLES = (-28, -20, -12, -6, 0, 6, 12, 20, 28)   # degrees: each sample's poses in the search of the whole bank, ...
COARSE_DIMS = 24         # ... in this many PCA directions, for a ...
SHORTLIST = 64           # ... shortlist of digits, ranked at ...
FINE_ANGLES = tuple(range(-32, 33, 2))   # ... these angles (ANGLES among them) in ...
PCA_DIMS = 64            # ... this many directions
PCA_FIT_DIGITS = 8000    # the subspace is fitted on this many bank digits, evenly spread over the bank
CANDIDATES = 8           # bank digits per sample that get the exact fit (at least NEIGHBOUR)
MAX_ANGLE, MIN_SCALE, MAX_SCALE, MAX_SHIFT = 32.0, 0.88, 1.12, 1.6   # the fit's bounds (degrees, px)
FIT_STEPS, DAMPING = 5, 0.1
ALSO_READ = ("nearest",)   # at the fitted pose, bank digits are also read this way (grid_sample modes)
NEIGHBOUR = 4
FALSE_POSITIVES = 0.01   # the threshold: this quantile of the ratio over bank digits checked against the rest ...
HELD_OUT = 4000          # ... of the bank, this many of them (evenly spread over the extra digits)
RATIO_RANGE = (0.45, 0.70)   # outside it, the bank is broken: 0.52-0.57 measured, 0.60 expected at 70,000
THREADS = 1              # on a busy 2-core machine 2 threads took 2.3x the CPU time of 1 (eigh: 27x)
SOURCES = ("training", "reference", "mnist")   # where a bank digit comes from, in order of precedence
FOLDERS = {"training": "data/train/", "reference": "tests/reference/", "mnist": "MNIST, not in this repository"}


@dataclass
class Bank:
    images: np.ndarray       # uint8 [M, 32, 32], no two alike
    source: np.ndarray       # int [M], index into SOURCES
    mean: torch.Tensor       # [1024] the PCA subspace: mean ...
    basis: torch.Tensor      # ... and [1024, PCA_DIMS] directions
    codes: torch.Tensor      # [M, PCA_DIMS] every bank digit in it, centred, at the common SIZE
    size: torch.Tensor       # [M] log radius of gyration, px
    copy_ratio: float = float("nan")   # the threshold (calibrated_ratio)
    label: str = ""          # which digits: written to result_autograding.csv (key copy_bank)


@dataclass
class CopyReport:
    fraction: float          # share of samples that are near-copies of a bank digit
    by_source: dict          # "training" | "reference" | "mnist" -> share of samples copied from there
    ratios: np.ndarray       # ratio(x) per sample
    nearest: np.ndarray      # index into bank.images of each sample's nearest digit

    def copied(self) -> str:
        """Where the copies come from, most first: 'tests/reference/ 71.0%, data/train/ 2.0%'."""
        shares = sorted(((share, FOLDERS[name]) for name, share in self.by_source.items() if share), reverse=True)
        return ", ".join(f"{folder} {share:.1%}" for share, folder in shares)


def load_bank(require_mnist: bool | None = None, cache: Path | None = None) -> Bank:
    """The grader's bank: the shipped digits and MNIST. Where the grade of record is made (require_mnist, by
    default on a GitHub runner) a missing MNIST raises MnistError; elsewhere (an offline laptop) the bank holds
    the shipped digits only, and its label says why."""
    if require_mnist is None:
        require_mnist = os.environ.get("GITHUB_ACTIONS") == "true"
    train, reference = load_folder(config.TRAIN_DIR), load_folder(config.REFERENCE_DIR)
    try:
        mnist = load_mnist()
    except MnistError as error:
        if require_mnist:
            raise
        bank = prepare_bank(train, reference, np.zeros((0, 32, 32), np.uint8), cache)
        bank.label = f"the 1,100 shipped digits only (no MNIST: {error})"
        return bank
    bank = prepare_bank(train, reference, mnist.images, cache)
    bank.label = f"the 1,100 shipped digits and {mnist.label}"
    return bank


@torch.inference_mode()
def prepare_bank(train: np.ndarray, reference: np.ndarray, extra: np.ndarray, cache: Path | None = None) -> Bank:
    """The bank: the shipped training and reference digits, then extra (MNIST's 70,000 in production), with its
    threshold. Measuring the threshold is most of the cost (4,000 digits checked): with a cache folder it is kept
    in a file named by the sha256 of the bank's digits and this check's constants, and accepted from there only
    inside RATIO_RANGE; deleting the file costs one rebuild."""
    with threads(THREADS):
        bank = indexed(train, reference, extra)
        path = cache_file(bank, cache) if cache else None
        bank.copy_ratio = cached_ratio(path)
        if bank.copy_ratio is None:
            bank.copy_ratio = calibrated_ratio(bank)
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"{bank.copy_ratio!r}\n")
    return bank


def cached_ratio(path: Path | None) -> float | None:
    """The threshold kept in path, if the file is there, readable, and inside RATIO_RANGE."""
    try:
        ratio = float(path.read_text()) if path else None
    except (OSError, ValueError):
        return None
    return ratio if ratio is not None and RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1] else None


def cache_file(bank: Bank, folder: Path) -> Path:
    constants = [INK, BLUR, SIZE, SIZE_TOLERANCE, ANGLES, COARSE_DIMS, SHORTLIST, FINE_ANGLES, PCA_DIMS,
                 PCA_FIT_DIGITS, CANDIDATES, MAX_ANGLE, MIN_SCALE, MAX_SCALE, MAX_SHIFT, FIT_STEPS, DAMPING,
                 ALSO_READ, NEIGHBOUR, FALSE_POSITIVES, HELD_OUT]
    key = hashlib.sha256(bank.images.tobytes() + bank.source.astype(np.uint8).tobytes() + repr(constants).encode())
    return Path(folder) / f"copy-threshold-{key.hexdigest()[:32]}.txt"


@torch.inference_mode()
def copy_report(samples: np.ndarray, bank: Bank) -> CopyReport:
    """samples: uint8 [N, 32, 32] as the grader stores them."""
    with threads(THREADS):
        d, found = distances(samples, bank)
    nearest = found[:, 0].numpy()
    ratios = (d[:, 0] / d[:, NEIGHBOUR - 1].clamp_min(1e-12)).double().numpy()
    copied = ratios < bank.copy_ratio
    source = bank.source[nearest]
    by_source = {name: float((copied & (source == k)).mean()) for k, name in enumerate(SOURCES)}
    return CopyReport(float(copied.mean()), by_source, ratios, nearest)


def check_copies(copies: CopyReport) -> None:
    """The stage's verdict: StageFailure('copies', one line) when more than COPIES_MAX_FRACTION of the samples
    are near-copies."""
    if copies.fraction > config.COPIES_MAX_FRACTION:
        raise StageFailure("copies", f"{copies.fraction:.0%} of the samples are near-copies of real digits "
                                     f"(copied from {copies.copied()}; limit {config.COPIES_MAX_FRACTION:.0%}): "
                                     "the model replays real digits instead of generating new ones.")


def calibrated_ratio(bank: Bank) -> float:
    """The ratio below which FALSE_POSITIVES of real digits fall, measured on HELD_OUT bank digits (MNIST's; the
    reference digits' when there is no MNIST), each checked against the bank without it. Real digits new to the
    bank behave alike: at bank sizes from 1,100 to 9,000 digits this threshold flagged 0.7-1.7% of 1,000 unseen
    real digits."""
    extra = np.flatnonzero(bank.source == SOURCES.index("mnist"))
    if len(extra) < 1000:  # too few to measure a 1% quantile: the reference digits stand in
        extra = np.flatnonzero(bank.source == SOURCES.index("reference"))
    held_out = torch.from_numpy(extra[np.linspace(0, len(extra) - 1, min(HELD_OUT, len(extra))).astype(int)])
    d = torch.cat([distances(bank.images[part.numpy()], bank, exclude=part)[0] for part in held_out.split(500)])
    ratio = float(np.quantile((d[:, 0] / d[:, NEIGHBOUR - 1].clamp_min(1e-12)).numpy(), FALSE_POSITIVES))
    if not RATIO_RANGE[0] <= ratio <= RATIO_RANGE[1]:
        raise MnistError(f"the copy check's threshold came out at {ratio:.3f}, outside {RATIO_RANGE}: the bank of "
                         f"{len(bank.images)} digits is not what it should be (MNIST damaged or replaced?)")
    return ratio


def distances(samples: np.ndarray, bank: Bank, exclude=None):
    """Each sample's CANDIDATES fitted distances, nearest first [N, C], and the bank digits they belong to."""
    x = inked(samples)
    centre, size = frame(x)
    g = gaussian()
    x = g @ x @ g.T
    found, poses = candidates(x, centre, size, bank, exclude)
    d, order = fitted_distances(x, centre, bank, found, poses).sort(1)
    return d, torch.gather(found, 1, order)


def indexed(train, reference, extra, chunk: int = 5000) -> Bank:
    images, source = unique_digits(train, reference, extra)
    fit = resampled(images[np.linspace(0, len(images) - 1, min(PCA_FIT_DIGITS, len(images))).astype(int)], True)[0]
    mean = fit.mean(0)
    basis = torch.linalg.eigh(torch.cov((fit - mean).T).double())[1][:, -PCA_DIMS:].flip(1).float()
    codes, size = [], []
    for i in range(0, len(images), chunk):
        flat, s = resampled(images[i:i + chunk], True)
        codes.append((flat - mean) @ basis)
        size.append(s)
    return Bank(images, source, mean, basis, torch.cat(codes), torch.cat(size))


def unique_digits(*parts: np.ndarray):
    """The digits of all parts without exact duplicates, first occurrence kept, and the part each came from.
    (MNIST holds the shipped digits too: a copy must not find its own twin as a neighbour.)"""
    seen, rows, source = set(), [], []
    for label, images in enumerate(parts):
        for im in images:
            key = hashlib.sha256(im.tobytes()).digest()
            if key not in seen:
                seen.add(key)
                rows.append(im)
                source.append(label)
    return np.stack(rows), np.array(source)


@contextmanager
def threads(count: int):
    """Run the block on count torch threads, then give back the number found."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def levelled(x: torch.Tensor) -> torch.Tensor:
    """[N, 32, 32] in [0, 1] divided by its ink level, its LEVEL_PIXELS-th brightest pixel (MNIST's strokes are
    saturated, so 1 for nearly every digit: a copy made fainter is brought back)."""
    level = x.flatten(1).topk(LEVEL_PIXELS, 1).values[:, -1].clamp_min(LEVEL_FLOOR)
    return (x / level[:, None, None]).clamp_max(1)


def inked(images) -> torch.Tensor:
    """uint8 [N, 32, 32] (or floats in [0, 1]) -> float [N, 32, 32]: levelled, pixels fainter than INK dropped,
    the rest stretched back to [0, 1] (not yet blurred)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div(255) if isinstance(images, np.ndarray) else images
    return (levelled(x) - INK).clamp_min(0) / (1 - INK)


def gaussian() -> torch.Tensor:
    """[32, 32] G with G @ x @ G.T = x blurred by BLUR px."""
    at = torch.arange(32.0)
    g = torch.exp(-(at[:, None] - at[None]) ** 2 / (2 * BLUR ** 2))
    return g / g.sum(1, keepdim=True)


def frame(x: torch.Tensor):
    """Centre of mass [N, 2] (x, y px) and log radius of gyration [N] of inked images [N, 32, 32]."""
    at = torch.arange(32.0)
    mass = x.sum((1, 2)).clamp_min(1e-6)
    rows, cols = x.sum(2), x.sum(1)
    centre = torch.stack([(cols * at).sum(1), (rows * at).sum(1)], 1) / mass[:, None]
    centre = torch.where(x.sum((1, 2))[:, None] > 1e-6, centre, torch.full_like(centre, 15.5))  # black image
    spread = (cols * (at - centre[:, :1]) ** 2).sum(1) + (rows * (at - centre[:, 1:]) ** 2).sum(1)
    return centre, 0.5 * torch.log((spread / mass).clamp_min(1.0))


def resampled(images: np.ndarray, sized: bool):
    """Bank digits in the canonical frame: inked, blurred, centred, and (sized) brought to SIZE. Scale and shift
    act on rows and columns apart, so it is two matrix products per image with the blur folded in
    (= grid_sample's bilinear reading, exactly). -> [N, 1024], log size [N]."""
    x = inked(images)
    centre, size = frame(x)
    scale = torch.exp(size - math.log(SIZE)) if sized else torch.ones(len(x))
    offsets = torch.arange(32.0) - 15.5
    at = torch.arange(32.0)

    def reader(c):  # [N, 32 out, 32 in]: linear interpolation at c + scale * offset, then the blur
        points = c[:, None] + scale[:, None] * offsets
        return (1 - (points[:, :, None] - at).abs()).clamp_min(0) @ gaussian()

    rows, cols = reader(centre[:, 1]), reader(centre[:, 0])
    return (rows @ x @ cols.transpose(1, 2)).flatten(1), size


PIXELS = (torch.stack(torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="xy"), -1).view(-1, 2)
          + 0.5) / 16 - 1  # pixel centres in grid_sample's units (half frames from the centre), x then y


def posed(x: torch.Tensor, centre: torch.Tensor, angle, log_scale, shift):
    """Read x [B, C, 32, 32] around centre + shift (px), turned by angle (rad), scaled by exp(log_scale):
    [B, C, 1024], and the points read [B, 1024, 2] (grid_sample's units)."""
    scale = torch.exp(log_scale)[:, None, None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    u, v = PIXELS[None, :, :1], PIXELS[None, :, 1:]
    points = torch.cat([cos * u - sin * v, sin * u + cos * v], 2) * scale + ((centre + shift - 15.5) / 16)[:, None]
    read = F.grid_sample(x, points[:, None], mode="bilinear", padding_mode="zeros", align_corners=False)
    return read[:, :, 0], points


def candidates(x, centre, size, bank: Bank, exclude=None, chunk: int = 25):
    """For each sample, the CANDIDATES bank digits to fit and the pose to start each fit from: indices [N, C],
    (angle, log scale) [N, C, 2]. Both at the common size, in the PCA subspace: the whole bank over ANGLES in its
    first COARSE_DIMS directions gives a SHORTLIST, then FINE_ANGLES in all PCA_DIMS rank it (a thin 1 has many
    look-alikes; a few degrees decide which is its source). exclude [N]: a bank index each sample must not find
    (itself, when bank digits are checked against the rest of the bank)."""
    n = len(x)
    fine = torch.tensor([math.radians(a) for a in FINE_ANGLES])
    codes = torch.stack([(posed(x[:, None], centre, a.expand(n), size - math.log(SIZE), torch.zeros(n, 2))[0][:, 0]
                          - bank.mean) @ bank.basis for a in fine], 1)  # [N, fine angles, PCA_DIMS]
    coarse = codes[:, [FINE_ANGLES.index(a) for a in ANGLES], :COARSE_DIMS]
    bank_coarse = bank.codes[:, :COARSE_DIMS]
    bank_sq = (bank_coarse ** 2).sum(1)
    shortlist = []
    for i in range(0, n, chunk):
        c = coarse[i:i + chunk]
        d = torch.baddbmm((c ** 2).sum(2, keepdim=True) + bank_sq, c, bank_coarse.T.expand(len(c), -1, -1),
                          alpha=-2).min(1).values  # squared distances [chunk, M], nearest over ANGLES
        d.masked_fill_((size[i:i + chunk, None] - bank.size).abs() > math.log(SIZE_TOLERANCE), float("inf"))
        if exclude is not None:
            d[torch.arange(len(c)), exclude[i:i + chunk]] = float("inf")
        shortlist.append(d.topk(SHORTLIST, 1, largest=False).indices)
    shortlist = torch.cat(shortlist)  # [N, SHORTLIST]
    d, angle = torch.cdist(codes, bank.codes[shortlist]).min(1)  # [N, SHORTLIST] over the fine angles
    order = d.topk(CANDIDATES, 1, largest=False).indices
    found = torch.gather(shortlist, 1, order)
    poses = torch.stack([fine[torch.gather(angle, 1, order)], size[:, None] - bank.size[found]], 2)
    return found, poses


def fitted_distances(x, centre, bank: Bank, found, poses) -> torch.Tensor:
    """d(x, b) for each sample and candidate [N, C]: RMSE between x and b posed onto it (read, inked and blurred
    as x was), after a Gauss-Newton fit of the pose within the bounds (the best pose met counts). Posing b onto x,
    not x onto b, resamples only the bank digit: a copy that was resampled once (a new pose) then meets its
    source resampled once in the same pose, not twice. The fit linearises around x, whose gradient is fixed,
    so the normal equations are solved once per sample (Baker & Matthews' inverse compositional alignment)."""
    n, c = found.shape
    raw = torch.from_numpy(bank.images[found.flatten().numpy()]).float().div(255)[:, None]
    bank_centre = frame(inked(bank.images[found.flatten().numpy()]))[0]
    g = gaussian()
    gy, gx = (d.flatten(1) * 16 for d in torch.gradient(x, dim=(1, 2)))  # per grid unit
    u, v = PIXELS[:, 0] - (centre[:, :1] - 15.5) / 16, PIXELS[:, 1] - (centre[:, 1:] - 15.5) / 16
    # How b posed onto x changes with a small turn, zoom or move about x's centre of mass.
    jac = torch.stack([gy * u - gx * v, gx * u + gy * v, gx, gy], 1)  # [N, 4, 1024]
    jtj = jac @ jac.transpose(1, 2)
    solver = torch.linalg.inv(jtj + DAMPING * torch.diagonal(jtj, dim1=1, dim2=2).diag_embed() + 1e-6 * torch.eye(4))
    jac, solver = jac.repeat_interleave(c, 0), solver.repeat_interleave(c, 0)
    target = x.flatten(1).repeat_interleave(c, 0)
    # pose of b: turned by angle, scaled by exp(log_scale) (both as read: the inverse of what is seen), moved
    lower = torch.tensor([-math.radians(MAX_ANGLE), -math.log(MAX_SCALE), -MAX_SHIFT, -MAX_SHIFT])
    upper = torch.tensor([math.radians(MAX_ANGLE), -math.log(MIN_SCALE), MAX_SHIFT, MAX_SHIFT])
    p = torch.cat([-poses.reshape(-1, 2), torch.zeros(n * c, 2)], 1)
    p = torch.maximum(torch.minimum(p, upper), lower)
    around = ((centre - 15.5) / 16).repeat_interleave(c, 0)  # x's centre of mass, grid units
    best, best_p = torch.full((n * c,), float("inf")), p

    def posed_bank(p, mode="bilinear"):
        scale, cos, sin = torch.exp(p[:, 1:2]), torch.cos(p[:, :1]), torch.sin(p[:, :1])
        uu, vv = PIXELS[None, :, 0] - around[:, :1], PIXELS[None, :, 1] - around[:, 1:]
        points = torch.stack([cos * uu - sin * vv, sin * uu + cos * vv], 2) * scale[:, :, None] \
            + ((bank_centre + p[:, 2:] - 15.5) / 16)[:, None]
        read = F.grid_sample(raw, points[:, None], mode=mode, padding_mode="zeros", align_corners=False)
        return (g @ inked(read.view(-1, 32, 32).clamp(0, 1)) @ g.T).flatten(1)  # cleaned after the reading, as x

    for step in range(FIT_STEPS + 1):
        residual = target - posed_bank(p)
        error = (residual ** 2).mean(1)
        better = error < best
        best, best_p = torch.where(better, error, best), torch.where(better[:, None], p, best_p)
        if step == FIT_STEPS:
            break
        turn, zoom, move = (solver @ (jac @ residual[..., None]))[..., 0].split([1, 1, 2], 1)
        scale, cos, sin = torch.exp(p[:, 1:2]), torch.cos(p[:, :1]), torch.sin(p[:, :1])
        move = 16 * scale * torch.cat([cos * move[:, :1] - sin * move[:, 1:], sin * move[:, :1] + cos * move[:, 1:]], 1)
        p = p + torch.cat([turn, zoom, move], 1)
        p = torch.maximum(torch.minimum(p, upper), lower)
    for mode in ALSO_READ:  # a copy posed with another resampling meets its source read that way
        best = torch.minimum(best, ((target - posed_bank(best_p, mode)) ** 2).mean(1))
    return best.sqrt().view(n, c)
