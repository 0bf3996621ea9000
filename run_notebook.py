"""Run assignment_09.ipynb top to bottom, save it with its outputs, and say what happened.

    python run_notebook.py            (VAE_EPOCHS=2 python run_notebook.py: the whole notebook in a minute)
    python run_notebook.py --stop-after save     (only up to the cell tagged "save": train and save, for tools;
                                                  the notebook file is then left as it was)

The same as `jupyter execute --inplace assignment_09.ipynb` (the saved notebook keeps its pictures, which you
hand in with it), plus a line per section while it runs and, at the end, the files it wrote and the FID and
score, or the one-line reason there is none. On an error the notebook is saved up to the failing cell.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

ROOT = Path(__file__).resolve().parent
NOTEBOOK = ROOT / "assignment_09.ipynb"
WRITES = ("encoder.pth", "latent.pth", "decoder.pth", "result.csv", "result_autograding.csv", "data/sample")


def section_titles(notebook) -> dict:
    """Each code cell's label: the heading of the markdown cell above it."""
    titles, title = {}, "setup"
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            title = cell.source.lstrip("# ").splitlines()[0]
        elif cell.cell_type == "code":
            titles[index] = title
    return titles


def execute(notebook) -> tuple[list, str]:
    """Runs every cell in ROOT; returns (seconds per section, error line or "")."""
    titles, timings, started = section_titles(notebook), [], {}
    client = NotebookClient(notebook, timeout=None, kernel_name="python3", resources={"metadata": {"path": ROOT}})

    def on_start(cell, cell_index, **_):
        if cell.cell_type != "code":
            return
        if not timings or timings[-1][0] != titles[cell_index]:
            print(f"  running {titles[cell_index]} ...", flush=True)
        started[cell_index] = time.perf_counter()

    def on_done(cell, cell_index, **_):
        if cell_index in started:
            timings.append((titles[cell_index], time.perf_counter() - started[cell_index]))

    client.on_cell_start, client.on_cell_executed = on_start, on_done
    try:
        # The kernel's own stderr is only the Jupyter protocol's chatter; cell output comes back in the notebook.
        client.execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as error:
        return timings, f"{error.ename}: {error.evalue} (in {titles[max(started)]})"
    except DeadKernelError:
        return timings, f"the Python kernel died, out of memory perhaps (in {titles[max(started)]})"
    return timings, ""


def files_written(since: float) -> list[str]:
    found = []
    for name in WRITES:
        path = ROOT / name
        if path.is_dir() and path.stat().st_mtime >= since:
            found.append(f"{name}/ ({sum(1 for _ in path.glob('*.png'))} PNGs)")
        elif path.is_file() and path.stat().st_mtime >= since:
            size = path.stat().st_size
            found.append(f"{name} ({size / 1024:.0f} KiB)" if size >= 1024 else f"{name} ({size} bytes)")
    return found


def grade_line(since: float) -> str:
    path = ROOT / "result_autograding.csv"
    if not path.is_file() or path.stat().st_mtime < since:
        return "no grade: the notebook stopped before its FID cell"
    sys.path.insert(0, str(ROOT))
    from tests.grader.stages import Result
    result = Result.read(path)
    if not result.ok:
        return f"no score ({result.stage or '?'}): {result.reason}"
    line = f"FID {result.fid:.2f}  ->  score {result.score:.2f} / 100{result.caveat}"
    return line + (f"\n  {result.note}" if result.note else "")


def cells_through(notebook, tag: str):
    """The notebook cut after the first cell tagged tag (the grader's tools train without grading)."""
    for index, cell in enumerate(notebook.cells):
        if tag in cell.get("metadata", {}).get("tags", []):
            notebook.cells = notebook.cells[:index + 1]
            return notebook
    raise SystemExit(f"no cell of {NOTEBOOK.name} is tagged {tag!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stop-after", metavar="TAG", help="run only up to the cell with this tag; do not save")
    args = parser.parse_args(argv)
    since = time.time() - 1  # file times can be a second coarse
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if args.stop_after:
        notebook = cells_through(notebook, args.stop_after)
    print(f"Running {NOTEBOOK.name} (progress per section; the saved notebook has the details)", flush=True)
    started = time.perf_counter()
    timings, error = execute(notebook)
    if not args.stop_after:  # a cut notebook must never replace the whole one
        nbformat.write(notebook, NOTEBOOK)
    sections = {}
    for title, seconds in timings:
        sections[title] = sections.get(title, 0) + seconds
    saved = f"stopped after the cell tagged {args.stop_after!r}, not saved" if args.stop_after else \
        "saved with its outputs"
    print(f"\n{NOTEBOOK.name}: {'stopped by an error' if error else 'done'} in {time.perf_counter() - started:.0f} s,"
          f" {saved}")
    for title, seconds in sections.items():
        if seconds >= 1:
            print(f"  {seconds:6.0f} s  {title}")
    written = files_written(since)
    print("files written: " + (", ".join(written) if written else "none"))
    if error:
        print(f"error: {error.splitlines()[0] if error.strip() else 'see the notebook'}")
        print("Open the notebook to see the failing cell and its traceback.")
        return 1
    if not args.stop_after:
        print(grade_line(since))
    return 0


if __name__ == "__main__":
    sys.exit(main())
