"""data/sample/grid/diagnostics.png: which digits the model draws, and how close its closest samples come to the
training digits. Left, the digit classifier's label of every sample against the 10% each class has among real
digits. Right, the samples most like a training digit by the copy check's own measure, each above the training
digit it is nearest to; a red frame marks a near-copy. Drawn with PIL, as the sample grid
is: no plotting library on the grader's path.
"""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .diagnostics import (
    EXPECTED_SHARE,
    MANY_SHARE,
    RARE_SHARE,
    REAL_DIGIT_FID,
    REAL_NEAR_COPIES,
    REAL_REALISM,
    REAL_VARIETY,
    Diagnosis,
    percent,
)

PAIRS = 8
WHITE, INK, GREY, RED, ORANGE, BLUE = (255, 255, 255), (30, 30, 30), (120, 120, 120), (214, 39, 40), \
    (255, 127, 14), (76, 114, 176)


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def class_chart(draw: ImageDraw.ImageDraw, shares: np.ndarray, left: int, top: int, width: int, height: int) -> None:
    ceiling = max(0.25, float(shares.max()) + 0.05)
    base = top + height
    step = width / 10
    y_of = lambda share: base - share / ceiling * height  # noqa: E731
    for c, share in enumerate(shares):
        colour = RED if share < RARE_SHARE else ORANGE if share > MANY_SHARE else BLUE
        x0 = left + c * step + step * 0.15
        draw.rectangle((x0, y_of(share), x0 + step * 0.7, base), fill=colour)
        draw.text((x0 + step * 0.35, base + 4), str(c), fill=INK, font=font(13), anchor="mt")
        if share < RARE_SHARE:
            draw.text((x0 + step * 0.35, y_of(share) - 3), "none" if share == 0 else percent(share), fill=RED,
                      font=font(11), anchor="mb")
    expected = y_of(EXPECTED_SHARE)
    for x in range(left, left + width, 8):  # a dashed line at the share every class has among real digits
        draw.line((x, expected, x + 4, expected), fill=INK, width=1)
    draw.text((left + width + 4, expected), "10%", fill=INK, font=font(11), anchor="lm")
    draw.line((left, base, left + width, base), fill=GREY)
    draw.text((left + width / 2, base + 22), "digit the classifier sees", fill=GREY, font=font(12), anchor="mt")


def save(d: Diagnosis, samples: np.ndarray, nearest: np.ndarray, ratios: np.ndarray, threshold: float,
         path: Path) -> None:
    """samples: the samples most like a training digit, most like it first; nearest: that training digit of each;
    ratios: the copy check's ratio of each (a near-copy under threshold)."""
    scale, gap = 2, 6
    cell = 32 * scale
    chart_w, pairs_w = 330, max(len(samples), PAIRS) * (cell + gap)
    canvas = Image.new("RGB", (40 + chart_w + 60 + pairs_w + 20, 330), WHITE)
    draw = ImageDraw.Draw(canvas)
    draw.text((20, 12), f"digit FID {d.digit_fid:.1f}    realism {percent(d.realism)}    variety "
                        f"{percent(d.variety)}    near-copies {percent(d.near_copies)}", fill=INK, font=font(16))
    draw.text((20, 32), f"real digits the grader has not seen: digit FID {REAL_DIGIT_FID}    realism "
                        f"{percent(REAL_REALISM)}    variety {percent(REAL_VARIETY)}    near-copies "
                        f"{percent(REAL_NEAR_COPIES)}", fill=GREY, font=font(12))
    draw.text((40, 56), "Which digits your model draws (share of samples)", fill=INK, font=font(14))
    class_chart(draw, d.class_shares, 40, 80, chart_w, 190)
    left = 40 + chart_w + 60
    draw.text((left, 56), f"Samples most like a training digit (copy-check ratio; under {threshold:.2f}: "
                          "near-copy)", fill=INK, font=font(14))
    if len(samples):
        draw.text((left - 8, 80 + cell / 2), "sample", fill=GREY, font=font(11), anchor="rm")
        draw.text((left - 8, 80 + cell + 4 + cell / 2), "training", fill=GREY, font=font(11), anchor="rm")
    else:
        draw.text((left, 80), "no sample has a training digit as its nearest real digit", fill=GREY,
                  font=font(12))
    for k, (sample, training, ratio) in enumerate(zip(samples, nearest, ratios)):
        x = left + k * (cell + gap)
        for row, image in enumerate((sample, training)):
            tile = Image.fromarray(image).resize((cell, cell), Image.NEAREST).convert("RGB")
            canvas.paste(tile, (x, 80 + row * (cell + 4)))
        copy = ratio < threshold
        if copy:
            draw.rectangle((x - 3, 77, x + cell + 2, 80 + 2 * cell + 6), outline=RED, width=2)
        draw.text((x + cell / 2, 80 + 2 * cell + 12), f"{ratio:.2f}" + (" copy" if copy else ""),
                  fill=RED if copy else INK, font=font(12), anchor="mt")
    canvas.save(path)
