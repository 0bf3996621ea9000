"""The FID's Inception network: pytorch-fid's InceptionV3 (2048-d pool features) with our verified weights.

It runs on ONNX Runtime when that is installed: the same network and weights, exported from PyTorch on every
load (about 2 s, to a private file deleted once read, so there is no cache file to trust), ~1.5x faster on 2 CPU
cores. Before it is used, its features on a few reference digits are compared with PyTorch's; a mismatch, a
missing package or a failed export leaves the grade on PyTorch, and `backend` (written to the report) says which
one ran and why.
Measured (benchmarks/grader_benchmark.py): features agree to ~1e-6 of their scale, FID to ~1e-5.
Neither bf16 nor int8: bf16 moved the FID by 14.
"""
import os
import tempfile
import warnings
from unittest import mock

import numpy as np
import torch
from pytorch_fid import inception as pytorch_fid_inception

from .weights import InceptionWeights

PROBE_IMAGES = 4
PROBE_TOLERANCE = 1e-4  # of the features' scale; observed differences are ~1e-6


class TorchInception:
    """uint8 images [B, H, W] -> float64 features [B, 2048], as `python -m pytorch_fid` sees a gray PNG: repeated
    to 3 channels, bilinear resize to 299, 2x - 1 (the last two inside pytorch-fid's module)."""

    def __init__(self, state_dict: dict):
        # pytorch-fid would download and unpickle its own weights; it gets our verified state dict instead.
        with mock.patch.object(pytorch_fid_inception, "load_state_dict_from_url", lambda *a, **k: state_dict):
            net = pytorch_fid_inception.InceptionV3([pytorch_fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
        # channels_last: ~1.7x faster on CPU than the default layout, features equal to ~1e-6 of their scale.
        self.net = net.eval().to(memory_format=torch.channels_last)
        self.backend = f"pytorch {torch.__version__}"

    @torch.inference_mode()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(as_rgb(images)).contiguous(memory_format=torch.channels_last)
        return self.net(batch)[0].flatten(1).double().numpy()


class OnnxInception:
    """The same network, exported to ONNX (export()), run by ONNX Runtime on the CPU."""

    def __init__(self, graph: str):
        import onnxruntime  # optional: ImportError means "stay on PyTorch"

        options = onnxruntime.SessionOptions()
        # One pool per process, sized like PyTorch's (a class regrade sets it to cores // jobs).
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Without the arena each batch's activations are freed after it (with it, a grading peaked 0.7 GB higher);
        # the features are the same to the bit.
        options.enable_cpu_mem_arena = False
        self.session = onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self.backend = f"onnxruntime {onnxruntime.__version__}"

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"images": as_rgb(images)})[0].astype(np.float64)


def export(reference: TorchInception, image_shape: tuple[int, int], graph: str) -> None:
    """reference's network as an ONNX graph in the file graph (a private file: an in-memory graph costs two more
    copies of the weights). The TorchScript exporter: 2 s and no extra package, where torch.export's takes 12 s
    and onnxscript."""
    # eval() matters: the exporter leaves every submodule in the wrapper's mode (a new module trains).
    pooled = PoolFeatures(reference.net).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(pooled, (torch.zeros(2, 3, *image_shape),), graph, dynamo=False,
                          input_names=["images"], output_names=["features"],
                          dynamic_axes={"images": {0: "batch"}, "features": {0: "batch"}})


class PoolFeatures(torch.nn.Module):
    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)[0].flatten(1)


def as_rgb(images: np.ndarray) -> np.ndarray:
    """uint8 [B, H, W] -> float32 [B, 3, H, W] in [0, 1], as pytorch-fid reads a grayscale PNG."""
    return np.repeat((images.astype(np.float32) / 255)[:, None], 3, axis=1)


def load_inception(weights: InceptionWeights, probe: np.ndarray):
    """The fastest backend whose features match PyTorch's on a few of the probe images, chosen unpredictably.
    PyTorch's network is let go before ONNX Runtime loads its copy, so that the two are never held at once."""
    reference = TorchInception(weights.state_dict)
    rows = np.random.default_rng(int.from_bytes(os.urandom(8), "little")).choice(len(probe), PROBE_IMAGES, False)
    expected = reference(probe[rows])
    try:
        import onnxruntime  # noqa: F401  (the check alone: OnnxInception runs it)
    except ImportError:
        reference.backend += " (onnxruntime is not installed)"
        return reference
    with tempfile.TemporaryDirectory(prefix="vae-grader-onnx-") as folder:
        graph = os.path.join(folder, "inception.onnx")
        try:
            export(reference, probe.shape[1:], graph)
        except Exception as error:  # an exporter that cannot handle this torch: slower, same numbers
            reference.backend += f" (ONNX export failed: {type(error).__name__})"
            return reference
        del reference
        try:
            fast = OnnxInception(graph)
        except Exception as error:
            return on_pytorch(weights, f"ONNX Runtime could not load the graph: {type(error).__name__}")
    if not np.allclose(fast(probe[rows]), expected, rtol=0, atol=PROBE_TOLERANCE * np.abs(expected).max()):
        return on_pytorch(weights, "onnxruntime's features differed from PyTorch's")
    return fast


def on_pytorch(weights: InceptionWeights, why: str) -> TorchInception:
    net = TorchInception(weights.state_dict)
    net.backend += f" ({why})"
    return net
