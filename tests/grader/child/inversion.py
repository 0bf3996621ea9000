"""Child side of the stage 'learned-from' (learned_from.py judges): how well the decoder explains given real digits.
Runs in the sampling child after the graded samples and the probes exist; it never changes them.

A model knows the digits it learned from. For each digit x the grader looks for the code that explains it best,
by its own optimiser from its own starting points, a few steps of Adam towards the minimum over z of
    0.5 ||x - D(z)||^2 + 0.5 ||(z - m) / s||^2
the negative log joint of a unit-variance Gaussian decoder (vae_loss's reconstruction term) and a Gaussian prior
of the graded codes' own centre m and spread s, so that a prior of any scale or shape is asked alike. The ratios
the parent judges barely move with the number of steps (measured: 0, 10, 20 and 50 steps give the same to 0.05), so
a few suffice. The child returns the codes and the images the decoder gives at them; the parent computes the
values from those alone.
"""
import config  # the grader's folder is on the child's sys.path (worker.py)
import numpy as np
import torch


def starts(codes: torch.Tensor, samples: np.ndarray, x: torch.Tensor) -> list[torch.Tensor]:
    """Where the search begins, in the graded codes' units: the prior's centre, and the code of the graded sample
    nearest to each digit in pixels. The grader's own, both: an encoder's mean would be a better start, but one that
    knows the public digits could start the training digits well and the others badly, and so move the ratios."""
    m, s = codes.mean(0), spread(codes)
    nearest = torch.cdist(x.flatten(1), torch.from_numpy(samples).float().flatten(1)).argmin(1)
    return [torch.zeros(len(x), codes.shape[1]), (codes[nearest] - m) / s]


def spread(codes: torch.Tensor) -> torch.Tensor:
    s = codes.std(0) if len(codes) > 1 else torch.ones(codes.shape[1])
    return torch.where(s > 0, s, torch.ones_like(s))


def fit(decoder, x: torch.Tensor, u: torch.Tensor, m: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return 0.5 * (x - decoder(m + s * u)).pow(2).flatten(1).sum(1)


def energy(decoder, x: torch.Tensor, u: torch.Tensor, m: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    return fit(decoder, x, u, m, s) + 0.5 * u.pow(2).sum(1)


def gradients(decoder, x: torch.Tensor, u: torch.Tensor, m, s) -> tuple[torch.Tensor, torch.Tensor]:
    """Each digit's gradient of the fit alone (the prior term has a gradient whatever the decoder does; zeros
    where the decoder cut its output off from z), and of the whole value."""
    u = u.clone().requires_grad_(True)
    value = fit(decoder, x, u, m, s)
    grad = None
    if value.requires_grad:
        (grad,) = torch.autograd.grad(value.sum(), u, allow_unused=True)
    grad = torch.zeros_like(u) if grad is None else grad.detach().nan_to_num(0.0)
    return grad, grad + u.detach()


def search(decoder, x: torch.Tensor, u: torch.Tensor, m, s, steps: int) -> torch.Tensor:
    """Adam on every code at once (each digit's value depends on its own code only), from the best start."""
    u = u.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([u], lr=config.INVERSION_LR)
    for _ in range(steps):
        optimiser.zero_grad()
        energy(decoder, x, u, m, s).sum().backward()
        if not torch.isfinite(u.grad).all():
            raise ValueError("the decoder gives no finite gradient with respect to z")
        optimiser.step()
    return u.detach()


def invert(decoder, codes: torch.Tensor, samples: np.ndarray, digits: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """digits uint8 [K, 32, 32] -> the best codes found, in the graded codes' units [K, dim]; the decoder's images
    there, float32 [K, 1, 32, 32]; and, from each digit's best start, its value there, its value a tiny step down
    its gradient, and the norm of the fit's gradient [K] (from these the parent judges whether the decoder's
    gradients exist and point downhill, as a network's do). In the grader's sampling batches: a decoder that
    samples in batches of SAMPLE_BATCH is asked in batches of that size too."""
    torch.manual_seed(seed)  # for decoders that draw noise of their own
    codes = codes.detach().float().cpu()
    found = [invert_batch(decoder, codes, samples, digits[start:start + config.SAMPLE_BATCH])
             for start in range(0, len(digits), config.SAMPLE_BATCH)]
    return tuple(np.concatenate(arrays) for arrays in zip(*found))


def invert_batch(decoder, codes: torch.Tensor, samples: np.ndarray, digits: np.ndarray) -> tuple[np.ndarray, ...]:
    x = torch.from_numpy(digits).float().div(255)[:, None]
    m, s = codes.mean(0), spread(codes)
    begin = torch.stack(starts(codes, samples, x))
    with torch.no_grad():
        values = torch.stack([energy(decoder, x, u, m, s) for u in begin]).nan_to_num(torch.inf)
    before, pick = values.min(0)
    start = begin[pick, torch.arange(len(x))]
    with torch.enable_grad():
        fit_grad, grad = gradients(decoder, x, start, m, s)
        found = search(decoder, x, start, m, s, config.INVERSION_STEPS)
    with torch.no_grad():
        down = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
        stepped = energy(decoder, x, start - config.INVERSION_PROBE_STEP * down, m, s)
        better = energy(decoder, x, found, m, s).nan_to_num(torch.inf) < before  # Adam may overshoot: keep the best
        best = torch.where(better[:, None], found, start)
        images = decoder(m + s * best).float()
    return (best.numpy(), images.numpy(), before.numpy(), stepped.numpy(),
            fit_grad.norm(dim=1).numpy())
