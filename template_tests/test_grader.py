"""The grader on bad submissions: one line, a zero for that stage, no crash, nothing else touched."""
import os
import shutil
import sys

import pytest
import torch

from template_tests.conftest import copy_repository, run
from template_tests.submissions import BASE_MODEL, lookup_submission, make_submission, smooth_lookup_submission
from tests.grader import config, pipeline
from tests.grader.images import load_folder
from tests.grader.pipeline import grade
from tests.grader.stages import Result

N = 20  # enough to exercise every stage up to the measurement


def grade_here(folder, **kwargs):
    kwargs.setdefault("n_samples", N)
    return grade(folder, sample_dir=folder / "out" / "sample", result_csv=folder / "out.csv",
                 cache_dir=None, **kwargs)


def assert_zero(result, stage, *words):
    assert result.status == "failed" and result.score == 0.0
    assert result.stage == stage, result
    reason = result.reason
    assert "\n" not in reason and "Traceback" not in reason, reason
    for word in words:
        assert word in reason, reason
    return reason


@pytest.fixture
def submission(tmp_path, standin_env):
    return make_submission(tmp_path / "sub")


def test_a_fresh_baseline_passes_every_stage(submission):
    result = grade_here(submission)
    assert result.ok, result
    assert result.score == pytest.approx(max(0.0, min(100.0, 100 - result.fid)))
    assert Result.read(submission / "out.csv").ok
    assert len(list((submission / "out" / "sample").glob("*.png"))) == N
    assert (submission / "out" / "sample" / "grid" / "samples.png").is_file()


def test_missing_files(submission):
    (submission / "decoder.pth").unlink()
    (submission / "result.csv").unlink()
    reason = assert_zero(grade_here(submission), "submission", "decoder.pth is missing", "result.csv is missing")
    assert Result.read(submission / "out.csv").reason == reason


def test_oversized_file(submission, monkeypatch):
    monkeypatch.setattr(config, "MAX_FILE_BYTES", 1000)
    assert_zero(grade_here(submission), "submission", "over the")


def test_a_crash_while_loading_the_instruments_is_ours_and_stops_before_any_student_code(submission, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(pipeline, "prepare_instruments", broken)
    reason = assert_zero(grade_here(submission), "load", "internal grader error while loading the grader's "
                                                          "instruments (OSError: disk full)", "tell your instructor")
    assert not (submission / "out" / "sample").exists(), reason  # nothing was sampled


def test_corrupt_file(submission):
    (submission / "latent.pth").write_bytes(b"\x00garbage" * 100)
    assert_zero(grade_here(submission), "load", "latent.pth", "not a readable PyTorch file")


def test_pickle_payload_is_refused_and_never_runs(submission, tmp_path):
    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"weight": Payload()}, submission / "encoder.pth")
    assert_zero(grade_here(submission), "load", "encoder.pth", "refused")
    assert not marker.exists(), "the pickle payload ran"


def test_weights_that_do_not_fit_the_model(submission, tmp_path):
    wider = make_submission(tmp_path / "wider", "LATENT_DIM = 16\n"
                            "class Decoder(Decoder):\n    def __init__(self):\n        super().__init__(dim=16)\n")
    shutil.copy(wider / "decoder.pth", submission / "decoder.pth")
    assert_zero(grade_here(submission), "load", "decoder.pth does not fit Decoder", "fc.weight", "[2048, 16]")


def test_model_py_that_does_not_import(submission):
    (submission / "model.py").write_text(BASE_MODEL + "\nraise RuntimeError('half-finished edit')\n")
    assert_zero(grade_here(submission), "load", "model.py cannot be imported", "half-finished edit", "line")


@pytest.mark.parametrize("code,stage,words", [
    ("Decoder.forward = lambda self, z: torch.full((len(z), 1, 32, 32), float('nan'))",
     "check", ("NaN",)),
    ("Decoder.forward = lambda self, z: torch.tanh(torch.randn(len(z), 1, 32, 32))",
     "check", ("[0, 1]", "tanh")),
    ("Decoder.forward = lambda self, z: torch.rand(len(z), 1, 28, 28)",
     "check", ("[B, 1, 32, 32]", "[20, 1, 28, 28]")),
    ("Latent.sample = lambda self, n, generator=None: torch.randn(n)",
     "sample", ("Latent.sample",)),
    ("Decoder.forward = lambda self, z: 1 / 0",
     "sample", ("ZeroDivisionError",)),
])
def test_bad_outputs(tmp_path, standin_env, code, stage, words):
    assert_zero(grade_here(make_submission(tmp_path / "sub", code)), stage, *words)


def test_a_decoder_that_never_returns_is_stopped(tmp_path, standin_env):
    code = "def forward(self, z):\n    while True:\n        pass\nDecoder.forward = forward\n"
    assert_zero(grade_here(make_submission(tmp_path / "sub", code), timeout_s=15), "sample", "longer than 15 s")


def test_a_decoder_that_looks_up_the_training_set_scores_zero(tmp_path, standin_env):
    result = grade_here(lookup_submission(tmp_path / "sub", "hash", load_folder(config.TRAIN_DIR)))
    assert_zero(result, "generated", "looks images up")
    assert result.generated_bad == 1.0 and result.memorised_fraction is None


def test_a_smooth_decoder_that_replays_the_training_set_scores_zero(tmp_path, standin_env):
    folder = smooth_lookup_submission(tmp_path / "sub", load_folder(config.TRAIN_DIR))
    result = grade_here(folder, n_samples=100)
    assert_zero(result, "copies", "near-copies")
    assert result.generated_bad == 0 and result.memorised_fraction == 1.0 and result.memorisation_passed is False


def test_same_submission_same_numbers_bit_for_bit(submission):
    first, second = grade_here(submission, n_samples=100), grade_here(submission, n_samples=100)
    assert first.ok
    for key in ("fid", "fid_train", "kid", "kid_std", "memorised_fraction", "score"):
        assert getattr(first, key) == getattr(second, key), key


def test_unittest_failure_is_one_line_not_a_traceback_wall(tmp_path, grader_env):
    repo = copy_repository(tmp_path / "repo")
    done = run([sys.executable, "-m", "unittest", "tests/run_test.py"], repo, grader_env, 300)
    assert done.returncode != 0
    assert "encoder.pth is missing" in done.stderr
    assert "Traceback" not in done.stderr or done.stderr.count("File \"") == 0, done.stderr


def test_stale_outputs_never_survive_a_grading(submission):
    (submission / "out.csv").write_text("key,value\nstatus,ok\nfid,0.0\nscore,100.0\n")
    stale = submission / "out" / "sample" / "grid"
    stale.mkdir(parents=True)
    (stale / "samples.png").write_bytes(b"stale")
    (submission / "decoder.pth").unlink()  # fails before any sample is drawn
    assert_zero(grade_here(submission), "submission", "decoder.pth is missing")
    assert Result.read(submission / "out.csv").status == "failed"
    assert not (submission / "out" / "sample").exists()


def test_grading_works_without_the_posix_only_calls(submission, monkeypatch):
    # What Windows lacks: process groups, fork, user switching. The grade must come out the same.
    expected = grade_here(submission)
    for name in ("killpg", "fork", "setresuid", "setsid"):
        monkeypatch.delattr(os, name, raising=False)
    result = grade_here(submission)
    assert result.ok and result.fid == expected.fid, result
    assert result.sandbox.startswith("off: ")


def test_a_submitted_file_that_is_a_link_is_refused_unread(tmp_path):
    from tests.grader.stages import StageFailure
    from tests.grader.submission import check_submission
    for name in config.SUBMISSION_FILES:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "decoder.pth").unlink()
    (tmp_path / "decoder.pth").symlink_to("/etc/hostname")  # the sandboxed code would read a file of the machine
    with pytest.raises(StageFailure, match="decoder.pth is a symbolic link: commit the file itself"):
        check_submission(tmp_path)
