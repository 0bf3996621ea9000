"""The loss the notebook teaches, taken from its cell tagged 'loss', against numbers worked out by hand."""
import json
from pathlib import Path

import pytest
import torch

NOTEBOOK = Path(__file__).resolve().parent.parent / "assignment_09.ipynb"


@pytest.fixture(scope="module")
def vae_loss():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    tagged = [c for c in cells if "loss" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "the notebook must have exactly one cell tagged 'loss'"
    namespace = {"torch": torch}
    exec("".join(tagged[0]["source"]), namespace)
    return namespace["vae_loss"]


def test_loss_matches_a_case_worked_by_hand(vae_loss):
    # Two images of 4 pixels, a 2-d latent.
    x = torch.tensor([[1.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 1.0]]).view(2, 1, 2, 2)
    x_hat = torch.tensor([[0.5, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 1.0]]).view(2, 1, 2, 2)
    mu = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    logvar = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    # reconstruction: image 1: 0.5 * (0.25 + 0 + 0 + 0.25) = 0.25; image 2: 0.5 * 1 = 0.5; batch mean 0.375
    # KL with sigma = 1: 0.5 * sum(mu^2): image 1: 0.5, image 2: 2.0; batch mean 1.25
    total, reconstruction, kl = vae_loss(x, x_hat, mu, logvar, beta=1.0)
    assert reconstruction.item() == pytest.approx(0.375)
    assert kl.item() == pytest.approx(1.25)
    assert total.item() == pytest.approx(1.625)
    assert vae_loss(x, x_hat, mu, logvar, beta=0.5)[0].item() == pytest.approx(0.375 + 0.625)


def test_kl_of_a_narrow_posterior(vae_loss):
    # sigma^2 = e^-2 at mu = 0: KL = -0.5 * (1 - 2 - 0 - e^-2) per dimension = 0.5 * (1 + e^-2)
    mu, logvar = torch.zeros(1, 3), torch.full((1, 3), -2.0)
    x = torch.zeros(1, 1, 2, 2)
    _, _, kl = vae_loss(x, x, mu, logvar)
    assert kl.item() == pytest.approx(3 * 0.5 * (1 + torch.exp(torch.tensor(-2.0)).item()))


def test_kl_is_zero_only_at_the_prior(vae_loss):
    x = torch.zeros(4, 1, 2, 2)
    assert vae_loss(x, x, torch.zeros(4, 8), torch.zeros(4, 8))[2].item() == 0
    assert vae_loss(x, x, torch.full((4, 8), 0.1), torch.zeros(4, 8))[2].item() > 0
