"""What is wrong with the samples, in words a student can act on: pure functions of digit features and labels
(instruments/digits.py) and of the copy check's near-copy share (copies.py).

An FID says how far the samples are from real digits, not why. Three reasons pull it up, each with its own fix:
- realism: the share of samples that land among real digits in feature space (precision, Kynkaanniemi et al.
  2019). Low when samples are blurry or malformed: the decoder or the loss.
- variety: the share of real digits that have a sample near them (recall, same paper), with the share of
  samples per class beside it. Low when the model draws few kinds of digit: posterior collapse, or a prior that
  does not match the codes.
- spread: how far apart two samples are on average, as a share of the same for real digits. Tells samples that
  are all the same image (an untrained model, a collapsed posterior) from blurry but varied ones: both have
  near-zero realism and variety, since a blur lies far from every real digit.
- near-copies: the share of samples the copy check finds far closer to a shipped digit than to the others.
  High when the model memorised its training digits (too many epochs).
Every threshold sits between models with the problem and models without it, sampled as the grader samples;
template_tests/test_digits.py trains one model with each problem (too blurry, untrained, narrowed to one or two
classes) and holds the advice to it, beside the baseline, which must draw none.
"""
from dataclasses import dataclass

import numpy as np

from ..instruments.fid import frechet_distance

K_NEIGHBOURS = 3  # Kynkaanniemi et al. 2019: small k keeps outliers from inflating the manifold
EXPECTED_SHARE = 0.10  # the reference digits hold 100 of each class

# Real digits the repository does not hold (the calibration set, 500 of them against the 1,000 reference
# digits): what a perfect model would show, quoted to students beside their own numbers.
REAL_DIGIT_FID = 1.8
REAL_REALISM = 0.93
REAL_VARIETY = 0.91
REAL_NEAR_COPIES = 0.012

# Thresholds, set between the models with and without each problem (template_tests/test_digits.py).
LOW_REALISM = 0.71
LOW_VARIETY = 0.25
LOW_SPREAD = 0.15
MISSING_SHARE = 0.01  # fewer than 1 sample in 100: the class is as good as absent
RARE_SHARE = 0.03  # drawn less than a third as often as among real digits
MANY_SHARE = 0.25  # drawn more than twice as often
MANY_COPIES = 0.05


@dataclass(frozen=True)
class RealDigits:
    """What the diagnostics need of the reference digits; computed once per grader (they never change)."""
    feats: np.ndarray   # [1000, 128] digit features
    radii: np.ndarray   # distance from each to its K_NEIGHBOURS-th nearest neighbour
    spread: float       # mean distance between two of them


@dataclass
class Diagnosis:
    digit_fid: float          # Frechet distance in the digit classifier's 128-d features (lower is better)
    realism: float            # share of samples inside the real digits' manifold
    variety: float            # share of real digits inside the samples' manifold
    spread: float             # mean distance between two samples / the same for real digits
    class_shares: np.ndarray  # [10]: share of samples the classifier labels 0..9
    near_copies: float        # share of samples the copy check flags

    @property
    def missing(self) -> list[int]:
        return [c for c, share in enumerate(self.class_shares) if share < MISSING_SHARE]


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(sq, 0, None))


def knn_radii(feats: np.ndarray, k: int = K_NEIGHBOURS) -> np.ndarray:
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    return np.partition(pairwise_distances(feats, feats), k, axis=1)[:, k]  # column 0: itself, at distance 0


def mean_distance(feats: np.ndarray) -> float:
    """Mean distance between two different points of the set."""
    n = len(feats)
    return float(pairwise_distances(feats, feats).sum() / max(n * (n - 1), 1))


def real_digits(reference_feats: np.ndarray) -> RealDigits:
    return RealDigits(reference_feats, knn_radii(reference_feats), mean_distance(reference_feats))


def coverage(points: np.ndarray, manifold: np.ndarray, radii: np.ndarray | None = None) -> float:
    """Share of points inside the union of balls around the manifold's points, each ball reaching that
    point's k-th neighbour: the support estimate of Kynkaanniemi et al. 2019. radii: knn_radii(manifold),
    if already known (the reference digits' never change)."""
    radii = knn_radii(manifold) if radii is None else radii
    return float((pairwise_distances(points, manifold) <= radii[None, :]).any(1).mean())


def realism(sample_feats: np.ndarray, reference_feats: np.ndarray, reference_radii=None) -> float:
    """Precision: the share of samples that fall among real digits."""
    return coverage(sample_feats, reference_feats, reference_radii)


def variety(sample_feats: np.ndarray, reference_feats: np.ndarray) -> float:
    """Recall: the share of real digits that some sample comes close to."""
    return coverage(reference_feats, sample_feats)


def class_shares(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=10)[:10] / max(len(labels), 1)


def diagnose(sample_feats: np.ndarray, sample_labels: np.ndarray, real: RealDigits,
             near_copies: float) -> Diagnosis:
    """sample_feats, sample_labels: digits.features_and_labels of the samples; real: real_digits() of the
    reference features; near_copies: CopyReport.fraction of the grader's copy check."""
    return Diagnosis(digit_fid=frechet_distance(sample_feats, real.feats),
                     realism=realism(sample_feats, real.feats, real.radii),
                     variety=variety(sample_feats, real.feats),
                     spread=mean_distance(sample_feats) / real.spread,
                     class_shares=class_shares(sample_labels), near_copies=near_copies)


def percent(share: float) -> str:
    return f"{share:.1%}" if 0 < share < 0.1 else f"{share:.0%}"


def listed(items: list[str], last: str = "or") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def classes_in_words(shares: np.ndarray) -> str:
    """'no 4s or 5s, few 9s (2.0%), many 1s (31%)'; '' when every class is drawn about as often as it should."""
    top = int(np.argmax(shares))
    if shares[top] >= 0.9:
        return f"only {top}s ({percent(shares[top])})"
    parts = []
    none = [f"{c}s" for c, s in enumerate(shares) if s == 0]
    almost = [f"{c}s ({percent(s)})" for c, s in enumerate(shares) if 0 < s < MISSING_SHARE]
    rare = [f"{c}s ({percent(s)})" for c, s in enumerate(shares) if MISSING_SHARE <= s < RARE_SHARE]
    many = [f"{c}s ({percent(s)})" for c, s in enumerate(shares) if s > MANY_SHARE]
    for words, items, last in (("no", none, "or"), ("almost no", almost, "or"), ("few", rare, "or"),
                               ("many", many, "and")):
        if items:
            parts.append(f"{words} {listed(items, last)}")
    return ", ".join(parts)


def problems(d: Diagnosis) -> list[str]:
    """The problems found, the one to fix first at the front.

    Low variety (or a missing class) has three causes, told apart by realism and spread: blurs lie far from
    every real digit, so a blurry model covers few of them (low realism, samples still differ); a collapsed or
    untrained one draws one image (low realism, no spread); a narrow prior draws good digits of few kinds (high
    realism). Copies come after: a model that draws few kinds copies the training digits of those kinds."""
    found = []
    if d.variety < LOW_VARIETY or d.missing:
        if d.realism < LOW_REALISM:
            found.append("alike" if d.spread < LOW_SPREAD else "blurry")
        else:
            found.append("narrow")
    if d.near_copies >= MANY_COPIES:
        found.append("copies")
    return found


def explain(problem: str, d: Diagnosis) -> tuple[str, str]:
    """(what is wrong, what to change) for one problem."""
    classes = classes_in_words(d.class_shares)
    if problem == "alike":
        return (f"The samples do not look like digits (realism {percent(d.realism)}; real digits "
                f"{percent(REAL_REALISM)}) and are nearly all the same image (they differ from each other "
                f"{percent(d.spread)} as much as real digits do)",
                "either the model has not learnt yet or its posterior collapsed. In result.csv, a kl column near 0 "
                "means collapse: lower BETA towards 1. A reconstruction loss that stayed high means too little "
                "training, or a bug in the loss.")
    if problem == "blurry":
        return (f"Only {percent(d.realism)} of the samples look like real digits (realism; real digits "
                f"{percent(REAL_REALISM)})",
                "the others are blurry or malformed. Train longer (the reconstruction loss in result.csv should "
                "still be falling), lower BETA towards 1 (a large KL weight blurs), or give the decoder more "
                "capacity.")
    if problem == "narrow":
        what = f"the samples show {classes}" if classes else "the samples are too alike"
        return (f"Too little variety: {what}, and only {percent(d.variety)} of real digits have a sample near "
                f"them (real digits {percent(REAL_VARIETY)})",
                "the digits are well drawn, but Latent.sample does not reach all kinds. Its draws must cover the "
                "codes mu of every training digit: compare the two, or fit the prior to those codes.")
    if problem == "copies":
        return (f"{percent(d.near_copies)} of the samples are near-copies of real digits (real "
                f"digits {percent(REAL_NEAR_COPIES)}; above 25% the grade is 0)",
                "the model is memorising its 100 training digits, which lowers the FID without learning to "
                "draw. Stop training before the share grows, or make nearby codes overlap (BETA of 1 or more, "
                "augmentation) so that the decoder must draw new digits.")
    raise ValueError(problem)


def advice(d: Diagnosis) -> str:
    """One short paragraph: the first problem with what to change, then the next one in a clause."""
    found = problems(d)
    if not found:
        classes = classes_in_words(d.class_shares)
        summary = (f"Realism {percent(d.realism)}, variety {percent(d.variety)} "
                   f"(real digits {percent(REAL_REALISM)} and {percent(REAL_VARIETY)}), "
                   f"{classes or 'every class drawn'}, {percent(d.near_copies)} near-copies.")
        if REAL_VARIETY - d.variety >= REAL_REALISM - d.realism:
            return (f"{summary} The larger gap is variety: real digits unlike any sample. A prior that follows the "
                    "codes of the training digits more closely (say a mixture of Gaussians in Latent) draws more of "
                    "the kinds the decoder can make.")
        return (f"{summary} The larger gap is realism: samples unlike any real digit. Better-formed digits come "
                "from a stronger decoder or longer training, while the near-copies stay low.")
    what, change = explain(found[0], d)
    text = f"{what}: {change}"
    if len(found) > 1:
        second, _ = explain(found[1], d)
        text += f" Also: {second[0].lower()}{second[1:]}."
    return text
