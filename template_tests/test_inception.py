"""The Inception backends: ONNX Runtime is what grades (requirements.txt installs it), with PyTorch's features;
anything wrong with it leaves the grade on PyTorch, and the report says so."""
import sys

import numpy as np
import pytest

from template_tests.conftest import ROOT
from tests.grader.images import load_folder
from tests.grader.instruments import inception

DIGITS = load_folder(ROOT / "tests" / "reference")[::100]  # one of each class, 10 images


@pytest.fixture(scope="module")
def eager(instruments):
    return inception.TorchInception(instruments.weights.state_dict)


def test_the_grader_runs_onnx_runtime_with_pytorchs_features(instruments, eager):
    assert instruments.net.backend.startswith("onnxruntime "), instruments.net.backend
    expected = eager(DIGITS)
    assert expected.shape == (10, 2048)
    assert np.abs(instruments.net(DIGITS) - expected).max() < 1e-5 * np.abs(expected).max()


def test_exporting_leaves_the_pytorch_network_as_it_was(instruments, eager, tmp_path):
    # The exporter sets every submodule to its wrapper's mode: a network left training gives other features.
    before = eager(DIGITS)
    inception.export(eager, DIGITS.shape[1:], str(tmp_path / "inception.onnx"))
    assert not eager.net.training
    assert np.array_equal(eager(DIGITS), before)
    assert np.abs(inception.OnnxInception(str(tmp_path / "inception.onnx"))(DIGITS) - before).max() < 1e-5 * np.abs(
        before).max()


def test_a_graph_onnx_runtime_cannot_load_leaves_the_grade_on_pytorch(instruments, monkeypatch):
    def refuse(self, graph):
        raise RuntimeError("no such kernel")

    monkeypatch.setattr(inception.OnnxInception, "__init__", refuse)
    net = inception.load_inception(instruments.weights, DIGITS)
    assert isinstance(net, inception.TorchInception)
    assert net.backend.endswith("(ONNX Runtime could not load the graph: RuntimeError)")


def test_without_onnxruntime_the_grade_stays_on_pytorch_and_says_so(instruments, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    net = inception.load_inception(instruments.weights, DIGITS)
    assert isinstance(net, inception.TorchInception)
    assert net.backend.endswith("(onnxruntime is not installed)")


def test_an_exported_network_that_disagrees_is_not_used(instruments, monkeypatch):
    monkeypatch.setattr(inception.OnnxInception, "__call__", lambda self, images: np.zeros((len(images), 2048)))
    net = inception.load_inception(instruments.weights, DIGITS)
    assert isinstance(net, inception.TorchInception)
    assert "differed" in net.backend
