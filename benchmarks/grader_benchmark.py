"""How fast and how stable is the grade? Prints a Markdown table; nothing here is a pass/fail test.

    python benchmarks/grader_benchmark.py [--submission DIR] [--seeds 5] [--sizes 500,1000]

DIR holds encoder.pth, latent.pth, decoder.pth, model.py and result.csv (default: the repository root, after
running the notebook). Uses the Inception weights the grader would use; with none available it builds the
test suite's stand-in in a temporary folder and says so (then the FIDs are stand-in units, the times are real).
Targets on 2 cores: warm grading <= 60 s, >= 1.5x faster than pytorch-fid's CLI, score spread <= 2 points.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.grader import config  # noqa: E402
from tests.grader.fid import build_inception, cached_features, features, frechet_distance  # noqa: E402
from tests.grader.images import save_folder, to_uint8  # noqa: E402
from tests.grader.pipeline import grade  # noqa: E402
from tests.grader.report import score_from_fid  # noqa: E402
from tests.grader.sampling import check_samples, run_worker  # noqa: E402
from tests.grader.weights import WeightsError, load_weights  # noqa: E402


def ensure_weights(scratch: Path) -> str:
    try:
        return load_weights().label
    except WeightsError as error:
        from template_tests.standin_weights import write_standin
        print(f"no usable Inception weights ({error}); using the test suite's stand-in", file=sys.stderr)
        os.environ["VAE_FID_WEIGHTS"] = str(write_standin(scratch / "standin.pth"))
        os.environ["VAE_ALLOW_UNOFFICIAL_WEIGHTS"] = "1"
        return load_weights().label


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=ROOT)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sizes", default=f"{config.N_SAMPLES}")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        label = ensure_weights(scratch)
        weights = load_weights()
        net = build_inception(weights)
        cache = scratch / "cache"
        _, cold = timed(lambda: cached_features(net, weights, config.REFERENCE_DIR, cache))
        reference, warm = timed(lambda: cached_features(net, weights, config.REFERENCE_DIR, cache))
        rows += [("reference features, cold (1,000 images)", f"{cold:.1f} s"),
                 ("reference features, warm (from cache)", f"{warm:.2f} s")]

        n = config.N_SAMPLES
        samples, t_sample = timed(lambda: check_samples(run_worker(args.submission, n, config.SEED, 600), n))
        images = to_uint8(samples)
        feats, t_feat = timed(lambda: features(net, images))
        rows += [(f"sampling {n} images (child process, torch import included)", f"{t_sample:.1f} s"),
                 ("Inception features per image (batch 100, channels_last)", f"{1000 * t_feat / n:.0f} ms")]

        os.environ["TORCH_HOME"] = str(scratch / "torch")  # grade() caches next to the hub dir
        cached_features(net, weights, config.REFERENCE_DIR, scratch / "torch" / "vae-grader")
        cached_features(net, weights, config.TRAIN_DIR, scratch / "torch" / "vae-grader")
        result, t_grade = timed(lambda: grade(args.submission, sample_dir=scratch / "sample",
                                              result_csv=scratch / "result.csv"))
        rows.append((f"whole grading run, warm (N={n}: {result['status']}, FID {result.get('fid', float('nan')):.2f})",
                     f"{t_grade:.1f} s"))

        # pytorch-fid's CLI on the same folders (it reads the weights from the hub cache under the official name).
        hub = scratch / "torch" / "hub" / "checkpoints"
        hub.mkdir(parents=True, exist_ok=True)
        (hub / "pt_inception-2015-12-05-6726825d.pth").symlink_to(weights.path)
        save_folder(images, scratch / "samples_png")
        cli, t_cli = timed(lambda: subprocess.run(
            [sys.executable, "-m", "pytorch_fid", str(scratch / "samples_png"), str(config.REFERENCE_DIR),
             "--device", "cpu"], capture_output=True, text=True, env={**os.environ}))
        cli_fid = re.search(r"FID:\s+([-0-9.e+]+)", cli.stdout)
        rows.append((f"pytorch-fid CLI, same folders (FID {cli_fid.group(1) if cli_fid else '?'})",
                     f"{t_cli:.1f} s ({t_cli / t_grade:.1f}x the warm grading run)"))

        for size in [int(s) for s in args.sizes.split(",")]:
            scores = []
            for seed in range(1, args.seeds + 1):
                s = to_uint8(check_samples(run_worker(args.submission, size, seed, 600), size))
                scores.append(score_from_fid(frechet_distance(features(net, s), reference)))
            rows.append((f"score over {args.seeds} sampling seeds, N={size}",
                         f"{np.mean(scores):.2f} (min {min(scores):.2f}, max {max(scores):.2f}, "
                         f"spread {max(scores) - min(scores):.2f} points)"))

    print(f"\nGrader benchmark: torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} CPUs, Inception weights: {label}\n")
    print("| measurement | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
