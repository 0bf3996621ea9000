"""What the notebook teaches, checked from its own cells: the KL primer's numbers, train(...) that starts from
scratch on every call, and the Colab set-up cell, against a fake Colab (no network, no pip, no prompt)."""
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from template_tests.conftest import ROOT, copy_repository

NOTEBOOK = ROOT / "assignment_09.ipynb"


def cells(kind: str | None = None) -> list[dict]:
    found = json.loads(NOTEBOOK.read_text())["cells"]
    return [c for c in found if kind is None or c["cell_type"] == kind]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def code_only(cell: dict) -> str:
    """The cell without its comments."""
    return re.sub(r"#.*", "", source(cell))


def tagged(tag: str) -> list[dict]:
    return [c for c in cells("code") if tag in c.get("metadata", {}).get("tags", [])]


def run_cells_through(tag: str, repo: Path, epochs: int = 2) -> dict:
    """The notebook's code cells in order, up to the last cell tagged `tag`, run in repo as a kernel would."""
    namespace = {"__name__": "__main__"}
    code_cells = cells("code")
    last = max(i for i, c in enumerate(code_cells) if tag in c.get("metadata", {}).get("tags", []))
    old_cwd, old_env = os.getcwd(), os.environ.get("VAE_EPOCHS")
    os.environ["VAE_EPOCHS"], os.environ["MPLBACKEND"] = str(epochs), "Agg"
    sys.path.insert(0, str(repo))
    sys.modules.pop("model", None)  # this repo's model.py, not one imported by an earlier test
    os.chdir(repo)
    try:
        for cell in code_cells[:last + 1]:
            exec(compile(source(cell), "notebook cell", "exec"), namespace)
        # torch came into this test process before the setup cell could ask its threads not to spin: on a busy
        # machine 2 spinning threads are 10-30x slower than 1 (the tests check behaviour, not these weights).
        torch.set_num_threads(1)
    finally:
        os.chdir(old_cwd)
        sys.path.remove(str(repo))
        os.environ.pop("VAE_EPOCHS") if old_env is None else os.environ.__setitem__("VAE_EPOCHS", old_env)
    return namespace


def in_repo(repo: Path, function, *args, **kwargs):
    """function(...) as a kernel started in repo runs it: there, reloading model.py finds repo's."""
    old = os.getcwd()
    os.chdir(repo)
    sys.path.insert(0, str(repo))
    try:
        return function(*args, **kwargs)
    finally:
        os.chdir(old)
        sys.path.remove(str(repo))


# ------------------------------------------------------------------------------------------------- structure
def test_sections_are_numbered_in_order():
    headings = [source(c).lstrip().splitlines()[0] for c in cells("markdown") if source(c).lstrip().startswith("## ")]
    numbers = [int(re.match(r"## (\d+)\. \S", h).group(1)) for h in headings]
    assert numbers == list(range(1, len(numbers) + 1)), headings
    titles = " | ".join(headings)
    for topic in ("KL divergence", "ELBO", "Training", "Loss curves", "latent space", "KL term", "copies", "FID",
                  "Your turn"):
        assert topic.lower() in titles.lower(), f"no section about {topic}: {titles}"


def test_the_submitted_model_is_trained_and_saved_before_any_experiment():
    # The experiments reseed the global random numbers; run before the save, they would change the weights.
    code_cells = cells("code")
    save = code_cells.index(tagged("save")[0])
    calls = [i for i, c in enumerate(code_cells)
             for _ in re.findall(r"^(?!\s*def ).*?(?<![.\w])train\(", code_only(c), re.MULTILINE)]
    assert len([i for i in calls if i < save]) == 1, "exactly one train(...) call, the submitted run, before saving"
    assert any(i > save for i in calls), "the KL-weight experiments call train(...) after the save"
    for tag in ("loss", "train", "save", "grade"):
        assert len(tagged(tag)) == 1, f"exactly one cell tagged {tag!r}"
    assert code_cells.index(tagged("grade")[0]) > save


def test_no_cell_draws_global_random_numbers_before_training():
    # Anything before the submitted run that uses torch's global generator would change the saved weights.
    code_cells = cells("code")
    first_run = next(i for i, c in enumerate(code_cells) if re.search(r"^\(encoder, latent, decoder\).*= train\(",
                                                                      source(c), re.MULTILINE))
    for cell in code_cells[:first_run]:
        if "train" in cell.get("metadata", {}).get("tags", []):
            continue  # the training's own random numbers: drawn after it seeds them
        text = code_only(cell)
        for call in re.findall(r"torch\.(?:randn|rand|randint|randperm|normal)\([^)]*\)", text):
            assert "generator=" in call, f"a cell before training draws from the global generator: {call}"
        assert ".sample(" not in text.replace("latent.sample(strip_size, generator=", ""), text


# ------------------------------------------------------------------------------------------------- KL primer
@pytest.fixture(scope="module")
def primer() -> dict:
    return run_cells_through("primer", ROOT)


def test_discrete_kl_is_computed_both_ways_and_is_not_symmetric(primer):
    p, q = (0.9, 0.1), (0.5, 0.5)
    by_hand_pq = sum(a * math.log(a / b) for a, b in zip(p, q))
    by_hand_qp = sum(b * math.log(b / a) for a, b in zip(p, q))
    assert primer["kl_loaded_fair"] == pytest.approx(by_hand_pq, abs=1e-12)
    assert primer["kl_fair_loaded"] == pytest.approx(by_hand_qp, abs=1e-12)
    assert abs(primer["kl_fair_loaded"] - primer["kl_loaded_fair"]) > 0.1


def test_gaussian_kl_agrees_three_ways(primer):
    mu, sigma = primer["mu_q"], primer["sigma_q"]
    by_hand = 0.5 * (mu ** 2 + sigma ** 2 - 1 - math.log(sigma ** 2))
    assert primer["kl_formula"] == pytest.approx(by_hand, abs=1e-12)
    assert primer["kl_torch"] == pytest.approx(by_hand, abs=1e-6)
    error = primer["kl_monte_carlo_error"]
    assert 0 < error < 0.01 and abs(primer["kl_monte_carlo"] - by_hand) < 4 * error


def test_the_worked_numbers_in_the_text_are_right(primer):
    text = " ".join(source(c) for c in cells("markdown"))
    for value in (primer["kl_loaded_fair"], primer["kl_fair_loaded"], primer["kl_formula"]):
        assert f"{value:.3f}" in text, f"the text should show {value:.3f}"
    for part in (0.9 * math.log(0.9 / 0.5), -0.1 * math.log(0.1 / 0.5), -0.5 * math.log(0.5 / 0.9),
                 0.5 * math.log(0.5 / 0.1)):
        assert f"{part:.3f}" in text, f"a step of the worked example should show {part:.3f}"


def test_the_primer_leaves_the_global_generator_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    run_cells_through("primer", ROOT)
    assert torch.equal(torch.rand(3), expected), "the KL primer drew from torch's global generator"


# ------------------------------------------------------------------------------------------------- train(...)
@pytest.fixture
def notebook_repo(tmp_path) -> tuple[Path, dict]:
    repo = copy_repository(tmp_path / "repo")
    return repo, run_cells_through("train", repo)


def state(modules) -> dict:
    return {f"{i}.{k}": v.clone() for i, m in enumerate(modules) for k, v in m.state_dict().items()}


def test_a_rerun_starts_from_scratch_and_repeats_itself(notebook_repo):
    repo, ns = notebook_repo
    first, history, strip = in_repo(repo, ns["train"], 3)
    second, history_again, _ = in_repo(repo, ns["train"], 3)
    assert list(history.columns) == ["epoch", "loss", "reconstruction", "kl"] and len(history) == 3
    # A rerun that continued the old weights would start at the first run's end, not at its beginning.
    assert history_again.equals(history), (history, history_again)
    a, b = state(first), state(second)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert all(m1 is not m2 for m1, m2 in zip(first, second))
    assert sorted(strip) == [1, 2, 3] and all(images.shape == (8, 1, 32, 32) for images in strip.values())


def test_the_seed_and_beta_reach_the_training(notebook_repo):
    repo, ns = notebook_repo
    _, base, _ = in_repo(repo, ns["train"], 2)
    _, other_seed, _ = in_repo(repo, ns["train"], 2, seed=1)
    _, autoencoder, _ = in_repo(repo, ns["train"], 2, beta=0.0)
    assert not other_seed.equals(base)
    assert (autoencoder["loss"] - autoencoder["reconstruction"]).abs().max() < 1e-6  # no KL in the loss
    assert (base["loss"] - base["reconstruction"] - base["kl"]).abs().max() < 1e-4


RECORDER = """

SEEN = []  # (module, training?, learning?) for every forward call


def _recorded(cls):
    forward = cls.forward

    def recording(self, *args):
        SEEN.append((cls.__name__, self.training, torch.is_grad_enabled()))
        return forward(self, *args)
    cls.forward = recording


_recorded(Encoder), _recorded(Decoder)
"""


def test_modules_learn_in_train_mode_and_come_back_in_eval_mode(notebook_repo):
    repo, ns = notebook_repo
    (repo / "model.py").write_text((repo / "model.py").read_text() + RECORDER)
    modules, _, strip = in_repo(repo, ns["train"], 3)
    assert not any(m.training for m in modules), "train(...) should hand back modules in eval() mode"
    seen = ns["model"].SEEN
    learning = [(name, training) for name, training, grad in seen if grad]
    assert len(learning) == 2 * 4 * 3, seen  # encoder and decoder, 4 batches, 3 epochs
    assert all(training for _, training in learning), f"a module learned in eval() mode: {learning}"
    assert any(not grad for _, _, grad in seen) and strip, "the strip was drawn without gradients"


def test_editing_model_py_counts_on_the_next_run(notebook_repo):
    repo, ns = notebook_repo
    (_, latent, _), _, _ = in_repo(repo, ns["train"], 1)
    assert latent.dim == 8
    text = (repo / "model.py").read_text()
    assert "LATENT_DIM = 8" in text
    (repo / "model.py").write_text(text.replace("LATENT_DIM = 8", "LATENT_DIM = 4  # edited"))
    (_, latent, decoder), _, _ = in_repo(repo, ns["train"], 1)
    assert latent.dim == 4 and decoder.fc.in_features == 4


def test_rerunning_training_and_save_keeps_result_csv_true(tmp_path):
    """The cells from the training run to the save, run again with another epoch count: fresh weights, and
    result.csv has one row per epoch of the last run, matching the weights saved beside it."""
    repo = copy_repository(tmp_path / "repo")
    ns = run_cells_through("save", repo, epochs=2)
    assert len(pd.read_csv(repo / "result.csv")) == 2
    code_cells = cells("code")
    first = next(i for i, c in enumerate(code_cells) if re.search(r"^\(encoder, latent, decoder\).*= train\(",
                                                                  source(c), re.MULTILINE))
    save = code_cells.index(tagged("save")[0])
    before = state((ns["encoder"], ns["latent"], ns["decoder"]))
    ns["EPOCHS"] = 3
    for cell in code_cells[first:save + 1]:
        in_repo(repo, exec, compile(source(cell), "notebook cell", "exec"), ns)
    results = pd.read_csv(repo / "result.csv")
    assert results["epoch"].tolist() == [1, 2, 3] and results["fid"].isna().all()
    assert results["loss"].tolist() == pytest.approx(ns["history"]["loss"].tolist())
    saved = torch.load(repo / "decoder.pth", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in ns["decoder"].state_dict().items())
    after = state((ns["encoder"], ns["latent"], ns["decoder"]))
    assert any(not torch.equal(before[k], after[k]) for k in before)  # 3 epochs from scratch, not 2 continued


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 2), (16, 2)])
def test_the_thread_count_follows_the_machine(cores, threads, monkeypatch):
    setup = next(c for c in cells("code") if "THREADS = " in source(c))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    namespace = {"__name__": "__main__"}
    exec(compile(source(setup), "setup cell", "exec"), namespace)
    assert namespace["THREADS"] == threads


# ------------------------------------------------------------------------------------------------- Colab cell
@pytest.fixture
def colab() -> dict:
    cell = tagged("colab")
    assert len(cell) == 1 and cells("code")[0]["id"] == cell[0]["id"], "one Colab cell, the first code cell"
    namespace = {"__name__": "__main__"}
    cwd = os.getcwd()
    exec(compile(source(cell[0]), "colab cell", "exec"), namespace)  # not Colab here: must do nothing
    assert os.getcwd() == cwd
    return namespace


class FakeRun:
    """subprocess.run for the Colab cell: records each command; git clone succeeds per `clone_results`."""

    def __init__(self, clone_results=(0,), repo_files=None):
        self.calls, self.clone_results, self.repo_files = [], list(clone_results), repo_files or {}

    def __call__(self, command, **kwargs):
        self.calls.append((command, kwargs))
        code = 0
        if command[:2] == ["git", "clone"]:
            code = self.clone_results.pop(0)
            if code == 0:
                folder = Path(command[-1])
                (folder / ".git").mkdir(parents=True)
                for name, text in self.repo_files.items():
                    (folder / name).write_text(text)
        return subprocess.CompletedProcess(command, code)


def test_colab_is_detected_by_its_module(colab):
    assert colab["in_colab"]({"google.colab": object(), "os": os})
    assert not colab["in_colab"]({"os": os})
    assert not colab["in_colab"]()  # this test process


def test_only_missing_packages_are_installed_and_never_torch(colab):
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    have = {"numpy", "pandas", "scipy", "pillow", "matplotlib", "tqdm"}
    missing = colab["missing_requirements"](lines, installed=lambda name: name in have)
    names = [re.split(r"[=<>]", pin)[0] for pin in missing]
    assert "torch" not in names and "torchvision" not in names, missing
    assert "pytorch-fid" in names and "onnxruntime" in names, missing
    assert not set(names) & have, missing
    assert all("==" in pin and "#" not in pin for pin in missing), missing  # pinned, comments dropped
    assert colab["missing_requirements"](lines, installed=lambda name: True) == []


def test_a_public_repository_clones_without_a_token(colab, tmp_path):
    run, asked = FakeRun([0]), []
    colab["clone"]("ada/assignment-09", tmp_path / "assignment-09", run=run, ask=lambda prompt: asked.append(1))
    (command, kwargs), = run.calls
    assert command[:2] == ["git", "clone"] and "https://github.com/ada/assignment-09.git" in command
    assert kwargs["env"]["GIT_TERMINAL_PROMPT"] == "0" and not asked


def test_a_private_repository_asks_for_a_token_once(colab, tmp_path):
    run, prompts = FakeRun([128, 0]), []
    colab["clone"]("ada/assignment-09", tmp_path / "a09", run=run, ask=lambda p: prompts.append(p) or "t0ken")
    assert len(prompts) == 1 and len(run.calls) == 2
    assert "https://x-access-token:t0ken@github.com/ada/assignment-09.git" in run.calls[1][0]


def test_a_failed_clone_says_what_to_check_without_the_token(colab, tmp_path):
    with pytest.raises(RuntimeError) as failure:
        colab["clone"]("ada/assignment-09", tmp_path / "a09", run=FakeRun([128, 128]), ask=lambda p: "s3cret")
    assert "REPOSITORY" in str(failure.value) and "s3cret" not in str(failure.value)


def test_prepare_colab_clones_once_moves_in_and_installs_the_rest(colab, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    requirements = "# pins\ntorch==2.14.1\ntorchvision==0.29.1\npytorch-fid==0.3.0\nnumpy==2.4.6  # numbers\n"
    run = FakeRun([0], {"requirements.txt": requirements})
    kwargs = {"home": tmp_path, "run": run, "ask": lambda p: pytest.fail("asked for a token"),
              "installed": lambda name: name == "numpy"}
    folder = colab["prepare_colab"]("ada/assignment-09", **kwargs)
    assert folder == tmp_path / "assignment-09" and Path.cwd() == folder and sys.path[0] == str(folder)
    _, pip_call = run.calls
    assert pip_call[0][1:4] == ["-m", "pip", "install"] and pip_call[0][-1:] == ["pytorch-fid==0.3.0"]
    assert pip_call[0][0] == sys.executable and pip_call[1].get("check") is True
    colab["prepare_colab"]("ada/assignment-09", **kwargs)  # the cell run again: no second clone
    assert [c[0][:2] for c in run.calls].count(["git", "clone"]) == 1


def test_the_placeholder_repository_is_refused_in_colab(colab, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="REPOSITORY"):
        colab["prepare_colab"]("ORG/REPO", home=tmp_path, run=FakeRun())
    monkeypatch.setitem(sys.modules, "google.colab", object())  # the cell itself, as Colab runs it
    with pytest.raises(ValueError, match="REPOSITORY"):
        exec(compile(source(tagged("colab")[0]), "colab cell", "exec"), {"__name__": "__main__"})


def test_the_badge_and_the_cell_name_the_same_repository():
    intro, first = source(cells()[0]), source(cells("code")[0])
    badge = re.search(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/main/assignment_09\.ipynb", intro)
    assert badge, "no Open in Colab badge in the first cell"
    assert f'REPOSITORY = "{badge.group(1)}"' in first
