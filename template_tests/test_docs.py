"""The numbers README.md states about the grade are the numbers the grader uses: each is read from the text a
student reads and held to the constant in code, so that the two cannot drift apart."""
import json
import re

import pytest

from tests.grader import config, copies
from tests.grader.feedback import diagnostics

README = " ".join((config.ROOT / "README.md").read_text().split())  # one line: a number may sit at a line break
CLASSIFIER = json.loads((config.ROOT / "tests" / "grader" / "instruments" / "digit_classifier.json").read_text())


def stated(pattern: str) -> tuple[str, ...]:
    found = re.search(pattern, README)
    assert found, f"README.md no longer says {pattern!r}"
    return found.groups()


def number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.parametrize("pattern, constant", [
    (r"draws \*\*([\d,]+) samples\*\*", config.N_SAMPLES),
    (r"fixed \*\*seed (\d+)\*\*", config.SEED),
    (r"in batches of (\d+), on the CPU", config.SAMPLE_BATCH),
    (r"More than (\d+)% of the probed points", 100 * config.PROBE_LIMIT),
    (r"More than (\d+)% near-copies", 100 * config.COPIES_MAX_FRACTION),
    (r"More than (\d+)% of the samples drawn from a code", 100 * config.REPEATS_MAX_FRACTION),
    (r"below ([\d.]+)×, score 0", config.LEARNED_MIN_TRAINING_ADVANTAGE),
    (r"above ([\d.]+)×, score 0", config.LEARNED_MAX_REFERENCE_ADVANTAGE),
    (r"training advantage \(limit ≥ ([\d.]+)\)", config.LEARNED_MIN_TRAINING_ADVANTAGE),
    (r"reference advantage \(limit ≤ ([\d.]+)\)", config.LEARNED_MAX_REFERENCE_ADVANTAGE),
    (r"the 100 training digits, ([\d,]+) held-out reference digits", config.INVERSION_DIGITS),
    (r"([\d,]+) held-out reference digits and [\d,]+ MNIST digits", config.INVERSION_DIGITS),
    (r"Each file must be under (\d+) MB", config.MAX_FILE_BYTES / 2 ** 20),
    (r"rotation up to (\d+)°", copies.MAX_ANGLE),
    (r"shift up to ([\d.]+) px\)", copies.MAX_SHIFT),
    (r"digit classifier shipped with the grader \(([\d.]+)% accurate\)",
     100 * CLASSIFIER["accuracy"]["reference"]["value"]),
    (r"Real digits: realism (\d+)%", 100 * diagnostics.REAL_REALISM),
    (r"Real digits: realism \d+%, variety (\d+)%", 100 * diagnostics.REAL_VARIETY),
    (r"Real digits: realism \d+%, variety \d+%, digit FID ([\d.]+)", diagnostics.REAL_DIGIT_FID),
])
def test_the_readme_states_the_graders_numbers(pattern, constant):
    (text,) = stated(pattern)
    assert number(text) == pytest.approx(constant), f"README.md says {text} where the grader uses {constant}"


def test_the_readme_states_the_copy_checks_scale_range():
    low, high = stated(r"scale ([\d.]+)–([\d.]+)")
    assert (number(low), number(high)) == (copies.MIN_SCALE, copies.MAX_SCALE)
