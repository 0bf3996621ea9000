"""The grader's instruments, loaded before any student code runs, so that code cannot touch them: the training and
reference digits, the copy check's bank, the diagnostics' digit classifier, the verified Inception network and
the reference digits' features. A class regrade loads them once for every student."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .. import config, memory
from ..copies import Bank, load_bank
from ..feedback import describe as feedback
from ..feedback.diagnostics import knn_radii
from ..images import load_folder
from ..stages import NETWORK_STANDIN
from .fid import cached_features
from .inception import load_inception
from .mnist import MnistError
from .weights import WeightsError, load_weights


@dataclass
class Instruments:
    net: object = None  # inception.py: ONNX Runtime or PyTorch, same features
    weights: object = None
    reference_features: np.ndarray = None
    train_features: np.ndarray = None
    train_images: np.ndarray = None
    reference_images: np.ndarray = None
    bank: Bank = None                         # the copy check's real digits: the shipped ones and MNIST
    digits: feedback.DigitInstruments = None  # the diagnostics' digit classifier: feedback, never the score
    reference_radii: np.ndarray = None        # for realism and variety in Inception features (a real network)
    error: str = ""       # why there is no FID (the weights)
    copy_error: str = ""  # why there is no copy check (MNIST, where the grade of record needs it)


def default_cache_dir() -> Path:
    return Path(torch.hub.get_dir()).parent / "vae-grader"


def prepare_instruments(cache_dir: Path, of_record: bool = False) -> Instruments:
    """of_record: a grade of record (Classroom 50, a class regrade; on a GitHub runner every grade is): the
    official Inception file only, and a copy check that knows MNIST."""
    memory.map_large_blocks_apart()
    tools = Instruments(train_images=load_folder(config.TRAIN_DIR), reference_images=load_folder(config.REFERENCE_DIR))
    tools.digits = feedback.prepare(tools.reference_images)
    try:
        tools.bank = load_bank(of_record or None, cache_dir)
    except MnistError as error:
        tools.copy_error = f"the copy check needs MNIST and could not get it: {error}"
    try:
        tools.weights = load_weights(tools.reference_images, of_record)
    except WeightsError as error:
        tools.error = str(error)
        memory.give_back()
        return tools
    tools.net = load_inception(tools.weights, probe=tools.reference_images)
    memory.give_back()  # the PyTorch network it was exported from, before the features' batches come on top
    tools.reference_features = cached_features(tools.net, tools.weights, config.REFERENCE_DIR, cache_dir)
    tools.train_features = cached_features(tools.net, tools.weights, config.TRAIN_DIR, cache_dir)
    if tools.weights.network != NETWORK_STANDIN:  # a random network's neighbourhoods say nothing
        tools.reference_radii = knn_radii(tools.reference_features)
    memory.give_back()  # what loading them needed and no longer does: the export's graph, the bank's index
    return tools
