"""The part checks, run on the student's model.py in a child process of its own (parts.py starts it):
    python child/part_checks.py SUBMISSION OUT [UID]

Each check builds fresh modules (no trained weights needed) and tests one piece of the VAE against what it must
do: shapes, the reparameterisation's mean and variance, gradients reaching mu and log sigma^2, the loss against
numbers worked out by hand. They point at the broken piece before any FID is computed; they carry no points.
Writes OUT/parts.json: [{"part", "ok", "message"}], one line each.
"""
import json
import math
import os
import sys
import traceback
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # stages.py (this script's folder is first)

import torch
from sandbox import become
from stages import PARTS


class Wrong(Exception):
    """The part is written but does not do what it must: the message says what is wrong, in one line."""


def where(error: BaseException) -> str:
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith("model.py"):
            return f" (model.py, line {frame.lineno})"
    return ""


def call(what: str, fn, *args, **kwargs):
    """fn(*args): a stub's NotImplementedError says "not written yet", any other error says where it happened."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as error:  # the starter's stubs say what is not written yet, and how
        text = " ".join(str(error).split()) or f"{what} raises NotImplementedError"
        raise Wrong(text if "not written yet" in text else f"not written yet: {text}") from None
    except Exception as error:
        raise Wrong(f"{what} fails: {type(error).__name__}: {' '.join(str(error).split())[:200]}{where(error)}") \
            from None


def tensor_of_shape(value, shape: tuple, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise Wrong(f"{what} returned a {type(value).__name__}, not a tensor of shape {list(shape)}")
    if tuple(value.shape) != shape:
        raise Wrong(f"{what} returned shape {list(value.shape)}; it must be {list(shape)}")
    return value


class Parts:
    """The modules, built once; each check is a method named after its part."""

    def __init__(self, model):
        self.model = model
        torch.manual_seed(0)
        self.x = torch.rand(4, 1, 32, 32)

    def encoder(self):
        self.enc = call("Encoder()", self.model.Encoder)
        h = call("encoder(x)", self.enc, self.x)
        if not isinstance(h, torch.Tensor) or h.dim() != 2 or h.shape[0] != 4:
            shape = list(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
            raise Wrong(f"encoder(x) for x of shape [4, 1, 32, 32] returned {shape}; it must return features [4, F]")
        self.h = h.detach()

    def latent_module(self):
        """Latent() and its dim, built once (the prior and the decoder need only these, not the encoder)."""
        if not hasattr(self, "lat"):
            lat = call("Latent()", self.model.Latent)
            dim = getattr(lat, "dim", None)
            if not isinstance(dim, int) or dim < 1:
                raise Wrong("Latent needs an attribute dim: the size of the latent code (an int)")
            self.lat, self.dim = lat, dim
        return self.lat, self.dim

    def latent(self):
        _, dim = self.latent_module()
        out = call("latent(h)", self.lat, self.h)
        if not isinstance(out, tuple) or len(out) != 3:
            raise Wrong("latent(h) must return a tuple (z, mu, logvar)")
        for name, value in zip(("z", "mu", "logvar"), out):
            tensor_of_shape(value, (4, dim), f"latent(h)'s {name}")

    def reparameterisation(self):
        # Many draws for one input: (z - mu) / sigma must be standard normal. The input is scaled until some
        # log-variance is far from 0, where sigma = exp(logvar / 2) differs from every wrong formula.
        n = 4096
        with torch.no_grad():
            for scale in (1, 4, 16, 64):
                z, mu, logvar = call("latent(h)", self.lat, scale * self.h[:1].expand(n, -1))
                if logvar.abs().max() > 1:
                    break
        eps = (z - mu) / torch.exp(0.5 * logvar)
        if not torch.isfinite(eps).all():
            raise Wrong("z, mu or logvar holds NaN or inf")
        mean, std = eps.mean(0), eps.std(0)
        if (mean.abs() > 5 / math.sqrt(n)).any() or ((std - 1).abs() > 0.08).any():
            raise Wrong(f"z is not mu + exp(logvar / 2) * eps with eps ~ N(0, I): over {n} draws, (z - mu) / sigma has "
                        f"mean {mean.abs().max():.3f} and standard deviation {std.min():.2f} to {std.max():.2f} "
                        "(expected 0 and 1; is sigma exp(logvar / 2), not exp(logvar)?)")

    def gradients(self):
        z, mu, logvar = call("latent(h)", self.lat, self.h)
        if not (mu.requires_grad and logvar.requires_grad):
            raise Wrong("mu and logvar carry no gradient: compute them from h with the layers of Latent")
        mu.retain_grad()
        logvar.retain_grad()
        call("z.sum().backward()", z.sum().backward)
        if mu.grad is None or not torch.allclose(mu.grad, torch.ones_like(mu), atol=1e-5):
            raise Wrong("gradients do not reach mu through z: draw the noise separately and add it "
                        "(z = mu + sigma * eps), not with torch.normal or a detached mu")
        if logvar.grad is None or not torch.allclose(logvar.grad, 0.5 * (z - mu).detach(), atol=1e-5):
            raise Wrong("gradients do not reach logvar through z as they should: sigma must be exp(logvar / 2), "
                        "computed from logvar itself (not detached)")

    def prior(self):
        sample = self.latent_module()[0].sample
        a = call("latent.sample(7, generator=...)", sample, 7, generator=torch.Generator().manual_seed(3))
        tensor_of_shape(a, (7, self.dim), "latent.sample(7, generator=...)")
        b = call("latent.sample(7, generator=...)", sample, 7, generator=torch.Generator().manual_seed(3))
        if not torch.equal(a, b):
            raise Wrong("latent.sample(n, generator) gives different codes for the same generator seed: draw its "
                        "randomness from the generator it is given (torch.randn(..., generator=generator))")

    def decoder(self):
        self.latent_module()
        dec = call("Decoder()", self.model.Decoder)
        with torch.no_grad():
            x_hat = tensor_of_shape(call("decoder(z)", dec, torch.randn(4, self.dim)), (4, 1, 32, 32), "decoder(z)")
        if not torch.isfinite(x_hat).all() or x_hat.min() < 0 or x_hat.max() > 1:
            raise Wrong(f"decoder(z) must give pixels in [0, 1]; they span [{x_hat.min():.2f}, {x_hat.max():.2f}]: "
                        "end the decoder with nn.Sigmoid()")

    def loss(self):
        loss = getattr(self.model, "vae_loss", None)
        if loss is None:
            raise Wrong("model.py has no function vae_loss(x, x_hat, mu, logvar, beta)")
        # Two images of 4 pixels, a 2-d code. Reconstruction: 0.5 * (0.25 + 0.25) = 0.25 and 0.5 * 1 = 0.5,
        # batch mean 0.375. KL at sigma = 1 is 0.5 * |mu|^2: 0.5 and 2.0, mean 1.25; at sigma^2 = e^-2 and mu = 0
        # it is 0.5 * (1 + e^-2) per dimension.
        x = torch.tensor([[1.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 1.0]]).view(2, 1, 2, 2)
        x_hat = torch.tensor([[0.5, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 1.0]]).view(2, 1, 2, 2)
        mu, logvar = torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.zeros(2, 2)
        total, reconstruction, kl = call("vae_loss(...)", loss, x, x_hat, mu, logvar, beta=1.0)
        if not math.isclose(float(reconstruction), 0.375, abs_tol=1e-5):
            raise Wrong(f"the reconstruction term is {float(reconstruction):.4f} on a case worked by hand where it is "
                        "0.375: half the squared error, summed over each image's pixels, averaged over the batch")
        if not math.isclose(float(kl), 1.25, abs_tol=1e-5):
            raise Wrong(f"the KL term is {float(kl):.4f} on a case worked by hand where it is 1.25: "
                        "-0.5 * (1 + logvar - mu^2 - exp(logvar)), summed over dimensions, averaged over the batch")
        narrow = call("vae_loss(...)", loss, x[:1], x[:1], torch.zeros(1, 3), torch.full((1, 3), -2.0))[2]
        if not math.isclose(float(narrow), 1.5 * (1 + math.exp(-2)), abs_tol=1e-5):
            raise Wrong(f"the KL term is {float(narrow):.4f} for mu = 0 and logvar = -2 in 3 dimensions, where it is "
                        f"{1.5 * (1 + math.exp(-2)):.4f}: check the sign and the exp(logvar) term")
        half = call("vae_loss(...)", loss, x, x_hat, mu, logvar, beta=0.5)[0]
        if not (math.isclose(float(total), 1.625, abs_tol=1e-5) and math.isclose(float(half), 1.0, abs_tol=1e-5)):
            raise Wrong(f"the total is {float(total):.4f} at beta 1 and {float(half):.4f} at beta 0.5, where it is "
                        "1.625 and 1.0: total = reconstruction + beta * KL")


def run(root: Path) -> list[dict]:
    """Every part in order; a part that needs an earlier one that failed is not run, and says so."""
    sys.path.insert(0, str(root))
    try:
        import model
    except Exception as error:
        return [{"part": part, "ok": False, "message": f"model.py cannot be imported: {type(error).__name__}: "
                                                       f"{' '.join(str(error).split())[:200]}{where(error)}"}
                for part in PARTS]
    parts, results, broken = Parts(model), [], set()
    needs = {"latent": {"encoder"}, "reparameterisation": {"latent"}, "gradients": {"latent"}}
    for part in PARTS:
        missing = needs.get(part, set()) & broken
        if missing:
            broken.add(part)
            results.append({"part": part, "ok": False,
                            "message": f"not checked: needs {', '.join(sorted(missing))} (fix that first)"})
            continue
        try:
            getattr(parts, part)()
            results.append({"part": part, "ok": True, "message": ""})
        except Wrong as wrong:
            broken.add(part)
            results.append({"part": part, "ok": False, "message": str(wrong)})
    return results


def main(root: str, out: str, uid: str = "") -> None:
    torch.set_num_threads(1)
    if uid:
        os.chown(out, int(uid), int(uid))
        become(int(uid))  # for good, before any student code; if it fails, nothing of the student's runs
    try:
        results = run(Path(root))
    except BaseException as error:  # SystemExit from model.py included
        results = [{"part": part, "ok": False, "message": f"model.py stopped the checks: {type(error).__name__}: "
                                                          f"{' '.join(str(error).split())[:200]}"} for part in PARTS]
    (Path(out) / "parts.json").write_text(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:4])
