"""A deterministic stand-in for the FID Inception weights, for the project's own tests only.

The official file cannot be downloaded where these tests run. The stand-in has the exact architecture and
state-dict keys of pytorch-fid's FID Inception, with He-normal convolutions from a fixed seed, so the whole
pipeline (verification, loading, features, caching, distances) runs for real. Its numbers are not FIDs: every
result computed with it is labelled UNOFFICIAL, and the grader refuses it unless VAE_ALLOW_UNOFFICIAL_WEIGHTS=1.

    python -m template_tests.standin_weights /tmp/torch/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth
"""
import sys
from pathlib import Path
from unittest import mock

import torch
from pytorch_fid import inception

SEED = 0
# The network is positively homogeneous (ReLU, pooling, BatchNorm at its identity init), so scaling the first
# convolution scales every feature. 4 puts the 1-minute baseline near FID 70, so that scores below 100 and above 0
# are exercised.
FEATURE_SCALE = 4.0


def standin_state_dict() -> dict:
    # fid_inception_v3() would download the official file: hand it nothing and keep the fresh modules instead.
    with mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: None), \
            mock.patch.object(torch.nn.Module, "load_state_dict", lambda *a, **k: None):
        net = inception.fid_inception_v3()
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for param in net.parameters():
            if param.dim() == 4:  # He-normal keeps activations from vanishing through 90+ layers
                std = (2.0 / param[0].numel()) ** 0.5
                param.copy_(torch.randn(param.shape, generator=generator) * std)
        net.Conv2d_1a_3x3.conv.weight.mul_(FEATURE_SCALE)
    return net.state_dict()


def write_standin(path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(standin_state_dict(), path)
    return path


if __name__ == "__main__":
    print(write_standin(Path(sys.argv[1])))
