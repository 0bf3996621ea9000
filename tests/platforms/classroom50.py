"""Assignment 09 (VAE), graded on Classroom 50: the program Classroom 50's runner starts in each student's checkout.
`python -m instructor bundle` copies it into the bundle as autograder.py, beside the bundle's own grader; the
runner starts it as `python autograder.py` with the checkout as working directory. Nothing here runs from this
repository itself.

The story: install the grader's pinned packages (skipped when they are there) -> grade the checkout with the
grader and the digits of this bundle, never the student's tests/ -> write ./result.json (classroom50/result/v1),
./release-body.md, the sample grid and result_autograding.csv (for the assignment's release_assets), and
status/summary for the commit status. A stage that fails is the student's zero, with its one-line reason; the exit
code is non-zero only when grading itself could not run (then Classroom 50 records an error, not a grade).
"""
import datetime
import json
import os
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundle's tests/grader, not the student's tests/ in the working directory
CHECKOUT = Path.cwd()
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # the CPU wheels: a fraction of the default CUDA build
FROM_TORCH_INDEX = ("torch", "torchvision")
SCHEMA = "classroom50/result/v1"


def pinned() -> dict[str, str]:
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return dict(line.split("==") for line in lines if "==" in line and not line.startswith("#"))


def missing(pins: dict[str, str]) -> list[str]:
    """The pins not installed at their version (a local tag such as +cpu does not count)."""
    absent = []
    for name, version in pins.items():
        try:
            if metadata.version(name).split("+")[0] != version:
                absent.append(name)
        except metadata.PackageNotFoundError:
            absent.append(name)
    return absent


def install(names: list[str], pins: dict[str, str]) -> None:
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    groups = [([n for n in names if n in FROM_TORCH_INDEX], ["--index-url", TORCH_INDEX]),
              ([n for n in names if n not in FROM_TORCH_INDEX], [])]
    for group, options in groups:
        if group:
            subprocess.run([*pip, *options, *(f"{n}=={pins[n]}" for n in group)], check=True)


def grade_checkout():
    import tests.grader
    from tests.grader.pipeline import grade
    if HERE not in Path(tests.grader.__file__).resolve().parents:  # the bundle's grader, never the student's
        raise RuntimeError(f"imported the grader from {tests.grader.__file__}, not from {HERE}")
    # The shipped features (bundle.ship_features) are spot-checked like any cache.
    return grade(CHECKOUT, sample_dir=CHECKOUT / "data" / "sample", result_csv=CHECKOUT / "result_autograding.csv",
                 cache_dir=HERE / "features", of_record=True)


def stage_tests(result, earned: int) -> list[dict]:
    """One entry per stage (0 points, passed or not, with its reason), then the score itself, of 100, carrying
    every number the grader measured."""
    from tests.grader.stages import STAGE_NAMES
    failed = STAGE_NAMES.index(result.stage) if result.stage in STAGE_NAMES else len(STAGE_NAMES)
    tests = []
    for k, stage in enumerate(STAGE_NAMES):
        entry = {"test-name": stage, "passed": k < failed, "score": 0, "max-score": 0}
        if k == failed:
            entry["reason"] = result.reason
        elif k > failed:
            entry["reason"] = "not run: an earlier stage failed"
        tests.append(entry)
    numbers = {name: value for name, value in result.values().items()
               if name not in ("status", "stage", "reason", "score")}
    tests.append({"test-name": "score = round(clamp(100 - FID, 0, 100))", "passed": result.ok,
                  "score": earned, "max-score": 100, **numbers})
    return tests


def result_json(result, earned: int) -> dict:
    env = os.environ
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "schema": SCHEMA,
        "classroom": env.get("CLASSROOM", ""),
        "assignment": env.get("ASSIGNMENT", ""),
        "owner": env.get("OWNER") or env.get("USERNAME", ""),          # the runner stamps its own over these
        "assignment_type": env.get("ASSIGNMENT_TYPE", "individual"),
        "submission": env.get("SUBMISSION_TAG", ""),
        "commit": env.get("COMMIT_URL", ""),
        "release": env.get("RELEASE_URL", ""),
        "review": env.get("REVIEW_URL") or env.get("COMMIT_URL", ""),
        "datetime": now,
        "graded_at": now,
        "score": earned,
        "max-score": 100,
        "tests": stage_tests(result, earned),
    }


def main() -> int:
    started = time.perf_counter()
    pins = pinned()
    absent = missing(pins)
    if absent:
        print(f"Installing the grader's packages: {', '.join(absent)}", flush=True)
        try:
            install(absent, pins)
        except subprocess.CalledProcessError as error:
            print(f"::error::could not install the grader's packages ({error}); nothing was graded", file=sys.stderr)
            return 1
    installed = time.perf_counter() - started
    from tests.grader.feedback.report import summary_markdown, table
    from tests.grader.scoring import points
    result = grade_checkout()
    earned = points(result)
    Path("result.json").write_text(json.dumps(result_json(result, earned), indent=2) + "\n")
    footer = (f"Pictures: `samples.png` and `diagnostics.png` attached to this Release (when the assignment's "
              f"release files name them, under `data/sample/grid/`). Install {installed:.0f} s, grading "
              f"{result.seconds} s.")
    Path("release-body.md").write_text(summary_markdown(result, footer=footer))
    why_not = result.problem()
    summary = why_not or f"FID {result.fid:.2f}"
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as f:
            f.write(f"status={'failure' if why_not else 'success'}\n")
            f.write(f"summary={earned}/100: {' '.join(summary.split())[:200]}\n")
    print(table(result), flush=True)
    print(f"\nPoints {earned}/100" + (f" ({why_not})" if why_not else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
