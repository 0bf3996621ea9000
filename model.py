"""The VAE you train and hand in. Edit freely, but keep the contract below: the grader relies on it.

Contract (the grader builds each module with no arguments, loads your .pth into it, then samples):
    Encoder()(x)            x: float [B, 1, 32, 32] in [0, 1]   -> features h: [B, F]
    Latent()(h)             -> (z, mu, logvar), each [B, dim], with z = mu + exp(logvar / 2) * eps, eps ~ N(0, I)
    Latent().dim            the size of the latent code
    Latent().sample(n, generator=None) -> z: [n, dim] drawn from the prior the decoder was trained for
    Decoder()(z)            z: [B, dim] -> x_hat: float [B, 1, 32, 32] in [0, 1]

    vae_loss(x, x_hat, mu, logvar, beta) -> (total, reconstruction, kl): the negative ELBO the notebook trains with

The grader calls only Latent().sample and Decoder(): encoder.pth is checked to load, not used for sampling.
Anything a better prior needs (say, a Gaussian mixture fitted to the codes of the training images) should be
kept as registered buffers in Latent, so that it travels inside latent.pth. Before any FID, the part checks
(`python -m unittest tests/parts_test.py`) say which of these pieces is missing or wrong.
"""
import torch
from torch import nn

LATENT_DIM = 8
CHANNELS = 32
FEATURES = CHANNELS * 8 * 8  # the encoder's output size: 32 channels on an 8x8 grid


class Encoder(nn.Module):
    """x [B, 1, 32, 32] -> h [B, FEATURES]: two stride-2 convolutions take 32x32 down to 8x8."""

    def __init__(self):
        super().__init__()
        # >>> solution: Encoder layers
        # hint: nn.Sequential of Conv2d and LeakyReLU; two of stride 2 take 32x32 to 8x8 with CHANNELS channels, then
        # hint: nn.Flatten() gives h of FEATURES values
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=1, padding=1), nn.LeakyReLU(0.01),
            nn.Conv2d(16, CHANNELS, 4, stride=2, padding=1), nn.LeakyReLU(0.01),
            nn.Conv2d(CHANNELS, CHANNELS, 4, stride=2, padding=1), nn.LeakyReLU(0.01),
            nn.Conv2d(CHANNELS, CHANNELS, 3, stride=1, padding=1), nn.LeakyReLU(0.01),
            nn.Flatten(),
        )
        # <<< solution

    def forward(self, x):
        return self.net(x)


class Latent(nn.Module):
    """h -> (z, mu, logvar). Predicting log sigma^2 rather than sigma keeps the variance positive for free
    and lets the network move it over orders of magnitude with small steps."""

    def __init__(self, dim: int = LATENT_DIM):
        super().__init__()
        self.dim = dim
        self.mu = nn.Linear(FEATURES, dim)
        self.logvar = nn.Linear(FEATURES, dim)

    def forward(self, h):
        mu, logvar = self.mu(h), self.logvar(h)
        # The reparameterisation trick: the randomness enters through eps, so gradients reach mu and logvar.
        # >>> solution: the reparameterisation
        # hint: draw eps ~ N(0, I) shaped like mu (torch.randn_like), then z = mu + sigma * eps with sigma =
        # hint: exp(logvar / 2)
        eps = torch.randn_like(mu)
        z = mu + torch.exp(0.5 * logvar) * eps
        # <<< solution
        return z, mu, logvar

    def sample(self, n: int, generator: torch.Generator | None = None):
        """n codes from the prior p(z) = N(0, I) that the KL term pulled the encoder towards."""
        # Drawn on the CPU, where the grader's generator lives, then moved next to the weights.
        return torch.randn(n, self.dim, generator=generator).to(self.mu.weight.device)


class Decoder(nn.Module):
    """z [B, dim] -> x_hat [B, 1, 32, 32] in [0, 1] (the final sigmoid keeps every pixel in range)."""

    def __init__(self, dim: int = LATENT_DIM):
        super().__init__()
        # >>> solution: Decoder layers
        # hint: mirror the encoder: nn.Linear(dim, FEATURES), then ConvTranspose2d layers of stride 2 from 8x8 back to
        # hint: 32x32, one output channel, and a final nn.Sigmoid() so that pixels lie in [0, 1]
        self.fc = nn.Linear(dim, FEATURES)
        self.net = nn.Sequential(
            nn.LeakyReLU(0.01),
            nn.ConvTranspose2d(CHANNELS, CHANNELS, 3, stride=1, padding=1), nn.LeakyReLU(0.01),
            nn.ConvTranspose2d(CHANNELS, CHANNELS, 4, stride=2, padding=1), nn.LeakyReLU(0.01),
            nn.ConvTranspose2d(CHANNELS, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.01),
            nn.Conv2d(16, 1, 3, stride=1, padding=1),
            nn.Sigmoid(),
        )
        # Start at a digit's average brightness (about 10% of pixels are lit), not at grey 0.5. From grey, every
        # early gradient says "darker"; Adam then scales all layers at once until the sigmoid saturates at 0,
        # its gradient vanishes and the decoder never learns (measured: reconstruction stuck at all-black).
        nn.init.constant_(self.net[-2].bias, -2.2)
        # <<< solution

    def forward(self, z):
        # >>> solution: Decoder.forward
        # hint: the linear layer's output reshaped to [B, CHANNELS, 8, 8], then the convolutions
        return self.net(self.fc(z).view(-1, CHANNELS, 8, 8))
        # <<< solution


def vae_loss(x, x_hat, mu, logvar, beta: float = 1.0):
    """The negative ELBO per image, averaged over the batch: (total, reconstruction, KL); beta weighs the KL term
    (1 is the ELBO). Reconstruction: -log p(x|z) of a unit-variance Gaussian decoder, up to a constant: half the
    squared error, summed over pixels. KL: q(z|x) = N(mu, sigma^2) against the prior N(0, I), in closed form,
    summed over latent dimensions."""
    # >>> solution: the reconstruction term
    # hint: 0.5 * (x - x_hat) ** 2, summed over each image's pixels (flatten(1).sum(1)), then the batch mean
    reconstruction = 0.5 * (x - x_hat).pow(2).flatten(1).sum(1).mean()
    # <<< solution
    # >>> solution: the KL term
    # hint: -0.5 * (1 + logvar - mu^2 - exp(logvar)), summed over the latent dimensions, then the batch mean
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
    # <<< solution
    return reconstruction + beta * kl, reconstruction, kl
