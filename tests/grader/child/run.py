"""Running the student's code: a worker script in a child process with a time limit, as a sandbox user of its own
where the machine allows it (sandbox.py), in a scratch folder, with a minimal environment; afterwards everything
it started is ended. The child sees copies of the submitted files it needs, never the repository, and has no way
back into the grader: it can only leave files in its out folder, which the parent reads with read_output.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .sandbox import Sandbox, end


@dataclass
class Finished:
    out: Path           # the folder the child wrote into (gone when the `with` block ends)
    log: Path           # its stdout and stderr
    returncode: int | None
    timed_out: bool

    def last_words(self) -> str:
        tail = self.log.read_bytes().decode(errors="replace").strip().splitlines()[-1:] or [""]
        return tail[0][:200]


def child_env(home: Path) -> dict:
    keep = ("PATH", "LANG", "SYSTEMROOT", "VIRTUAL_ENV", "PYTHONPATH", "LD_LIBRARY_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(HOME=str(home), TMPDIR=str(home), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
               PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
    return env


def stop(child: subprocess.Popen) -> None:
    """Kill the child's whole process group (a student's own subprocesses too), then reap the child."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group is already gone
    else:
        child.kill()
    child.wait()


def copy_submission(root: Path, scratch: Path, files: tuple[str, ...]) -> Path:
    folder = scratch / "submission"
    folder.mkdir()
    for name in files:
        shutil.copyfile(Path(root) / name, folder / name)
        os.chmod(folder / name, 0o644)
    os.chmod(folder, 0o755)
    return folder


def read_output(path: Path, limit: int) -> bytes:
    """A file the child wrote: never through a link it planted, never larger than limit."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


@contextmanager
def run_child(worker: Path, root: Path, files: tuple[str, ...], args: list[str], timeout_s: float,
              sandbox: Sandbox, inputs: dict | None = None):
    """Run `python worker SUBMISSION OUT *args UID` (UID empty without a sandbox); yield a Finished, whose out
    folder lives until the block ends. inputs: {name: numpy array}, saved as OUT/name.npy for the child to read."""
    with tempfile.TemporaryDirectory(prefix="vae-grader-", dir="/tmp" if sandbox.uid else None) as tmp:
        scratch = Path(tmp)
        os.chmod(scratch, 0o711)  # the sandbox user may pass through, not list
        out = scratch / "out"
        out.mkdir()
        for name, array in (inputs or {}).items():
            np.save(out / f"{name}.npy", array, allow_pickle=False)
        argv = [sys.executable, str(worker), str(copy_submission(root, scratch, files)), str(out), *args,
                str(sandbox.uid or "")]
        argv, env = sandbox.command(argv, child_env(out))
        with open(scratch / "stdout.txt", "wb") as log:
            child = subprocess.Popen(argv, cwd=out, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
            try:
                child.wait(timeout=timeout_s)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:  # anything the student's code started must not outlive this stage
                if sandbox.uid:
                    end(sandbox, child.pid, scratch)
                    child.wait()
                else:
                    stop(child)
        yield Finished(out, scratch / "stdout.txt", child.returncode, timed_out)
