"""Stage 'load': the three state dicts load into the modules of model.py. Runs in the sampling child
(child/worker.py), the only process that imports the student's code.

A file is read with torch.load(weights_only=True) before any student code runs: a pickle payload is refused,
never executed. Then model.py is imported from the submission's copy (the repository is not reachable) and each
module is built with no arguments and given its file, which must fit it key by key and shape by shape.
"""
import pickle
import sys
import zipfile
from pathlib import Path

import torch

if __package__:
    from .stages import StageFailure, one_line
else:  # in the sampling child, where the grader's folder is on sys.path (child/worker.py)
    from stages import StageFailure, one_line

MODULES = (("encoder.pth", "Encoder"), ("latent.pth", "Latent"), ("decoder.pth", "Decoder"))


def read_state_dicts(root: Path) -> dict:
    """{class name: state dict} of the three files, read before any student code runs."""
    return {cls: read_state_dict(Path(root) / filename) for filename, cls in MODULES}


def check_load(root: Path, states: dict) -> dict:
    """{class name: module} of model.py, each in eval mode with its file's weights; StageFailure('load', one line)."""
    modules = build(Path(root))
    for filename, cls in MODULES:
        fit(modules[cls], states[cls], filename, cls)
    return modules


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
        raise StageFailure("load", f"{path.name} is not a readable PyTorch file ({one_line(error)}). "
                              f"Save it again from the notebook and commit it.") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise StageFailure("load", f"{path.name} holds a {type(state).__name__}, not a state dict of tensors. "
                                   f"Save with torch.save(module.state_dict(), '{path.name}').")
    return state


def build(root: Path) -> dict:
    sys.path.insert(0, str(root))
    try:
        import model
    except Exception as error:
        raise StageFailure("load", f"model.py cannot be imported: {one_line(error)}") from None
    modules = {}
    for _, cls in MODULES:
        try:
            modules[cls] = getattr(model, cls)()
        except Exception as error:
            raise StageFailure("load", f"{cls}() in model.py fails with no arguments: {one_line(error)}") from None
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
