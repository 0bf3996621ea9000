"""The template's baseline, for similar_to: the model this checkout's notebook trains when nobody changes it,
sampled as the grader samples. A student who pushes it untouched is named, apart from classmates' copies.

The regrade gets it once per class (`--baseline`): trained here with `python run_notebook.py` (the first time on
this machine: minutes; its samples are then cached under the grader's cache folder, keyed by the notebook,
model.py, the training digits, torch and the grader's N and seed, so that a new signature needs no training), or
sampled from a trained copy of this repository given as DIR, or not at all (`none`). OUT_DIR keeps it
(template-baseline.npy, and template-baseline.txt saying which), so that a rerun and `merge` use the same one.

A baseline trained on another machine is not bit-identical to a student's (floating point sums in another order
on another CPU); how far the two drift is not measured here.
"""
import hashlib
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from instructor.similarity import signature
from tests.grader import config

ROOT = config.ROOT
FILE, NOTE = "template-baseline.npy", "template-baseline.txt"
TEMPLATE = ("model.py", "run_notebook.py", "assignment_09.ipynb", "requirements.txt", "data", "tests")


def key(n: int | None = None) -> str:
    """Changes whenever the baseline or its samples could: the files that train it, torch, the grader's N and seed."""
    import torch
    h = hashlib.sha256(f"{torch.__version__} {n or config.N_SAMPLES} {config.SEED}".encode())
    for name in ("model.py", "assignment_09.ipynb", "run_notebook.py", "data/train/SHA256SUMS"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:32]


def read_baseline(out: Path) -> np.ndarray | None:
    path = Path(out) / FILE
    return np.load(path) if path.is_file() else None


def keep_baseline(out: Path, how: str, publish) -> str:
    """Put the template's baseline signature in out (or remove it, how='none'); returns how it was got, one line.
    how: 'train' or the path of a trained copy of this repository."""
    out = Path(out)
    if how == "none":
        (out / FILE).unlink(missing_ok=True)
        (out / NOTE).unlink(missing_ok=True)
        return "the template's baseline: not compared (--baseline none)"
    wanted = f"{key()} {how}"
    note = out / NOTE
    if (out / FILE).is_file() and note.is_file() and note.read_text().splitlines()[0] == wanted:
        return note.read_text().splitlines()[1]
    if how == "train":
        images, said = trained()
    else:
        from tests.grader.child.sampling import draw
        images = draw(Path(how), config.N_SAMPLES, config.SEED, probe=False).images
        said = f"the template's baseline: sampled from {how}"
    buffer = io.BytesIO()
    np.save(buffer, signature(images))
    publish(out / FILE, buffer.getvalue())
    publish(note, f"{wanted}\n{said}\n".encode())
    return said


def cache_file(n: int | None = None) -> Path:
    from tests.grader.instruments.prepare import default_cache_dir
    return default_cache_dir() / f"template-baseline-{key(n)}.npy"


def trained() -> tuple[np.ndarray, str]:
    """The baseline's samples: from the cache, or trained now in a scratch copy of the template."""
    from tests.grader.child.sampling import draw
    cached = cache_file()
    if cached.is_file():
        return np.load(cached), f"the template's baseline: trained earlier on this machine ({cached})"
    from instructor.train import train_like_the_notebook
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="template-baseline-") as tmp:
        repo = Path(tmp)
        for name in TEMPLATE:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "sample"))
            else:
                shutil.copy2(source, repo / name)
        print("the template's baseline: training it with run_notebook.py, once (minutes) ...", flush=True)
        done = train_like_the_notebook(repo, None)
        if done.returncode != 0:
            raise RuntimeError("training the template's baseline failed: " + (done.stderr or done.stdout)[-500:])
        images = draw(repo, config.N_SAMPLES, config.SEED, probe=False).images
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.save(cached, images)
    return images, f"the template's baseline: trained here in {time.perf_counter() - started:.0f} s"
