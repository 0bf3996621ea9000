"""similar_to for a class of any size: the time and memory to compare every pair of --students signatures
(instructor/similarity.py), read from disk as a regrade or merge reads them. Not a test.

    python benchmarks/similarity_scale.py [--students 5000]

The signatures are of random images (what they hold does not change the cost); a few copies among them check that
the pairs are still found. Memory is numpy's peak (tracemalloc), beside the process's peak resident size.
"""
import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from instructor import similarity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    projection = similarity.projection()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / similarity.FOLDER
        folder.mkdir()
        names = [f"student-{k:05d}" for k in range(args.students)]
        before = None
        for k, name in enumerate(names):
            images = rng.random((similarity.DRAWS, 1024), dtype=np.float32) * (0.2 if k % 2 else 1)
            if k % 1000 == 1:  # a copy of the student before
                images = before + 0.005 * rng.standard_normal(images.shape).astype(np.float32)
            before = images
            np.save(folder / f"{name}.npy", images @ projection)
        size = sum(p.stat().st_size for p in folder.iterdir())
        tracemalloc.start()
        started = time.perf_counter()
        signatures = similarity.read_signatures(Path(tmp), names)
        read = time.perf_counter() - started
        found = similarity.links(signatures)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    pairs = sum(len(v) for v in found.values()) // 2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("\n| students | signatures on disk | read | every pair compared | numpy peak | process peak | pairs found |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {args.students:,} | {size / 2**20:.0f} MiB | {read:.1f} s | {seconds:.1f} s | {peak / 2**20:.0f} MiB | "
          f"{rss:.0f} MiB | {pairs} (planted: {len(range(1, args.students, 1000))}) |")


if __name__ == "__main__":
    main()
