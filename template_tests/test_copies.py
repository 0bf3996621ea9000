"""The copy detector: replays of any digit the repository ships are caught, real unseen digits and honest models
are not. The numbers asserted here are the README's calibration table."""
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from template_tests.conftest import copy_repository, run
from template_tests.submissions import KINDS, REFERENCE, TRAIN, replayed, smooth_lookup_submission
from tests.grader import config
from tests.grader.memorisation import FOLDERS, copy_report
from tests.grader.sampling import draw
from tests.grader.stages import Result

@pytest.mark.parametrize("source", ["training", "reference"])
@pytest.mark.parametrize("kind", KINDS)
def test_replays_of_shipped_digits_are_flagged_and_named(source, kind):
    report = copy_report(replayed(source, kind), TRAIN, REFERENCE)
    assert report.fraction >= 0.90, report.fraction
    assert report.by_folder[source] >= 0.90 and report.copied().startswith(FOLDERS[source]), report.copied()


def test_real_digits_the_repository_does_not_hold_are_rarely_flagged(calibration_digits):
    report = copy_report(calibration_digits, TRAIN, REFERENCE)
    assert report.fraction <= 0.02, report.fraction
    assert np.median(report.ratios) > 0.7  # a new digit is about as close to every set


def baseline_samples(repo: Path, seed: int = config.SEED) -> np.ndarray:
    return draw(repo, config.N_SAMPLES, seed).images


def test_the_notebook_baseline_passes_with_a_wide_margin(trained_repo):
    repo, _ = trained_repo
    for seed in (config.SEED, 1):
        fraction = copy_report(baseline_samples(repo, seed), TRAIN, REFERENCE).fraction
        assert fraction <= config.MEMORISATION_MAX_FRACTION / 5, (seed, fraction)


def test_the_baseline_trained_three_times_longer_still_passes(long_trained_repo):
    for seed in (config.SEED, 1):
        fraction = copy_report(baseline_samples(long_trained_repo, seed), TRAIN, REFERENCE).fraction
        assert fraction <= config.MEMORISATION_MAX_FRACTION / 2, (seed, fraction)


def test_the_stage_is_cheap():
    samples = replayed("reference", "noise 0.1")
    start = time.perf_counter()
    copy_report(samples, TRAIN, REFERENCE)
    assert time.perf_counter() - start < 10  # 0.5 s measured on 2 cores; a bound against a blow-up only


@pytest.mark.parametrize("source,kind", [("reference", "exact"), ("training", "shifted"), ("reference", "noise 0.1")])
def test_replay_submissions_score_zero_through_the_stage_scripts(tmp_path, grader_env, source, kind):
    repo = copy_repository(tmp_path / "repo")
    smooth_lookup_submission(tmp_path / "made", replayed(source, kind))
    for name in ("model.py", *config.WEIGHT_FILES, "result.csv"):
        (repo / name).write_bytes((tmp_path / "made" / name).read_bytes())
    prepare = run(["bash", "tests/prepare_test.sh"], repo, grader_env, 60)
    graded = run([sys.executable, "-m", "unittest", "tests/run_test.py"], repo, grader_env, 900)
    scored = run([sys.executable, "-m", "unittest", "tests/eval_test.py"], repo, grader_env, 300)
    assert prepare.returncode == 0 and graded.returncode != 0 and scored.returncode != 0, graded.stderr[-2000:]
    result = Result.read(repo / "result_autograding.csv")
    assert result.stage == "copies" and result.score == 0 and result.fid is None
    assert f"copied from {FOLDERS[source]}" in result.reason, result.reason
    assert f"copied from {FOLDERS[source]}" in graded.stderr and "Score:" not in scored.stdout
