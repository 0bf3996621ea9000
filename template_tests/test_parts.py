"""The part checks (tests/grader/child/parts.py): the template's model.py passes every one, and each broken piece is
named, in one line, by its own check (a stub of the starter says "not written yet")."""
import subprocess
import sys

import pytest

from template_tests.conftest import ROOT
from template_tests.submissions import BASE_MODEL
from tests.grader.child.parts import check_parts
from tests.grader.stages import PARTS


def parts_of(tmp_path, extra_code: str = "", model: str = BASE_MODEL) -> dict:
    (tmp_path / "model.py").write_text(model + "\n" + extra_code)
    return {part.name: part for part in check_parts(tmp_path, timeout_s=60)}


def test_the_template_passes_every_part(tmp_path):
    found = parts_of(tmp_path)
    assert list(found) == list(PARTS) and all(part.ok for part in found.values()), found


def latent_forward(z_line: str) -> str:
    return ("def forward(self, h):\n    mu, logvar = self.mu(h), self.logvar(h)\n"
            f"    z = {z_line}\n    return z, mu, logvar\nLatent.forward = forward\n")


def loss(reconstruction: str, kl: str, total: str = "r + beta * k") -> str:
    return (f"def vae_loss(x, x_hat, mu, logvar, beta=1.0):\n    r = {reconstruction}\n    k = {kl}\n"
            f"    return {total}, r, k\n")


GOOD_R, GOOD_KL = "0.5 * ((x - x_hat) ** 2).flatten(1).sum(1).mean()", \
    "(-0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()"
BROKEN = [  # (code, the parts that must fail, words the first of them says)
    (latent_forward("mu + torch.exp(logvar) * torch.randn_like(mu)"), ("reparameterisation", "gradients"),
     "exp(logvar / 2)"),
    (latent_forward("torch.normal(mu, torch.exp(0.5 * logvar))"), ("gradients",), "gradients do not reach mu"),
    (latent_forward("mu.detach() + torch.exp(0.5 * logvar) * torch.randn_like(mu)"), ("gradients",),
     "gradients do not reach mu"),
    (latent_forward("mu + torch.exp(0.5 * logvar).detach() * torch.randn_like(mu)"), ("gradients",),
     "gradients do not reach logvar"),
    ("Latent.sample = lambda self, n, generator=None: torch.randn(n, self.dim)", ("prior",), "generator"),
    ("Latent.sample = lambda self, n, generator=None: torch.randn(n, 3, generator=generator)", ("prior",), "[7, 8]"),
    ("Decoder.forward = lambda self, z: self.net[:-1](self.fc(z).view(-1, CHANNELS, 8, 8))", ("decoder",),
     "nn.Sigmoid()"),
    ("Encoder.forward = lambda self, x: self.net(x).view(len(x), 32, -1)", PARTS[:4], "features [4, F]"),
    (loss("((x - x_hat) ** 2).flatten(1).sum(1).mean()", GOOD_KL), ("loss",), "reconstruction term is 0.7500"),
    (loss(GOOD_R, "(0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1)).mean()"), ("loss",), "KL term is -1.2500"),
    (loss(GOOD_R, GOOD_KL, "r + k"), ("loss",), "total = reconstruction + beta * KL"),
]


@pytest.mark.parametrize("code,failing,words", BROKEN, ids=[f"{f[0]}-{k}" for k, (_, f, _) in enumerate(BROKEN)])
def test_a_broken_part_is_named(tmp_path, code, failing, words):
    found = parts_of(tmp_path, code)
    assert words in found[failing[0]].message, found[failing[0]]
    assert [p for p in PARTS if not found[p].ok] == list(failing), found
    assert all("\n" not in p.message for p in found.values())


def test_a_stub_says_not_written_yet_and_its_dependents_are_not_checked(tmp_path):
    code = ("def forward(self, h):\n    raise NotImplementedError('the reparameterisation: not written yet')\n"
            "Latent.forward = forward\n")
    found = parts_of(tmp_path, code)
    assert found["latent"].message == "the reparameterisation: not written yet", found["latent"]
    assert found["reparameterisation"].message == "not checked: needs latent (fix that first)"
    assert found["decoder"].ok and found["prior"].ok and found["loss"].ok


def test_a_model_py_that_hangs_or_does_not_import(tmp_path):
    found = parts_of(tmp_path / "..", "", model="raise ImportError('half-finished edit')\n")
    assert all(not p.ok and "half-finished edit" in p.message for p in found.values())
    (tmp_path / "hang").mkdir()
    (tmp_path / "hang" / "model.py").write_text("while True:\n    pass\n")
    hung = check_parts(tmp_path / "hang", timeout_s=5)
    assert all(not p.ok and "longer than 5 s" in p.message for p in hung)


def test_unittest_names_the_broken_part_in_one_line(tmp_path):
    repo = tmp_path / "repo"
    grader = [p.relative_to(ROOT) for p in (ROOT / "tests" / "grader").rglob("*.py")]
    for name in ("tests/__init__.py", "tests/parts_test.py", *grader):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((ROOT / name).read_bytes())
    (repo / "model.py").write_text(BASE_MODEL + "\n" + BROKEN[0][0] + "\n")
    done = subprocess.run([sys.executable, "-m", "unittest", "tests/parts_test.py"], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "FAILED (failures=2)" in done.stderr
    assert "AssertionError: reparameterisation: z is not mu + exp(logvar / 2) * eps" in done.stderr, done.stderr
    assert 'File "' not in done.stderr, done.stderr
