"""The part checks (part_checks.py) on the student's model.py, in a sandboxed child like sampling: which piece of
the VAE is missing or wrong, said in one line, before any FID. They carry no points: the grade stays 100 - FID."""
import json
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..stages import PARTS
from . import sandbox
from .run import read_output, run_child

WORKER = Path(__file__).with_name("part_checks.py")
TIMEOUT_S = 120  # importing torch and building three small modules takes a few seconds


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    message: str  # why not, in one line; "" when ok


def check_parts(root: Path = config.ROOT, timeout_s: float = TIMEOUT_S) -> list[Part]:
    """One Part per name of PARTS, in order; never raises for anything model.py does."""
    with run_child(WORKER, root, ("model.py",), [], timeout_s, sandbox.choose()) as finished:
        if finished.timed_out:
            return everything_failed(f"the checks took longer than {timeout_s:.0f} s and were stopped: does a "
                                     "module of model.py loop forever?")
        try:
            found = json.loads(read_output(finished.out / "parts.json", 1 << 16))
            by_name = {entry["part"]: entry for entry in found}
            return [Part(name, by_name[name]["ok"] is True, str(by_name[name]["message"])[:400]) for name in PARTS]
        except (OSError, ValueError, KeyError, TypeError):
            return everything_failed(f"the checks' process died (exit code {finished.returncode}). Its last words: "
                                     f"{finished.last_words()!r}")


def everything_failed(message: str) -> list[Part]:
    return [Part(name, False, message) for name in PARTS]
