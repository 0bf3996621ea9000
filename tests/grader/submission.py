"""Stage 'submission': are the files there, and of a sane size? Nothing is opened yet."""
from pathlib import Path

from . import config
from .stages import StageFailure


def check_submission(root: Path) -> None:
    problems = []
    for name in config.SUBMISSION_FILES:
        path = Path(root) / name
        if path.is_symlink():  # a link could hand the sandboxed code a file of the grader's machine to read
            problems.append(f"{name} is a symbolic link: commit the file itself")
        elif not path.is_file():
            hint = "run the notebook to the end, then commit it" if name != "model.py" else "restore it from git"
            problems.append(f"{name} is missing ({hint})")
        elif path.stat().st_size > config.MAX_FILE_BYTES:
            problems.append(f"{name} is {path.stat().st_size / 2**20:.0f} MB, over the "
                            f"{config.MAX_FILE_BYTES // 2**20} MB limit: a state dict of a model this size is ~1 MB")
        elif path.stat().st_size == 0:
            problems.append(f"{name} is empty")
    if problems:
        raise StageFailure("submission", "; ".join(problems) + ".")
