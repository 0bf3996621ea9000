"""`python -m instructor starter`: the student version. Stubs where the solution was, markers gone, everything else
byte for byte; its part checks say what is not written yet; put the solution back and it grades as the template."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from instructor.starter import LEAKS, OMITTED, solution_code, tracked_files
from template_tests.conftest import ROOT
from tests.grader import config
from tests.grader.child.parts import check_parts
from tests.grader.pipeline import grade
from tests.grader.stages import PARTS


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    out = tmp_path_factory.mktemp("starter") / "student"
    done = subprocess.run([sys.executable, "-m", "instructor", "starter", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "stubs in model.py" in done.stdout
    return out


def test_markers_are_gone_and_everything_else_is_byte_identical(starter):
    written = sorted(p.relative_to(starter).as_posix() for p in starter.rglob("*") if p.is_file())
    expected = [name for name in tracked_files() if not name.startswith(OMITTED)]
    assert written == expected
    changed = [name for name in written if (starter / name).read_bytes() != (ROOT / name).read_bytes()]
    assert set(changed) <= {"model.py", "assignment_09.ipynb", "README.md"}, changed
    assert "model.py" in changed and "README.md" in changed
    for name in written:
        if name.endswith((".py", ".md", ".ipynb", ".yml", ".txt")):
            text = (starter / name).read_text()
            assert not [leak for leak in LEAKS if leak in text], name


def test_the_starter_notebook_has_no_outputs(starter):
    for cell in json.loads((starter / "assignment_09.ipynb").read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_the_starter_readme_links_only_to_what_is_there(starter):
    for md in ("README.md", "data/README.md", "tests/README.md"):
        for link in re.findall(r"\]\(([^)#:]+)\)", (starter / md).read_text()):
            assert (starter / md).parent.joinpath(link).resolve().exists(), (md, link)


def test_the_part_checks_name_every_stub(starter):
    found = {part.name: part for part in check_parts(starter)}
    assert list(found) == list(PARTS)
    for name, what in (("encoder", "Encoder layers"), ("decoder", "Decoder layers"),
                       ("loss", "the reconstruction term")):
        assert found[name].message.startswith(f"{what}: not written yet. Hint: "), found[name]
    assert found["latent"].message == "not checked: needs encoder (fix that first)"
    assert found["prior"].ok


def test_completed_it_passes_every_part_and_grades_as_the_template(starter, tmp_path, trained_repo, standin_env):
    trained, _ = trained_repo
    completed = tmp_path / "completed"
    shutil.copytree(starter, completed)
    template_model = (ROOT / "model.py").read_text()
    (completed / "model.py").write_text(solution_code(template_model))  # the regions a student writes, put back
    assert all(part.ok for part in check_parts(completed)), check_parts(completed)
    for name in (*config.WEIGHT_FILES, "result.csv"):
        shutil.copy(trained / name, completed / name)
    ours = grade(completed, n_samples=100, sample_dir=tmp_path / "s1", result_csv=None)
    theirs = grade(trained, n_samples=100, sample_dir=tmp_path / "s2", result_csv=None)
    assert ours.ok and ours.fid == theirs.fid and ours.memorised_fraction == theirs.memorised_fraction
    assert [p.read_bytes() for p in sorted((tmp_path / "s1").glob("*.png"))] == \
        [p.read_bytes() for p in sorted((tmp_path / "s2").glob("*.png"))]


def test_a_broken_region_is_refused(tmp_path):
    from instructor.starter import StarterError, student_code
    with pytest.raises(StarterError, match="never closed"):
        student_code("x = 1\n# >>> solution: x\nx = 2\n")
    assert student_code("    # >>> solution: the step\n    # hint: add\n    y = 1\n    # <<< solution\n") == \
        '    raise NotImplementedError(\n        "the step: not written yet. Hint: add"\n    )\n'
