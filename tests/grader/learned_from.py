"""Stage 'learned-from': was the model trained on the 100 training digits only?

The assignment allows nothing else, and FID cannot tell: a model trained on the held-out reference digits, or on
MNIST (one line of torchvision), simply scores better. But a model knows the digits it learned from. child/inversion.py
(in the sampling child) finds, for each of three sets of real digits, the code that explains each digit best; here
each digit's value is computed from the codes and images alone,
    value(x) = 0.5 ||x - D(z*)||^2 + 0.5 ||u*||^2     (u*: z* in the graded codes' units)
and two ratios of the sets' medians are judged:
  training advantage   reference / training. A model trained on the 100 alone explains them far better than any
                       other real digit; one trained on more explains the reference digits almost as well.
  reference advantage  unseen / reference, the unseen digits drawn from MNIST where the copy check has it. An
                       honest model explains the reference digits no better than digits nobody shipped; one
                       trained on them does.
A model that explains the reference digits hardly better than the mean training digit does has learned nothing
from any digits (untrained, or a few epochs): it is not judged. Calibration: README, What protects the grade.
"""
from dataclasses import dataclass

import numpy as np

from . import config
from .copies import SOURCES
from .stages import StageFailure

SETS = ("training", "reference", "unseen")


@dataclass
class Asked:
    """The digits the child is asked to explain, shuffled together so that their order says nothing."""
    digits: np.ndarray  # uint8 [K, 32, 32], in the shuffled order
    sets: np.ndarray    # int [K]: index into SETS
    unseen_label: str   # where the unseen digits come from, or why there are none
    by_mean: float      # the median value of the reference digits explained by the mean training digit alone


def digits_to_ask(tools, seed: int) -> Asked:
    """The training and reference digits, and MNIST's where the copy check's bank has it (tools: the instruments)."""
    mnist = SOURCES.index("mnist")
    if tools.bank is not None and (tools.bank.source == mnist).any():
        unseen, label = tools.bank.images[tools.bank.source == mnist], "MNIST"
    else:
        unseen, label = np.zeros((0, 32, 32), np.uint8), "none (no MNIST)"
    return ask(tools.train_images, tools.reference_images, unseen, label, seed)


def ask(train: np.ndarray, reference: np.ndarray, unseen: np.ndarray, unseen_label: str, seed: int) -> Asked:
    """INVERSION_DIGITS of each set (unseen may be empty: then two sets), chosen and shuffled by seed."""
    rng = np.random.default_rng(seed)
    chosen = [images[rng.permutation(len(images))[:config.INVERSION_DIGITS]]
              for images in (train, reference, unseen)]
    digits = np.concatenate(chosen)
    sets = np.concatenate([np.full(len(c), k) for k, c in enumerate(chosen)])
    order = rng.permutation(len(digits))
    x, mean = chosen[1].astype(np.float64) / 255, train.astype(np.float64).mean(0) / 255
    by_mean = float(np.median(0.5 * ((x - mean) ** 2).reshape(len(x), -1).sum(1)))
    return Asked(digits[order], sets[order], unseen_label, by_mean)


@dataclass
class Explained:
    training: float           # median value over each set's digits
    reference: float
    unseen: float | None      # None without unseen digits
    improved: float           # share of digits whose value a tiny step down the decoder's gradient lowers
    steered: float            # share of digits whose fit has a gradient with respect to z at all
    by_mean: float            # the reference digits' median value by the mean training digit alone

    @property
    def learned(self) -> bool:
        """Explains real digits clearly better than the mean training digit does. A model that does not (untrained,
        or trained a few epochs) learned nothing from any digits, so where it learned from is not judged; its FID
        says the rest."""
        return self.reference < config.LEARNED_ANYTHING * self.by_mean

    @property
    def training_advantage(self) -> float:
        return self.reference / max(self.training, 1e-9)

    @property
    def reference_advantage(self) -> float | None:
        return None if self.unseen is None else self.unseen / self.reference


def values(asked: Asked, codes: np.ndarray, images: np.ndarray) -> np.ndarray:
    x = asked.digits.astype(np.float64) / 255
    fit = 0.5 * ((x - images[:, 0].astype(np.float64)) ** 2).reshape(len(x), -1).sum(1)
    return fit + 0.5 * (codes.astype(np.float64) ** 2).sum(1)


def explained(drawn, asked: Asked) -> Explained:
    """From a child/sampling.Samples drawn with inversion; StageFailure when the decoder could not be asked."""
    if drawn.inversion_error or drawn.inverted is None:
        why = drawn.inversion_error or "no codes came back"
        raise StageFailure("learned-from", f"the grader could not ask the decoder how well it explains real digits "
                                           f"({why}): Decoder must accept any code and pass gradients to it.")
    codes, images, before, stepped, gradient = drawn.inverted
    value = values(asked, codes, images)
    if not np.isfinite(value).all():
        raise StageFailure("learned-from", "the decoder returns NaN or inf for codes that explain real digits: "
                                           "Decoder must accept any code near its prior.")
    medians = [float(np.median(value[asked.sets == k])) if (asked.sets == k).any() else None for k in range(3)]
    improved = float(np.mean(stepped < before))
    steered = float(np.mean(np.isfinite(gradient) & (gradient > 0)))
    return Explained(*medians, improved, steered, asked.by_mean)


def check_learned_from(found: Explained) -> None:
    """The stage's verdict: StageFailure('learned-from', one line) unless the model learned from the 100 alone."""
    fix = "Let gradients flow through Decoder.forward (no .detach(), rounding or lookups)."
    if found.steered < config.INVERSION_MIN_IMPROVED:
        raise StageFailure("learned-from", f"the decoder's output has no gradient with respect to z for "
                                           f"{1 - found.steered:.0%} of the digits, so the grader cannot check what "
                                           f"it learned from. {fix}")
    if not found.learned:
        return  # it learned nothing from any digits
    if found.improved < config.INVERSION_MIN_IMPROVED:
        raise StageFailure("learned-from", f"a tiny step down the decoder's gradient with respect to z improved the "
                                           f"fit of only {found.improved:.0%} of the digits (a network's: nearly "
                                           f"all): its gradients are useless, so the grader cannot check what it "
                                           f"learned from. {fix}")
    if found.training_advantage < config.LEARNED_MIN_TRAINING_ADVANTAGE:
        raise StageFailure("learned-from", f"your model explains the held-out reference digits almost as well as its "
                                           f"100 training digits ({found.training_advantage:.2f}x worse; trained on "
                                           f"the 100 alone, a model explains them at least "
                                           f"{config.LEARNED_MIN_TRAINING_ADVANTAGE:g}x worse): it was trained on "
                                           "other digits too. Train on data/train only.")
    if found.reference_advantage is not None and found.reference_advantage > config.LEARNED_MAX_REFERENCE_ADVANTAGE:
        raise StageFailure("learned-from", f"your model explains the held-out reference digits "
                                           f"{found.reference_advantage:.2f}x better than real digits nobody shipped "
                                           f"(an honest model: at most {config.LEARNED_MAX_REFERENCE_ADVANTAGE:g}x): "
                                           "it was trained on tests/reference/. Train on data/train only.")
