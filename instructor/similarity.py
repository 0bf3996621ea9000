"""similar_to: models in a class that draw nearly the same images as another's, draw by draw.

Every submission is sampled at the same seed, so the grader hands every model the same random draws. Two models
trained apart turn the same draw into unrelated digits; a copy of a classmate's weights, even one with noise added
or fine-tuned for a while, turns it into nearly the same image. So the distance between two models is the pixel
RMSE between their samples, draw by draw, over the first DRAWS graded samples. Byte-identical weights or samples
are same_weights_as already; similar_to names the rest below LINK_BELOW, and the untouched baseline of this
checkout's notebook as "the template's baseline".

A submission keeps a signature, not its samples: each of the DRAWS images projected onto DIMS fixed random
directions (scaled so that squared lengths are kept on average: Johnson-Lindenstrauss), 25 KB, from which the RMSE
between two models is estimated to about 1/sqrt(DRAWS * DIMS) of itself. Calibration: INSTRUCTORS.md, Copied from a
classmate; benchmarks/similarity_calibration.py.
"""
from pathlib import Path

import numpy as np

DRAWS = 100        # graded samples compared, the first ones (seed config.SEED) ...
DIMS = 64          # ... each as this many random projections of its 1,024 pixels
LINK_BELOW = 0.065      # pixel RMSE, between the two calibrated sides (INSTRUCTORS.md): copies measured at most
APART_AT_LEAST = 0.097  # 0.045 (fine-tuned for an epoch), models trained apart at least this (the baseline 3x longer)
BASELINE = "the template's baseline"
FOLDER = "signatures"  # OUT_DIR/signatures/<repo>.npy: float32 [DRAWS, DIMS]
CHUNK = 1000       # rows of the distance matrix held at once: 5,000 models in a few hundred MB


def projection() -> np.ndarray:
    return (np.random.default_rng(0).standard_normal((32 * 32, DIMS)) / np.sqrt(DIMS)).astype(np.float32)


def signature(samples: np.ndarray) -> np.ndarray:
    """uint8 [N, 32, 32] graded samples, in the order drawn -> float32 [min(N, DRAWS), DIMS]."""
    pixels = samples[:DRAWS].reshape(-1, 32 * 32).astype(np.float32) / 255
    return pixels @ projection()


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Pixel RMSE between two models' samples, draw by draw, estimated from their signatures."""
    return float(np.sqrt(((a.astype(np.float64) - b) ** 2).sum() / (a.size / DIMS * 32 * 32)))


def links(signatures: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """name -> {other name: RMSE} for every pair below LINK_BELOW. Signatures of another length (a regrade at
    another N) are compared only among themselves."""
    found = {name: {} for name in signatures}
    for shape in {s.shape for s in signatures.values()}:
        names = [name for name, s in signatures.items() if s.shape == shape]
        flat = np.stack([signatures[name].ravel() for name in names]).astype(np.float32)
        flat -= flat.mean(0)  # smaller numbers: the squared distances below lose less to rounding
        squared = (flat.astype(np.float64) ** 2).sum(1)
        pixels = flat.shape[1] / DIMS * 32 * 32
        for start in range(0, len(names), CHUNK):
            block = squared[start:start + CHUNK, None] + squared[None] - 2 * (flat[start:start + CHUNK] @ flat.T)
            rmse = np.sqrt(np.clip(block, 0, None) / pixels)
            for i, j in zip(*np.nonzero(rmse < LINK_BELOW), strict=True):
                if start + i != j:
                    # the exact figure for the few pairs found: the product above rounds in float32
                    a, b = names[start + i], names[j]
                    found[a][b] = distance(signatures[a], signatures[b])
    return found


def read_signatures(folder: Path, names: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        path = Path(folder) / FOLDER / f"{name}.npy"
        if path.is_file():
            out[name] = np.load(path)
    return out


def similar_to(rows: list[dict], folder: Path) -> None:
    """Fill each row's similar_to ("bob 0.0031; the template's baseline 0.0024", nearest first) from the
    signatures under folder, and the template's baseline's, where the regrade kept one (baseline.py)."""
    from instructor.baseline import read_baseline
    signatures = read_signatures(folder, [row["repo"] for row in rows])
    baseline = read_baseline(folder)
    if baseline is not None:
        signatures = {**signatures, BASELINE: baseline}
    found = links(signatures)
    for row in rows:
        twins = set(filter(None, row.get("same_weights_as", "").split(";")))
        near = {name: d for name, d in found.get(row["repo"], {}).items() if name not in twins}
        row["similar_to"] = "; ".join(f"{name} {d:.4f}" for name, d in sorted(near.items(), key=lambda kv: kv[1]))


def groups(rows: list[dict]) -> list[list[str]]:
    """The repositories linked by similar_to, each group once, in the order of rows."""
    linked = {row["repo"]: [part.rsplit(" ", 1)[0] for part in row.get("similar_to", "").split("; ") if part]
              for row in rows}
    seen, out = set(), []
    for row in rows:
        if row["repo"] in seen or not linked[row["repo"]]:
            continue
        group, todo = [], [row["repo"]]
        while todo:
            name = todo.pop(0)
            if name in seen or name == BASELINE:
                continue
            seen.add(name)
            group.append(name)
            todo += linked.get(name, [])
        out.append(group + ([BASELINE] if any(BASELINE in linked[name] for name in group) else []))
    return out

