"""Score the run: python -m unittest tests/eval_test.py, after tests/run_test.py wrote result_autograding.csv.

score = clamp(100 - FID, 0, 100), FID recomputed by the grader in this run from your own weights. The FID your
notebook wrote to result.csv is shown beside it, for comparison only.
"""
import math
import unittest

import pandas as pd

from tests.grader import config
from tests.grader.feedback.report import table
from tests.grader.scoring import score_from_fid
from tests.grader.stages import Result

__unittest = True


def claimed_fid() -> str:
    """The last FID in the student's result.csv, or '-' (display only: never used for the score)."""
    try:
        fid = pd.read_csv(config.STUDENT_CSV)["fid"].dropna()
        return f"{float(fid.iloc[-1]):.2f}" if len(fid) else "-"
    except Exception:
        return "-"


class EvalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.result = Result.read(config.RESULT_CSV) if config.RESULT_CSV.is_file() else None
        if cls.result is not None:
            print(f"\n{table(cls.result)}\n  FID in your result.csv {claimed_fid()}   (not used for the score)",
                  flush=True)

    def setUp(self):
        if self.result is None:
            self.fail("result_autograding.csv is missing: run `bash tests/prepare_test.sh` and "
                      "`python -m unittest tests/run_test.py` first.")

    def test_grading_completed(self):
        if not self.result.ok:
            self.fail(f"no score: stage '{self.result.stage}' failed: {self.result.reason}")

    def test_samples_are_not_copies_of_real_digits(self):
        if self.result.memorisation_passed is False:
            self.fail(f"{self.result.memorised_fraction:.0%} of the samples are near-copies of real digits "
                      f"(limit {config.COPIES_MAX_FRACTION:.0%}): score 0.")

    def test_score_is_100_minus_fid(self):
        if not self.result.ok:
            self.skipTest("no FID in this run")
        fid, score = self.result.fid, self.result.score
        self.assertTrue(math.isfinite(fid) and fid >= 0, f"FID {fid} is not a distance")
        self.assertAlmostEqual(score, score_from_fid(fid), places=3)
        print(f"\nScore: {score:.2f} / 100{self.result.caveat}", flush=True)


if __name__ == "__main__":
    unittest.main()
