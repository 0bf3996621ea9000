"""`python -m instructor bundle OUT_DIR`: the folder an instructor commits to the classroom50 repository as
CLASSROOM/autograders/ASSIGNMENT/. It holds autograder.py (a copy of tests/platforms/classroom50.py), this
checkout's grader (tests/grader/), its reference and training digits, the grader's pinned packages, and the
Inception features of both digit sets under the weights this machine has: grading never reads the student's
tests/.

Classroom 50 packs the folder as ASSIGNMENT.tar.gz and refuses one over 10 MiB; this command packs it the same
way, reports the size and refuses to finish over the limit.
"""
import hashlib
import io
import shutil
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_PACKED_BYTES = 10 * 1024 * 1024
# What grading imports, and nothing else: scipy, which pytorch-fid requires, is not (autograder.py: --no-deps).
GRADER_PACKAGES = ("torch", "torchvision", "pytorch-fid", "onnxruntime", "onnx", "numpy", "pillow", "tqdm")
CONTENTS = {  # bundle path: repository path
    "tests/__init__.py": "tests/__init__.py",
    "tests/grader": "tests/grader",
    "tests/reference": "tests/reference",
    "data/train": "data/train",
}


class BundleError(RuntimeError):
    pass


def pinned_versions(requirements: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """{package: version} of every `name==version` line (comments ignored)."""
    pins = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def grader_requirements() -> str:
    """The grader's packages, at the versions requirements.txt pins (one source of truth)."""
    pins = pinned_versions()
    lacking = [name for name in GRADER_PACKAGES if name not in pins]
    if lacking:
        raise BundleError(f"requirements.txt pins no version of {', '.join(lacking)}")
    return "# The grader's packages; autograder.py installs any that are missing.\n" + "".join(
        f"{name}=={pins[name]}\n" for name in GRADER_PACKAGES)


def packed_size(folder: Path) -> int:
    """Bytes of folder as Classroom 50 publishes it: tar -czf SLUG.tar.gz -C PARENT SLUG."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return buffer.tell()


def ignore(_folder, names):
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def build(out: Path) -> tuple[Path, int, str]:
    """Write the bundle into out; returns (out, packed bytes, what was said of the shipped features)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not (out / "autograder.py").is_file():
            raise BundleError(f"{out} is not empty and holds no autograder.py: choose an empty or new folder")
        shutil.rmtree(out)  # an earlier bundle: rebuilt from scratch, so that no stale file survives
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tests" / "platforms" / "classroom50.py", out / "autograder.py")
    for target, source in CONTENTS.items():
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, out / target, ignore=ignore)
        else:
            (out / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / source, out / target)
    (out / "requirements.txt").write_text(grader_requirements())
    shipped = ship_features(out / "features")
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "MANIFEST")
    (out / "MANIFEST").write_text("".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(out).as_posix()}\n" for p in files))
    size = packed_size(out)
    if size > MAX_PACKED_BYTES:
        raise BundleError(f"the bundle packs to {size / 2**20:.1f} MiB, over Classroom 50's 10 MiB limit")
    return out, size, shipped


def ship_features(folder: Path) -> str:
    """A Classroom 50 job always starts cold: these files save it ~75 s of Inception per submission. The
    autograder still spot-checks them, and a job with other weights never uses them (the file names carry the
    weights' sha256), so an instructor offline or with other weights only loses the time."""
    from tests.grader import config
    from tests.grader.copies import cache_file
    from tests.grader.instruments.fid import cache_path
    from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
    # from this machine's cache when it is warm; the jobs' copy check knows MNIST, so the threshold shipped must too
    tools = prepare_instruments(default_cache_dir(), of_record=True)
    if tools.error:
        return f"no Inception features shipped ({tools.error}): each job computes them, about 75 s"
    folder.mkdir(parents=True)
    for digits in (config.REFERENCE_DIR, config.TRAIN_DIR):
        shutil.copy(cache_path(tools.weights, digits, default_cache_dir()), folder)
    shipped = f"Inception features shipped (network: {tools.weights.network})"
    if tools.copy_error:
        return f"{shipped}; the copy check's threshold not shipped ({tools.copy_error}): each job measures it, ~20 s"
    shutil.copy(cache_file(tools.bank, default_cache_dir()), folder)
    return f"{shipped}, with the copy check's threshold ({tools.bank.label})"
