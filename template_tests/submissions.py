"""Submissions the tests grade: the baseline (untrained, or with code added to model.py), honest variants a good
student would try, and what a student could hand in instead of a generative model: decoders that store real
digits and look them up. Shared by the tests and the benchmarks."""
import importlib.util
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tests.grader import config
from tests.grader.images import load_folder, to_uint8

BASE_MODEL = (config.ROOT / "model.py").read_text()

TRAIN = load_folder(config.TRAIN_DIR)
REFERENCE = load_folder(config.REFERENCE_DIR)
KINDS = ("exact", "shifted", "noise 0.05", "noise 0.1", "posed", "rotated 20-30")  # what the copy check catches
# Replays changed beyond a pose, which the copy check does not undo: what still gets through (README).
DEFORMED = ("warp 0.5", "warp 1.2", "warp 2", "thickened", "thinned", "blend 70/30", "blend 50/50")


def replayed(digits: np.ndarray, kind: str, n: int = 1000, seed: int = 0) -> np.ndarray:
    """n replays of real digits (uint8 [N, 32, 32]) as a cheating decoder would return them: exact, shifted by up
    to 2 px in each direction, with Gaussian noise of sigma 0.05 or 0.1 (then clipped and stored as 8-bit, like
    samples), in a new pose (posed: rotation, scale and shift), turned by 20-30 degrees, or changed beyond a pose
    (DEFORMED: elastic warps of 0.5-2 px, strokes a pixel thicker or thinner, blends with a second digit)."""
    rng = np.random.default_rng(seed)
    images = digits[rng.integers(0, len(digits), n)] if len(digits) < n else digits[rng.permutation(len(digits))[:n]]
    if kind == "shifted":
        return np.stack([np.roll(im, tuple(rng.integers(-2, 3, 2)), (0, 1)) for im in images])
    if kind.startswith("noise"):
        return noised(images, float(kind.split()[1]), seed)
    if kind == "posed":
        return posed(images, seed)
    if kind.startswith("warp"):
        return warped(images, float(kind.split()[1]), seed=seed)
    if kind in ("thickened", "thinned"):
        return stroked(images, kind == "thickened")
    if kind == "rotated 20-30":
        return rotated(images, 20, 30, seed)
    if kind.startswith("blend"):  # "blend 70/30": 70% of the digit, 30% of another
        return blended(images, digits[rng.integers(0, len(digits), len(images))], int(kind.split()[1][:2]) / 100)
    assert kind == "exact", kind
    return images


def load_model(folder: Path):
    """The module model.py of a submission folder, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"variant_{abs(hash(str(folder)))}", Path(folder) / "model.py")
    variant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(variant)
    return variant


def make_submission(folder: Path, extra_code: str = "", fill=None) -> Path:
    """A submission whose model.py is the baseline plus extra_code, with state dicts that fit it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(BASE_MODEL + "\n" + extra_code)
    variant = load_model(folder)
    torch.manual_seed(0)
    modules = {"encoder": variant.Encoder(), "latent": variant.Latent(), "decoder": variant.Decoder()}
    if fill:
        fill(modules)
    for name, module in modules.items():
        torch.save(module.state_dict(), folder / f"{name}.pth")
    (folder / "result.csv").write_text("epoch,loss,reconstruction,kl,fid\n1,30.0,29.0,1.0,\n")
    return folder


def posed(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each digit (uint8 [N, 32, 32]) in a random new pose: rotation up to 15 degrees, scale 0.9-1.1, shift up to
    1.5 px (what a few lines of affine_grid give a student)."""
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    angle = (torch.rand(n, generator=g) * 2 - 1) * np.pi / 12
    scale = 0.9 + 0.2 * torch.rand(n, generator=g)
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * 1.5 / 16  # affine_grid's units: 16 px per unit
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # the grid maps output to input pixels
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    x = torch.from_numpy(images).float().div(255)[:, None]
    return to_uint8(F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False).numpy())


def warped(images: np.ndarray, sigma: float, smooth: float = 4.0, seed: int = 0) -> np.ndarray:
    """Each digit (uint8 [N, 32, 32]) bent by an elastic warp of its own: a random displacement field smoothed by a
    Gaussian of smooth px, scaled to sigma px standard deviation (Simard et al.'s augmentation for handwriting)."""
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    at = torch.arange(-12.0, 13.0)
    kernel = torch.exp(-at ** 2 / (2 * smooth ** 2))
    kernel = kernel / kernel.sum()
    field = torch.randn(n * 2, 1, 56, 56, generator=g)  # wider than the image: no edge effects in the smoothing
    field = F.conv2d(F.conv2d(field, kernel.view(1, 1, -1, 1)), kernel.view(1, 1, 1, -1))[:, 0, :32, :32]
    field = field.view(n, 2, 32, 32)
    field = field * sigma / field.flatten(1).std(1).view(n, 1, 1, 1)  # px, each digit's own field at sigma
    identity = F.affine_grid(torch.eye(2, 3).expand(n, 2, 3), (n, 1, 32, 32), align_corners=False)
    grid = identity + field.permute(0, 2, 3, 1) / 16  # grid_sample's units: 16 px per unit
    x = torch.from_numpy(images).float().div(255)[:, None]
    return to_uint8(F.grid_sample(x, grid, align_corners=False).numpy())


def stroked(images: np.ndarray, thicker: bool) -> np.ndarray:
    """Strokes a pixel thicker (grayscale dilation by a 2 x 2 square) or thinner (erosion by it)."""
    x = torch.from_numpy(images).float()[:, None]
    x = F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 2, 1) if thicker else -F.max_pool2d(F.pad(-x, (0, 1, 0, 1)), 2, 1)
    return x[:, 0].numpy().astype(np.uint8)


def rotated(images: np.ndarray, low: float, high: float, seed: int = 0) -> np.ndarray:
    """Each digit turned about the image centre by low to high degrees, clockwise or not."""
    g = torch.Generator().manual_seed(seed)
    n = len(images)
    degrees = low + (high - low) * torch.rand(n, generator=g)
    angle = torch.deg2rad(degrees * torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0))
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros(n)], 1), torch.stack([sin, cos, torch.zeros(n)], 1)], 1)
    x = torch.from_numpy(images).float().div(255)[:, None]
    return to_uint8(F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False).numpy())


def blended(images: np.ndarray, others: np.ndarray, share: float) -> np.ndarray:
    """share of each digit plus 1 - share of another: a ghost of a second digit over the first."""
    return np.rint(share * images + (1 - share) * others.astype(float)).astype(np.uint8)


def noised(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    noisy = images / 255 + np.random.default_rng(seed).normal(0, sigma, images.shape)
    return np.rint(np.clip(noisy, 0, 1) * 255).astype(np.uint8)


LOOKUP = """
class Decoder(Decoder):
    # Stores real digits (and a code for each) and %s.
    def __init__(self):
        super().__init__()
        self.register_buffer("bank", torch.zeros(%d, 1, 32, 32))
        self.register_buffer("keys", torch.zeros(%d, LATENT_DIM))

    def forward(self, z):
        %s
"""
LOOKUPS = {  # kind: (what it does, its forward)
    "hash": ("returns the one picked by a hash of z",
             "return self.bank[(z[:, 0] * 1e4).long().abs() % len(self.bank)]"),
    "nearest": ("returns the one whose code is nearest to z", "return self.bank[torch.cdist(z, self.keys).argmin(1)]"),
    "blend": ("blends them by a softmax of closeness to their codes",
              "w = torch.softmax(-torch.cdist(z, self.keys) ** 2 / 0.05, dim=1)\n"
              "        return (w @ self.bank.flatten(1)).view(-1, 1, 32, 32)"),
}


def lookup_submission(folder: Path, kind: str, images: np.ndarray) -> Path:
    """A decoder that keeps images (uint8 [N, 32, 32]) in decoder.pth and looks them up by z (LOOKUPS)."""
    what, forward = LOOKUPS[kind]
    bank = torch.from_numpy(images).float().div(255)[:, None]
    keys = torch.randn(len(images), 8, generator=torch.Generator().manual_seed(2))  # spread like the prior

    def fill(modules):
        modules["decoder"].bank.copy_(bank)
        modules["decoder"].keys.copy_(keys)
    return make_submission(folder, LOOKUP % (what, len(images), len(images), forward), fill)


LATENT_SIZE = ("class Latent(Latent):\n    def __init__(self):\n        super().__init__(%d)\n\n\n"
               "class Decoder(Decoder):\n    def __init__(self):\n        super().__init__(%d)\n")
HONEST = {  # name: code added to the baseline's model.py; trained briefly by train_variant
    "latent-2": LATENT_SIZE % (2, 2),
    "latent-16": LATENT_SIZE % (16, 16),
    "latent-32": LATENT_SIZE % (32, 32),
    "bn-dropout": """
class Decoder(Decoder):
    # BatchNorm after each transposed convolution, and dropout: both in eval() when the grader samples.
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.BatchNorm2d(CHANNELS), nn.LeakyReLU(0.01), nn.Dropout2d(0.1),
            nn.ConvTranspose2d(CHANNELS, CHANNELS, 4, stride=2, padding=1), nn.BatchNorm2d(CHANNELS),
            nn.LeakyReLU(0.01),
            nn.ConvTranspose2d(CHANNELS, 16, 4, stride=2, padding=1), nn.BatchNorm2d(16), nn.LeakyReLU(0.01),
            nn.Dropout(0.1), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())
""",
    "upsample-conv": """
class Decoder(Decoder):
    # Upsampling and convolutions instead of transposed convolutions.
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.LeakyReLU(0.01), nn.Upsample(scale_factor=2), nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1),
            nn.LeakyReLU(0.01), nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(CHANNELS, 16, 3, padding=1),
            nn.LeakyReLU(0.01), nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid())
""",
    "mlp-decoder": """
class Decoder(Decoder):
    # Fully connected, with ReLU.
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(LATENT_DIM, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                                 nn.Linear(512, 32 * 32), nn.Sigmoid())

    def forward(self, z):
        return self.mlp(z).view(-1, 1, 32, 32)
""",
}

MIXTURE_PRIOR = """
class Latent(Latent):
    # Prior: a Gaussian mixture, one component per digit class, fitted to the training digits' codes mu.
    def __init__(self):
        super().__init__()
        self.register_buffer("means", torch.zeros(10, LATENT_DIM))
        self.register_buffer("stds", torch.ones(10, LATENT_DIM))

    def sample(self, n, generator=None):
        k = torch.randint(0, 10, (n,), generator=generator)
        return self.means[k] + self.stds[k] * torch.randn(n, LATENT_DIM, generator=generator)
"""


def train_variant(folder: Path, name: str = "", epochs: int = 40, beta: float = 1.0,
                  code: str | None = None) -> Path:
    """The baseline, or an honest variant of HONEST (or the code given), trained the notebook's way (Adam 1e-3,
    batches of 32, vae_loss with this beta) in this process; briefly by default: what the stage 'generated' looks at
    is how the decoder is built, which a short run already shows."""
    folder = make_submission(folder, HONEST.get(name, "") if code is None else code)
    variant = load_model(folder)
    torch.manual_seed(0)
    modules = [variant.Encoder(), variant.Latent(), variant.Decoder()]
    optimiser = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=1e-3)
    x = torch.from_numpy(TRAIN).float().div(255)[:, None]
    for _ in range(epochs):
        for batch in x[torch.randperm(len(x))].split(32):
            z, mu, logvar = modules[1](modules[0](batch))
            loss = variant.vae_loss(batch, modules[2](z), mu, logvar, beta)[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    for module, name in zip(modules, ("encoder", "latent", "decoder")):
        torch.save(module.state_dict(), folder / f"{name}.pth")
    return folder


def mixture_prior_submission(folder: Path, trained: Path) -> Path:
    """The trained baseline with its prior replaced by a per-class Gaussian mixture of its training codes (the
    README suggests a better prior; this is one)."""
    labels = np.loadtxt(config.TRAIN_DIR / "labels.csv", delimiter=",", skiprows=1, usecols=1, dtype=int)
    states = {name: torch.load(Path(trained) / f"{name}.pth", weights_only=True) for name in ("encoder", "latent")}

    def fill(modules):
        modules["encoder"].load_state_dict(states["encoder"])
        modules["latent"].load_state_dict(states["latent"], strict=False)
        modules["decoder"].load_state_dict(torch.load(Path(trained) / "decoder.pth", weights_only=True))
        with torch.no_grad():
            mu = modules["latent"].mu(modules["encoder"](torch.from_numpy(TRAIN).float().div(255)[:, None]))
        for k in range(10):
            modules["latent"].means[k] = mu[labels == k].mean(0)
            modules["latent"].stds[k] = mu[labels == k].std(0)
    return make_submission(folder, MIXTURE_PRIOR, fill)


STORED_BLEND = """
class Latent(Latent):
    # The prior picks one of the stored codes (plus a little noise, if any) ...
    def __init__(self):
        super().__init__()
        self.register_buffer("keys", torch.zeros(%(n)d, LATENT_DIM))

    def sample(self, n, generator=None):
        z = self.keys[torch.randint(0, len(self.keys), (n,), generator=generator)]
        return z + %(noise)r * torch.randn(z.shape, generator=generator)


class Decoder(Decoder):
    # ... and the decoder blends the stored digits by closeness to their codes, plus a small smooth term, so that
    # its output never stands still and moves in proportion to any step in z.
    def __init__(self):
        super().__init__()
        self.register_buffer("bank", torch.zeros(%(m)d, 1, 32, 32))
        self.register_buffer("keys", torch.zeros(%(m)d, LATENT_DIM))
        self.register_buffer("mix", torch.zeros(LATENT_DIM, 32 * 32))

    def forward(self, z):
        w = torch.softmax(-torch.cdist(z, self.keys) ** 2 / %(temperature)r, dim=1)
        x = w @ self.bank.flatten(1) + 0.02 * %(term)s
        return x.clamp(0, 1).view(-1, 1, 32, 32)
"""


def stored_blend_submission(folder: Path, images: np.ndarray, sampled: int, keys: torch.Tensor,
                            generator: torch.Generator, **blend) -> Path:
    """A decoder that keeps images (uint8 [M, 32, 32]) with a code each (keys [M, 8]) and blends them (STORED_BLEND,
    with blend's noise, temperature and term); the prior draws only the first sampled codes."""
    bank = torch.from_numpy(images).float().div(255)[:, None]

    def fill(modules):
        modules["decoder"].bank.copy_(bank)
        modules["decoder"].keys.copy_(keys)
        modules["decoder"].mix.copy_(torch.randn(8, 32 * 32, generator=generator))
        modules["latent"].keys.copy_(keys[:sampled])
    return make_submission(folder, STORED_BLEND % {"n": sampled, "m": len(images), **blend}, fill)


def smooth_lookup_submission(folder: Path, images: np.ndarray) -> Path:
    """Stored digits behind a smooth blend plus a small smooth term, sampled at their own codes: it passes the stage
    'generated' (no jump, no standing still) and returns near-exact copies, which the stage 'copies' must catch."""
    generator = torch.Generator().manual_seed(2)
    keys = 10 * torch.randn(len(images), 8, generator=generator)
    return stored_blend_submission(folder, images, len(images), keys, generator, noise=0.01, temperature=30,
                                   term="torch.sin(z @ self.mix)")


def warp_cheat_submission(folder: Path, digits: np.ndarray, count: int = 500, sigma: float = 1.2,
                          noise: float = 0.0, hidden: np.ndarray | None = None) -> Path:
    """The cheat of the issue 'stored digits in any warp': count real digits, each bent once by its own elastic warp
    (sigma px), stored in decoder.pth with a code each; the prior returns stored codes (plus noise of that sigma) and
    the decoder blends the stored digits sharply, plus a small term so that small steps in z change the image in
    proportion. Its samples are clean handwritten digits that no rigid pose brings back to their sources. hidden:
    digits stored beside them, with codes of their own that the prior never draws."""
    stored = warped(digits[:count], sigma)
    if hidden is not None:
        stored = np.concatenate([stored, hidden])
    generator = torch.Generator().manual_seed(3)
    keys = torch.randn(len(stored), 8, generator=generator)
    return stored_blend_submission(folder, stored, count, keys, generator, noise=noise, temperature=0.5,
                                   term="torch.tanh((z - w @ self.keys) @ self.mix)")


WARP_AFRESH = """
class Latent(Latent):
    # The prior picks a stored digit's code and adds the control points of a fresh elastic warp ...
    def __init__(self):
        super().__init__(8 + 32)
        self.register_buffer("keys", torch.zeros(%(n)d, 8))

    def sample(self, n, generator=None):
        z = self.keys[torch.randint(0, len(self.keys), (n,), generator=generator)]
        return torch.cat([z + 0.05 * torch.randn(z.shape, generator=generator),
                          %(warp)r * torch.randn(n, 32, generator=generator)], 1)


class Decoder(Decoder):
    # ... and the decoder blends the stored digits by closeness to their codes, then bends the blend by the warp.
    def __init__(self):
        super().__init__(8 + 32)
        self.register_buffer("bank", torch.zeros(%(n)d, 1, 32, 32))
        self.register_buffer("keys", torch.zeros(%(n)d, 8))

    def forward(self, z):
        w = torch.softmax(-torch.cdist(z[:, :8], self.keys) ** 2 / 0.5, dim=1)
        x = (w @ self.bank.flatten(1)).view(-1, 1, 32, 32)
        field = F.interpolate(z[:, 8:].reshape(-1, 2, 4, 4), size=32, mode="bicubic", align_corners=True)
        grid = F.affine_grid(torch.eye(2, 3).expand(len(z), 2, 3), x.shape, align_corners=False)
        return F.grid_sample(x, grid + field.permute(0, 2, 3, 1), align_corners=False).clamp(0, 1)
"""


def warp_afresh_submission(folder: Path, digits: np.ndarray, sigma: float = 1.2) -> Path:
    """Stored digits (the 100 training digits, say) bent by a fresh elastic warp at every draw: the warp's control
    points are part of the code, so the prior is continuous and the decoder smooth in z. A lookup dressed as
    augmentation."""
    bank = torch.from_numpy(digits).float().div(255)[:, None]
    keys = torch.randn(len(digits), 8, generator=torch.Generator().manual_seed(4))

    def fill(modules):
        modules["decoder"].bank.copy_(bank)
        modules["decoder"].keys.copy_(keys)
        modules["latent"].keys.copy_(keys)
    code = "import torch.nn.functional as F\n" + WARP_AFRESH % {"n": len(digits), "warp": sigma / 16}
    return make_submission(folder, code, fill)


NARROW_PRIOR = """
class Latent(Latent):
    # Prior: codes around those of a few training digits only (the baseline narrowed to a class or two).
    def __init__(self):
        super().__init__()
        self.register_buffer("centres", torch.zeros(%d, LATENT_DIM))

    def sample(self, n, generator=None):
        pick = torch.randint(len(self.centres), (n,), generator=generator)
        return self.centres[pick] + 0.3 * torch.randn(n, LATENT_DIM, generator=generator)
"""


def narrowed_submission(folder: Path, trained: Path, classes: tuple[int, ...]) -> Path:
    """The trained baseline drawing only the given digit classes: its prior narrowed to the codes mu of the
    training digits of those classes."""
    labels = np.loadtxt(config.TRAIN_DIR / "labels.csv", delimiter=",", skiprows=1, usecols=1, dtype=int)
    chosen = torch.from_numpy(TRAIN[np.isin(labels, classes)]).float().div(255)[:, None]

    def fill(modules):
        for name in ("encoder", "latent", "decoder"):
            modules[name].load_state_dict(torch.load(Path(trained) / f"{name}.pth", weights_only=True), strict=False)
        with torch.no_grad():
            modules["latent"].centres.copy_(modules["latent"].mu(modules["encoder"](chosen)))
    return make_submission(folder, NARROW_PRIOR % len(chosen), fill)


def augmented(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The 100 digits as an honest student augments them: a shift of up to 2 px, a rotation of up to 10 degrees,
    and a small elastic warp (a smooth random displacement of about 1 px)."""
    n = len(batch)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * np.pi / 18
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * 2 / 16
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, batch.shape, align_corners=False)
    warp = F.interpolate(torch.randn(n, 2, 4, 4, generator=generator), size=32, mode="bicubic", align_corners=False)
    grid = grid + warp.permute(0, 2, 3, 1) * (1.0 / 16)
    return F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")


def train_on(folder: Path, digits: np.ndarray, steps: int, name: str = "", seed: int = 0, start: Path | None = None,
             augment: bool = False) -> Path:
    """A submission trained the notebook's way (Adam 1e-3, shuffled epochs in batches of 32, vae_loss) for steps
    steps on digits (uint8 [N, 32, 32]): the baseline or a variant of HONEST, from fresh modules or from the
    weights in start (fine-tuning), with augmentation or not. What a student who breaks the data rule would run,
    too: digits other than the 100."""
    folder = make_submission(folder, HONEST.get(name, ""))
    variant = load_model(folder)
    torch.manual_seed(seed)
    modules = [variant.Encoder(), variant.Latent(), variant.Decoder()]
    names = ("encoder", "latent", "decoder")
    if start is not None:
        for module, part in zip(modules, names):
            module.load_state_dict(torch.load(Path(start) / f"{part}.pth", weights_only=True))
    optimiser = torch.optim.Adam([p for m in modules for p in m.parameters()], lr=1e-3)
    x = torch.from_numpy(digits).float().div(255)[:, None]
    generator = torch.Generator().manual_seed(seed)
    done = 0
    while done < steps:
        for batch in x[torch.randperm(len(x))].split(32):
            batch = augmented(batch, generator) if augment else batch
            z, mu, logvar = modules[1](modules[0](batch))
            loss = variant.vae_loss(batch, modules[2](z), mu, logvar)[0]
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            done += 1
            if done == steps:
                break
    for module, part in zip(modules, names):
        module.eval()
        torch.save(module.state_dict(), folder / f"{part}.pth")
    return folder


def noised_copy(folder: Path, source: Path, fraction: float, seed: int = 0) -> Path:
    """A classmate's submission with Gaussian noise of fraction of each tensor's spread added to every float
    tensor of the three state dicts: other bytes, nearly the same model."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text((Path(source) / "model.py").read_text())
    generator = torch.Generator().manual_seed(seed)
    for part in ("encoder", "latent", "decoder"):
        state = torch.load(Path(source) / f"{part}.pth", weights_only=True)
        for key, tensor in state.items():
            if tensor.is_floating_point():
                spread = tensor.std() if tensor.numel() > 1 else tensor.abs()
                state[key] = tensor + fraction * spread * torch.randn(tensor.shape, generator=generator)
        torch.save(state, folder / f"{part}.pth")
    (folder / "result.csv").write_text((Path(source) / "result.csv").read_text())
    return folder


WIDENED_PRIOR = """
class Latent(Latent):
    # The same model, sampled with its prior widened (a temperature above 1).
    def sample(self, n, generator=None):
        return %r * super().sample(n, generator)
"""


def widened_prior_copy(folder: Path, source: Path, factor: float = 1.2) -> Path:
    """A classmate's weights, untouched, under a model.py that widens the prior by factor."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text((Path(source) / "model.py").read_text() + "\n" + WIDENED_PRIOR % factor)
    for name in ("encoder.pth", "latent.pth", "decoder.pth", "result.csv"):
        (folder / name).write_bytes((Path(source) / name).read_bytes())
    return folder
