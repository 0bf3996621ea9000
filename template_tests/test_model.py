"""model.py beyond what the part checks test (shapes, the reparameterisation, the prior, the loss: test_parts.py):
its state dicts round-trip with weights_only, and the decoder starts at a digit's brightness."""
import io

import pytest
import torch

import model


@pytest.fixture(scope="module")
def modules():
    torch.manual_seed(0)
    return model.Encoder(), model.Latent(), model.Decoder()


def test_state_dicts_round_trip_with_weights_only(modules):
    for module in modules:
        buffer = io.BytesIO()
        torch.save(module.state_dict(), buffer)
        buffer.seek(0)
        fresh = type(module)()
        fresh.load_state_dict(torch.load(buffer, weights_only=True))
        for key, value in module.state_dict().items():
            assert torch.equal(value, fresh.state_dict()[key]), key


def test_decoder_starts_near_the_average_digit_brightness(modules):
    # The guard against the sigmoid saturating in the first steps (see Decoder.__init__).
    _, _, decoder = modules
    assert 0.05 < decoder(torch.randn(64, model.LATENT_DIM)).mean() < 0.2
