"""Runs the student's code, in a child process of its own:
    python sample_worker.py SUBMISSION OUT N SEED BATCH PROBE [UID]

It loads the three state dicts with weights_only=True (a pickle payload is refused, never executed), then, given
a UID, becomes that unprivileged user for good (sandbox.py) before any student code runs. It builds the modules
from SUBMISSION/model.py (a copy: the repository itself is not reachable), draws N samples through Latent.sample
and Decoder with a fixed seed, and writes OUT/samples.npy; with PROBE "probe", then the images the decoder gives
near those codes (probes.py) in OUT/probes.npy and OUT/cliffs.npy, and, given OUT/explain.npy (real digits), the
codes that explain them best (inversion.py) in OUT/inverted_*.npy. Whatever goes wrong, it writes
OUT/status.json: {"stage": ..., "reason": one line}. The grade is computed by the parent, from the arrays alone.
"""
import json
import os
import pickle
import sys
import traceback
import zipfile
from pathlib import Path

import numpy as np
import torch
from inversion import invert
from probes import cliffs, probe
from sandbox import become  # this script's own folder is first on sys.path
from stages import StageFailure  # the parent reads stage and reason back from status.json

INVERTED = ("inverted_codes", "inverted_images", "inverted_before", "inverted_stepped", "inverted_gradient")
MODULES = (("encoder.pth", "Encoder"), ("latent.pth", "Latent"), ("decoder.pth", "Decoder"))


def short(error: BaseException) -> str:
    """The exception in one line, pointing at the student's own file where the traceback passes through it."""
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith("model.py"):
            where = f" (model.py, line {frame.lineno})"
            break
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}{where}"


def read_state_dict(path: Path) -> dict:
    # torch.save writes a zip archive; anything else is damaged, truncated, or not from torch.save at all.
    if not zipfile.is_zipfile(path):
        raise StageFailure("load", f"{path.name} is not a readable PyTorch file (damaged, truncated, or a Git LFS "
                              f"pointer?). Save it again from the notebook and commit it.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise StageFailure("load", f"{path.name} holds Python objects, not just tensors, so it is refused unread "
                              f"(torch.load weights_only=True). Save with torch.save(module.state_dict(), "
                              f"'{path.name}').") from None
    except Exception as error:
        raise StageFailure("load", f"{path.name} is not a readable PyTorch file ({short(error)}). "
                              f"Save it again from the notebook and commit it.") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StageFailure("load", f"{path.name} holds a {type(state).__name__}, not a state dict of tensors. "
                                   f"Save with torch.save(module.state_dict(), '{path.name}').")
    return state


def build(root: Path):
    sys.path.insert(0, str(root))
    try:
        import model
    except Exception as error:
        raise StageFailure("load", f"model.py cannot be imported: {short(error)}") from None
    modules = {}
    for _, cls in MODULES:
        try:
            modules[cls] = getattr(model, cls)()
        except Exception as error:
            raise StageFailure("load", f"{cls}() in model.py fails with no arguments: {short(error)}") from None
    return modules


def fit(module: torch.nn.Module, state: dict, filename: str, cls: str) -> None:
    expected = module.state_dict()
    for key, tensor in expected.items():
        if key not in state:
            raise StageFailure("load", f"{filename} does not fit {cls} in model.py: it has no '{key}'. Train and save "
                                  f"again with the model.py you submit.")
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise StageFailure("load", f"{filename} does not fit {cls} in model.py: '{key}' is "
                                  f"{list(state[key].shape)} in the file but {list(tensor.shape)} in the model. "
                                  f"Train and save again with the model.py you submit.")
    extra = [k for k in state if k not in expected]
    if extra:
        raise StageFailure("load", f"{filename} does not fit {cls} in model.py: the file has '{extra[0]}', which the "
                              f"model does not. Train and save again with the model.py you submit.")
    module.load_state_dict(state)
    module.eval()


@torch.no_grad()
def sample(latent, decoder, n: int, seed: int, batch: int) -> tuple[np.ndarray, torch.Tensor]:
    """The n samples, and the codes that drew them."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # for decoders that draw noise of their own
    chunks, codes = [], []
    for start in range(0, n, batch):
        b = min(batch, n - start)
        try:
            z = latent.sample(b, generator=generator)
        except Exception as error:
            raise StageFailure("sample", f"Latent.sample({b}, generator=...) fails: {short(error)}") from None
        if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[0] != b:
            shape = list(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise StageFailure("sample", f"Latent.sample({b}) returned {shape}; it must return a tensor [{b}, dim].")
        try:
            x = decoder(z)
        except Exception as error:
            raise StageFailure("sample", f"Decoder fails on Latent.sample's codes: {short(error)}") from None
        if not isinstance(x, torch.Tensor):
            raise StageFailure("sample", f"Decoder returned a {type(x).__name__}; it must return a tensor "
                                         "[B, 1, 32, 32].")
        chunks.append(x.detach().float().cpu().numpy())
        codes.append(z.detach().cpu())
    try:
        return np.concatenate(chunks), torch.cat(codes)
    except ValueError:
        shapes = sorted({str(list(c.shape)) for c in chunks})
        raise StageFailure("sample", f"Decoder output shapes differ between batches: {', '.join(shapes)}.") from None


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
        return short(error)
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
        return short(error)
    return ""


def main(root: str, out: str, n: str, seed: str, batch: str, probe_too: str, uid: str = "") -> None:
    root, out = Path(root), Path(out)
    torch.set_num_threads(1)  # the same arithmetic on every run and every machine's core count
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        states = {cls: read_state_dict(root / filename) for filename, cls in MODULES}
        asked = out / "explain.npy"  # read before any student code runs
        digits = np.load(asked, allow_pickle=False) if asked.exists() else None
        drop_privileges(uid, out)
        modules = build(root)
        for filename, cls in MODULES:
            fit(modules[cls], states[cls], filename, cls)
        samples, codes = sample(modules["Latent"], modules["Decoder"], int(n), int(seed), int(batch))
        np.save(out / "samples.npy", samples, allow_pickle=False)
        status = {"stage": "sample", "ok": True}
        if probe_too == "probe":  # after the graded samples exist: they are never drawn again
            status["probe_error"] = probe_near(modules["Latent"], modules["Decoder"], codes, int(seed), samples,
                                               int(batch), out)
            if digits is not None:
                status["inversion_error"] = explain_digits(modules, codes, int(seed), samples, digits, out)
    except StageFailure as failure:
        status = {"stage": failure.stage, "ok": False, "reason": failure.reason}
    except BaseException as error:  # SystemExit from model.py included
        status = {"stage": "sample", "ok": False, "reason": f"unexpected error: {short(error)}"}
    (out / "status.json").write_text(json.dumps(status))


if __name__ == "__main__":
    main(*sys.argv[1:8])
