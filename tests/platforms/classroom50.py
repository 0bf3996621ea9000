"""Assignment 09 (VAE), graded on Classroom 50: the program Classroom 50's runner starts in each student's checkout.
`python -m instructor bundle` copies it into the bundle as autograder.py, beside the bundle's own grader; the
runner starts it as `python autograder.py` with the checkout as working directory. Nothing here runs from this
repository itself.

The story: install the grader's pinned packages (skipped when they are there) -> import the grader -> download the
Inception weights and MNIST (skipped when cached) -> load the instruments -> grade the checkout with the grader and
the digits of this bundle, never the student's tests/ -> write ./result.json (classroom50/result/v1),
./release-body.md, the sample grid and result_autograding.csv (for the assignment's release_assets), and
status/summary for the commit status. Each phase logs one line `autograder phase: NAME: SECONDS s`, and a last line
the total: what a submission costs in runner minutes, read from the job's own log. A stage that fails is the
student's zero, with its one-line reason; the exit code is non-zero only when grading itself could not run (then
Classroom 50 records an error, not a grade).
"""
import datetime
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the bundle's tests/grader, not the student's tests/ in the working directory
CHECKOUT = Path.cwd()
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # the CPU wheels: a fraction of the default CUDA build
FROM_TORCH_INDEX = ("torch", "torchvision")
# pytorch-fid's own requirements are the grader's other pins, and scipy, which only its fid_score imports (the
# grader uses its network alone): with --no-deps the job neither downloads nor unpacks scipy (~35 MB).
WITHOUT_DEPENDENCIES = ("pytorch-fid",)
# uv downloads and unpacks in parallel. Measured from PyPI into a new environment with no cache: the non-torch pins
# in 2.0 s (1.1 s of it installing uv) against pip's 5.7 s; unpacking a 555 MB torch wheel, 4.6 s against 12.7 s.
# It is fetched with pip first; if that fails, pip installs the packages itself.
UV = "uv==0.13.9"
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


class Phases:
    """The job's own clock: `with phases("name"):` logs how long the phase took, and keeps it for the Release."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - start
            print(f"autograder phase: {name}: {self.seconds[name]:.1f} s", flush=True)

    def total(self) -> float:
        return time.perf_counter() - self.started

    def line(self) -> str:
        return ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.seconds.items())


def installer() -> tuple[list[str], str]:
    """(the install command, its name): uv's when it can be had, else pip's."""
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, UV], capture_output=True).returncode == 0:
        return [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", sys.executable], UV
    return pip, "pip (uv could not be installed)"


def install(names: list[str], pins: dict[str, str]) -> str:
    """Installs names at their pins; returns which installer did it."""
    command, name = installer()
    torch_index = ["--index-url", TORCH_INDEX]
    groups = [  # PyPI's pins first, so that torchvision finds numpy and pillow at theirs
        ([n for n in names if n not in FROM_TORCH_INDEX + WITHOUT_DEPENDENCIES], []),
        ([n for n in names if n in FROM_TORCH_INDEX], torch_index),
        ([n for n in names if n in WITHOUT_DEPENDENCIES], ["--no-deps"]),
    ]
    for group, options in groups:
        if group:
            subprocess.run([*command, *options, *(f"{n}=={pins[n]}" for n in group)], check=True)
    return name


def download_weights() -> str:
    """The official Inception file into the torch cache, unless VAE_FID_WEIGHTS names one (the grader's order). A
    failure is not the job's: the grade reports it at stage 'load', with its remedy."""
    from tests.grader.instruments import weights
    if os.environ.get("VAE_FID_WEIGHTS"):
        return "VAE_FID_WEIGHTS names the file"
    try:
        return f"in {weights.official_file()}"
    except weights.WeightsError as error:
        return f"failed: {error.short}"


def download_mnist() -> str:
    """MNIST's two image files, found or downloaded in the grader's order (too large to ship: 11 MB against the
    bundle's 10 MiB). A failure is reported by the grade, at stage 'copies'."""
    from tests.grader.instruments import mnist
    try:
        return ", ".join(str(path) for path, _ in mnist.image_files())
    except mnist.MnistError as error:
        return f"failed: {error}"


def load_instruments():
    """The bundle's instruments; None if loading them crashed, so that the grade reports it at stage 'load'."""
    from tests.grader.instruments.prepare import prepare_instruments
    try:
        return prepare_instruments(HERE / "features", of_record=True)  # the shipped features, spot-checked
    except Exception:
        return None


def the_bundles_grader() -> None:
    import tests.grader
    import tests.grader.pipeline
    if HERE not in Path(tests.grader.__file__).resolve().parents:  # the bundle's grader, never the student's
        raise RuntimeError(f"imported the grader from {tests.grader.__file__}, not from {HERE}")


def grade_checkout(tools):
    from tests.grader.pipeline import grade
    return grade(CHECKOUT, sample_dir=CHECKOUT / "data" / "sample", result_csv=CHECKOUT / "result_autograding.csv",
                 cache_dir=HERE / "features", of_record=True, tools=tools)


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
    phases = Phases()
    pins = pinned()
    with phases("install packages"):
        absent = missing(pins)
        if absent:
            print(f"Installing the grader's packages: {', '.join(absent)}", flush=True)
            try:
                print(f"installed with {install(absent, pins)}", flush=True)
            except subprocess.CalledProcessError as error:
                print(f"::error::could not install the grader's packages ({error}); nothing was graded",
                      file=sys.stderr)
                return 1
    with phases("import the grader"):  # torch, mostly: every later phase would otherwise be charged for it
        the_bundles_grader()
    with phases("download Inception weights"):
        print(f"Inception weights: {download_weights()}", flush=True)
    with phases("download MNIST"):
        print(f"MNIST: {download_mnist()}", flush=True)
    with phases("load instruments"):
        tools = load_instruments()
    with phases("grade"):
        result = grade_checkout(tools)
    with phases("write results"):
        from tests.grader.feedback.report import summary_markdown, table
        from tests.grader.scoring import points
        earned = points(result)
        Path("result.json").write_text(json.dumps(result_json(result, earned), indent=2) + "\n")
        footer = (f"Pictures: `samples.png` and `diagnostics.png` attached to this Release (when the assignment's "
                  f"release files name them, under `data/sample/grid/`). This job: {phases.line()}.")
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
    print(f"autograder total: {phases.total():.1f} s ({phases.line()})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
