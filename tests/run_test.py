"""Grade the submission: python -m unittest tests/run_test.py tests/eval_test.py (on any OS; CI runs
tests/prepare_test.sh first, which changes nothing here: the grader clears its own old outputs).

First the part checks (tests/parts_test.py: which piece of model.py is missing or wrong, no points). Then the
grade: samples from your encoder.pth / latent.pth / decoder.pth with a fixed seed, checks the samples, measures
FID against the held-out digits, and writes result_autograding.csv and data/sample/ (grid: data/sample/grid/).
"""
import unittest

from tests.grader.feedback.report import table
from tests.grader.pipeline import grade
from tests.parts_test import PartsTest  # noqa: F401  (run first: unittest takes the classes in name order)

__unittest = True  # a failure shows its one-line reason, not this file's traceback


class RunTest(unittest.TestCase):
    def test_grade_submission(self):
        result = grade()
        print("\n" + table(result), flush=True)
        if not result.ok:
            self.fail(result.problem())


if __name__ == "__main__":
    unittest.main()
