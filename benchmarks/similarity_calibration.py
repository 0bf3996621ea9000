"""similar_to's calibration table (INSTRUCTORS.md, Copied from a classmate): the distance from the notebook's
baseline to copies of it that must be linked and to models trained apart that must not. Not a test.

    python benchmarks/similarity_calibration.py [--out DIR] [--baseline DIR]

Each model is made here (template_tests.submissions: train_on trains the notebook's way) and kept in --out, so a
second run only samples. --baseline is a trained copy of this repository (`python run_notebook.py`), the
template's baseline; without it the table starts from train_on's baseline, and a row says how far the two are.
The distance is similarity.distance on similarity.signature of the grader's samples (draw, seed config.SEED).
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from instructor.similarity import LINK_BELOW, distance, signature
from template_tests.submissions import TRAIN, noised_copy, train_on, widened_prior_copy
from tests.grader import config
from tests.grader.child.sampling import draw

STEPS = 600 * 4  # the notebook: 600 epochs of the 100 digits in batches of 32 (4 steps an epoch)


def models(base: Path, out: Path) -> list[tuple[str, bool, object]]:
    """(name, must link?, how to make it from its folder)."""
    return [
        ("copy + noise 0.5% of each tensor's spread", True, lambda f: noised_copy(f, base, 0.005)),
        ("copy + noise 1%", True, lambda f: noised_copy(f, base, 0.01)),
        ("copy + noise 3%", True, lambda f: noised_copy(f, base, 0.03)),
        ("copy fine-tuned 1 epoch", True, lambda f: train_on(f, TRAIN, 4, seed=1, start=base)),
        ("copy fine-tuned 5 epochs", True, lambda f: train_on(f, TRAIN, 20, seed=1, start=base)),
        ("copy, prior widened 1.2x", True, lambda f: widened_prior_copy(f, base, 1.2)),
        ("baseline, training seed 1", False, lambda f: train_on(f, TRAIN, STEPS, seed=1)),
        ("baseline, training seed 2", False, lambda f: train_on(f, TRAIN, STEPS, seed=2)),
        ("baseline 3x longer", False, lambda f: train_on(f, TRAIN, 3 * STEPS)),
        ("latent 16", False, lambda f: train_on(f, TRAIN, STEPS, "latent-16")),
        ("upsampling decoder", False, lambda f: train_on(f, TRAIN, STEPS, "upsample-conv")),
        ("MLP decoder", False, lambda f: train_on(f, TRAIN, STEPS, "mlp-decoder")),
    ]


def signature_of(folder: Path):
    return signature(draw(folder, config.N_SAMPLES, config.SEED, probe=False).images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / ".work" / "similarity-models")
    parser.add_argument("--baseline", type=Path, help="a trained copy of this repository (run_notebook.py)")
    args = parser.parse_args()
    started = time.perf_counter()
    ours = args.out / "baseline (train_on)"
    if not (ours / "decoder.pth").is_file():
        train_on(ours, TRAIN, STEPS)
    base = args.baseline or ours
    reference = signature_of(base)
    print(f"\nDistance to {'the notebook' if args.baseline else 'train_on'}'s baseline: pixel RMSE of the first "
          f"signature's draws, draw by draw; linked below {LINK_BELOW}\n")
    print("| model | must | distance | linked |\n|---|---|---|---|")
    rows = [("baseline (train_on), if --baseline is the notebook's", None, lambda f: f)] if args.baseline else []
    for name, must_link, make in rows + models(base, args.out):
        folder = ours if must_link is None else args.out / name
        if not (folder / "decoder.pth").is_file():
            make(folder)
        d = distance(signature_of(folder), reference)
        want = "-" if must_link is None else "link" if must_link else "not link"
        print(f"| {name} | {want} | {d:.4f} | {'yes' if d < LINK_BELOW else 'no'} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
