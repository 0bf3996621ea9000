"""What a student meets first: the Codespaces container and the install line of the quick start."""
import json
import re

from instructor.bundle import pinned_versions
from template_tests.conftest import ROOT


def test_the_codespace_is_small_and_installs_the_cpu_wheels():
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert re.search(r"python:\d+-3\.1[12]-", config["image"]), "Python 3.11 or 3.12"
    assert config["hostRequirements"]["cpus"] <= 2, "the education benefit offers 2-core codespaces"
    command = config["postCreateCommand"]
    torch, vision = pinned_versions()["torch"], pinned_versions()["torchvision"]
    assert f"torch=={torch} torchvision=={vision} --index-url https://download.pytorch.org/whl/cpu" in command
    assert command.endswith("-r requirements.txt")
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(config["customizations"]["vscode"]["extensions"])


def test_the_quick_start_takes_the_cpu_wheels_and_keeps_the_notebook_outputs():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start\n```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert len(block) == 2
    assert block[0].startswith("pip install -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu")
    assert block[0].endswith("&& python run_notebook.py")  # executes in place, then says what it did
    assert block[1].startswith("python -m unittest tests/run_test.py tests/eval_test.py")
