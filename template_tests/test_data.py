"""The committed images are exactly the documented ones: count, format, checksums, and no overlap."""
import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SETS = {"train": (ROOT / "data" / "train", 100), "reference": (ROOT / "tests" / "reference", 1000)}
MANIFEST_SHA256 = {
    "train": "0abd8242976786126d9293342488c2f486679132f5f4a59dd21879904aa63537",
    "reference": "15c26d787412c7f0f19d45473fe2c8454db6f0177593144717e7271fab8bd1a2",
}


def pixel_hashes(folder):
    return {hashlib.sha256(np.asarray(Image.open(p)).tobytes()).hexdigest() for p in sorted(folder.glob("*.png"))}


@pytest.mark.parametrize("name", SETS)
def test_count_size_and_mode(name):
    folder, count = SETS[name]
    files = sorted(folder.glob("*.png"))
    assert len(files) == count
    for p in files:
        with Image.open(p) as im:
            assert (im.mode, im.size) == ("L", (32, 32)), p.name
            # The 2-pixel black frame added around every 28x28 digit.
            a = np.asarray(im)
            assert not a[:2].any() and not a[-2:].any() and not a[:, :2].any() and not a[:, -2:].any(), p.name


@pytest.mark.parametrize("name", SETS)
def test_checksums_match_manifest(name):
    folder, _ = SETS[name]
    manifest = (folder / "SHA256SUMS").read_bytes()
    assert hashlib.sha256(manifest).hexdigest() == MANIFEST_SHA256[name], "SHA256SUMS changed"
    listed = dict(reversed(line.split("  ")) for line in manifest.decode().splitlines())
    assert sorted(listed) == sorted(p.name for p in folder.glob("*.png"))
    for name_, digest in listed.items():
        assert hashlib.sha256((folder / name_).read_bytes()).hexdigest() == digest, name_


def test_training_and_reference_sets_are_disjoint_and_distinct():
    train, reference = (pixel_hashes(SETS[n][0]) for n in ("train", "reference"))
    assert len(train) == 100 and len(reference) == 1000, "pixel-identical images inside a set"
    assert not train & reference


@pytest.mark.parametrize("name", SETS)
def test_labels_name_every_image_class_by_class(name):
    folder, count = SETS[name]
    rows = (folder / "labels.csv").read_text().splitlines()
    assert rows[0] == "file,label"
    files, labels = zip(*(r.split(",") for r in rows[1:]))
    assert list(files) == sorted(p.name for p in folder.glob("*.png"))
    assert [int(label) for label in labels] == [k * 10 // count for k in range(count)]  # stored class by class
