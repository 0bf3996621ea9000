"""The grade's contract (tests/grader/stages.py): one list of stages, one result record, read back exactly as
written, rendered for people without a change when a key is added."""
import dataclasses
import re
import subprocess
import sys

import pytest

from template_tests.conftest import ROOT
from tests.grader.feedback.report import summary_markdown, table
from tests.grader.scoring import points, score_from_fid
from tests.grader.stages import NETWORK_ESTIMATE, STAGE_NAMES, Result, StageFailure


def full_result() -> Result:
    return Result(status="estimate", fid=33.25, score=66.75, fid_train=40.5, kid=0.0123, kid_std=0.0011,
                  memorised_fraction=0.008, memorisation_passed=True, copies_training=0.006,
                  copies_reference=0.002, n_samples=500, seed=2024, inception_network=NETWORK_ESTIMATE,
                  weights_official=False,
                  weights_sha256="ab" * 32, note="a note", sandbox="on (uid 1700000000)", torch="2.14.1",
                  inception="onnxruntime 1.32.0", seconds=45.5)


def test_every_key_survives_the_csv(tmp_path):
    result = full_result()
    result.write(tmp_path / "r.csv")
    assert Result.read(tmp_path / "r.csv") == result
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "key,value" and [line.split(",")[0] for line in lines[1:]] == \
        [f.name for f in dataclasses.fields(Result)]
    assert "memorisation_passed,true" in lines and "fid,33.2500" in lines


def test_a_failed_result_reads_back_with_empty_numbers(tmp_path):
    result = Result(n_samples=500, seed=2024)
    result.fail(StageFailure("copies", "30% of the samples are near-copies"))
    result.write(tmp_path / "r.csv")
    back = Result.read(tmp_path / "r.csv")
    assert back == result and back.fid is None
    assert back.problem() == "stage 'copies': 30% of the samples are near-copies"
    assert points(back) == 0


def test_a_garbled_file_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("key,value\nmemorisation_passed,maybe\n")
    with pytest.raises(ValueError):
        Result.read(tmp_path / "r.csv")


def test_only_known_stages_can_fail():
    with pytest.raises(AssertionError):
        StageFailure("memorisation", "the old name")


def test_scoring_rule():
    assert score_from_fid(33.25) == 66.75 and score_from_fid(-1) == 100 and score_from_fid(250) == 0
    assert points(full_result()) == 67


def test_renderings_show_every_labelled_key():
    result = full_result()
    text, markdown = table(result), summary_markdown(result)
    for f in dataclasses.fields(Result):
        if getattr(result, f.name) in (None, ""):
            continue
        if f.metadata["label"]:
            assert f.metadata["label"] in text, f.name
        if f.metadata["summary"]:
            assert f.metadata["label"] in markdown, f.name
    assert "**67 / 100** (an estimate on the same network, not the grade)" in markdown
    assert NETWORK_ESTIMATE in markdown and NETWORK_ESTIMATE in text


def test_the_readme_names_the_stages_in_order():
    numbered = re.findall(r"^\d+\. \*\*([\w-]+)\*\*", (ROOT / "README.md").read_text(), re.M)
    assert tuple(numbered[:len(STAGE_NAMES)]) == STAGE_NAMES and numbered[len(STAGE_NAMES):] == ["score"]


def test_the_grader_map_explains_every_result_key():
    documented = (ROOT / "tests" / "README.md").read_text().split("## `result_autograding.csv`, key by key")[1]
    keys = {name for cell in re.findall(r"^\| ([^|]+) \|", documented, re.M) for name in re.findall(r"`(\w+)`", cell)}
    assert keys == {f.name for f in dataclasses.fields(Result)}


def test_reading_a_result_needs_no_torch():
    code = ("import sys; sys.modules['torch'] = None; sys.modules['numpy'] = None\n"
            "from tests.grader.stages import Result; from tests.grader.feedback.report import summary_markdown\n"
            "print(summary_markdown(Result()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "**0 / 100**" in done.stdout, done.stderr


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_every_stage_is_the_module_of_its_name(stage):
    """A newcomer finds a stage by its name: tests/grader/<stage>.py says it is that stage, and the map in
    tests/README.md points there."""
    module = ROOT / "tests" / "grader" / f"{stage.replace('-', '_')}.py"
    assert module.is_file(), f"stage {stage!r} has no module {module.name}"
    assert module.read_text().startswith(f'"""Stage \'{stage}\''), f"{module.name} does not say it is {stage!r}"
    assert f"| *{stage}* | `grader/{module.name}` |" in (ROOT / "tests" / "README.md").read_text()


def test_the_grade_runs_the_stages_in_order():
    source = (ROOT / "tests" / "grader" / "pipeline.py").read_text()
    grade = source[source.index("def grade("):]
    named = re.findall(r'^ +stage(?:, doing)? = "([\w-]+)"', grade, re.M)
    assert tuple(named) == STAGE_NAMES, named
