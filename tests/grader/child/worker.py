"""Runs the student's code, in a child process of its own (stages 'load' and 'sample'):
    python child/worker.py SUBMISSION OUT N SEED BATCH PROBE [UID]

It reads the three state dicts with weights_only=True (load.py: a pickle payload is refused, never executed), then,
given a UID, becomes that unprivileged user for good (sandbox.py) before any student code runs. It builds the
modules from SUBMISSION/model.py (a copy: the repository itself is not reachable), draws N samples through
Latent.sample and Decoder with a fixed seed (sample.py), and writes OUT/samples.npy; with PROBE "probe", then the
images the decoder gives near those codes (probes.py) in OUT/probes.npy and OUT/cliffs.npy, and, given
OUT/explain.npy (real digits), the codes that explain them best (inversion.py) in OUT/inverted_*.npy. Whatever goes
wrong, it writes OUT/status.json: {"stage": ..., "reason": one line}. The grade is computed by the parent, from the
arrays alone.
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the stages' own modules (this folder is first)

import numpy as np
import torch
from inversion import invert
from load import check_load, read_state_dicts
from probes import cliffs, probe
from sample import sample
from sandbox import become
from stages import StageFailure, one_line  # the parent reads stage and reason back from status.json

INVERTED = ("inverted_codes", "inverted_images", "inverted_before", "inverted_stepped", "inverted_gradient")


def drop_privileges(uid: str, out: Path) -> None:
    if not uid:
        return
    try:
        os.chown(out, int(uid), int(uid))
        become(int(uid))
    except OSError as error:  # never run the student's code as root
        raise StageFailure("sample", f"the grader could not switch to its sandbox user ({error}); "
                                "please tell your instructor") from None


def probe_near(latent, decoder, codes: torch.Tensor, seed: int, samples: np.ndarray, batch: int, out: Path) -> str:
    """Writes probes.npy and cliffs.npy; returns '' or, when the decoder fails on moved codes, why."""
    try:
        np.save(out / "probes.npy", probe(latent, decoder, codes, seed, samples, batch), allow_pickle=False)
        np.save(out / "cliffs.npy", cliffs(latent, decoder, codes, seed, batch), allow_pickle=False)
    except Exception as error:
        return one_line(error)
    return ""


def explain_digits(modules: dict, codes: torch.Tensor, seed: int, samples: np.ndarray, digits: np.ndarray,
                   out: Path) -> str:
    """Writes OUT/inverted_{codes,images,before,stepped,gradient}.npy for the digits; returns '' or, when the
    decoder cannot be asked, why."""
    try:
        found = invert(modules["Decoder"], codes, samples, digits, seed)
        for name, array in zip(INVERTED, found):
            np.save(out / f"{name}.npy", np.asarray(array, np.float32), allow_pickle=False)
    except Exception as error:
        return one_line(error)
    return ""


def main(root: str, out: str, n: str, seed: str, batch: str, probe_too: str, uid: str = "") -> None:
    root, out = Path(root), Path(out)
    torch.set_num_threads(1)  # the same arithmetic on every run and every machine's core count
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        states = read_state_dicts(root)  # stage 'load', before any student code runs ...
        asked = out / "explain.npy"  # read before any student code runs
        digits = np.load(asked, allow_pickle=False) if asked.exists() else None
        drop_privileges(uid, out)
        modules = check_load(root, states)  # ... and after the sandbox is on
        samples, codes = sample(modules["Latent"], modules["Decoder"], int(n), int(seed), int(batch))
        np.save(out / "samples.npy", samples, allow_pickle=False)
        np.save(out / "codes.npy", codes.double().numpy(), allow_pickle=False)  # stage 'repeats'
        status = {"stage": "sample", "ok": True}
        if probe_too == "probe":  # after the graded samples exist: they are never drawn again
            status["probe_error"] = probe_near(modules["Latent"], modules["Decoder"], codes, int(seed), samples,
                                               int(batch), out)
            if digits is not None:
                status["inversion_error"] = explain_digits(modules, codes, int(seed), samples, digits, out)
    except StageFailure as failure:
        status = {"stage": failure.stage, "ok": False, "reason": failure.reason}
    except BaseException as error:  # SystemExit from model.py included
        status = {"stage": "sample", "ok": False, "reason": f"unexpected error: {one_line(error)}"}
    (out / "status.json").write_text(json.dumps(status))


if __name__ == "__main__":
    main(*sys.argv[1:8])
