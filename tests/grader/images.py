"""PNG in, PNG out. Images travel as uint8 [N, 32, 32] arrays: exactly what the PNGs hold."""
from pathlib import Path

import numpy as np
from PIL import Image


def load_folder(folder: Path) -> np.ndarray:
    files = sorted(Path(folder).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"no PNG images in {folder}")
    return np.stack([np.asarray(Image.open(f).convert("L")) for f in files])


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[N, 1, H, W] floats in [0, 1] -> [N, H, W] uint8, rounded as PIL would store them."""
    return np.rint(np.clip(images[:, 0], 0.0, 1.0) * 255).astype(np.uint8)


def save_folder(images: np.ndarray, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image, mode="L").save(folder / f"{i:04d}.png")


def grid(images: np.ndarray, columns: int = 16, scale: int = 2) -> Image.Image:
    """Tile uint8 [N, H, W] images row by row with 1 px grey gutters, upscaled so a browser shows them crisply."""
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    h, w = images.shape[1:]
    canvas = np.full((rows * (h + 1) + 1, columns * (w + 1) + 1), 96, np.uint8)
    for k, image in enumerate(images):
        top, left = 1 + (k // columns) * (h + 1), 1 + (k % columns) * (w + 1)
        canvas[top:top + h, left:left + w] = image
    return Image.fromarray(canvas, mode="L").resize((canvas.shape[1] * scale, canvas.shape[0] * scale),
                                                    Image.NEAREST)
