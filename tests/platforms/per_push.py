"""The per-push workflow's points for this run: python tests/platforms/per_push.py >> "$GITHUB_OUTPUT".

GitHub Classroom's command grader is all-or-nothing, so the workflow grades with gates of 0 points and this
step reports the score as 100 one-point tests "score >= i": the reporter's table and its total then agree, and
Points = round(clamp(100 - FID, 0, 100)). Status "error" with 0 points whenever this run produced no trusted
FID. The FID is read only from the result_autograding.csv the grader wrote in this run: prepare_test.sh deletes
any older one, and a committed copy is refused here.
"""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.grader import config
from tests.grader.feedback.report import summary_markdown
from tests.grader.scoring import MAX_POINTS, points
from tests.grader.stages import Result


def committed(path: Path) -> bool:
    probe = subprocess.run(["git", "ls-files", "--error-unmatch", path.name], cwd=path.parent,
                           capture_output=True)
    return probe.returncode == 0


def trusted_result() -> tuple[Result | None, str]:
    path = config.RESULT_CSV
    if not path.is_file():
        return None, "the grader wrote no result_autograding.csv in this run (see the 'run' step's log)"
    if committed(path):
        return None, "result_autograding.csv is committed to the repository: delete it from git; the grader writes it"
    try:
        result = Result.read(path)
    except (OSError, ValueError, TypeError) as error:
        return None, f"result_autograding.csv is unreadable ({error})"
    return result, result.problem()


ARTIFACT_NOTE = ("Pictures: the `grader-output` artifact of this run (`data/sample/grid/samples.png`, the samples; "
                 "`diagnostics.png`, the digit classes and the samples most like a training digit).")


def classroom_json(earned: int, result: Result | None, why_not: str) -> dict:
    fid = f"FID {result.fid:.2f}" if result and result.fid is not None else "no FID"
    message = why_not or f"{fid}: score {earned}/100"
    tests = [{"name": f"score >= {i}", "status": "pass" if earned >= i else "fail", "score": int(earned >= i),
              "message": message if i == 1 else "", "test_code": "", "filename": "", "line_no": 0,
              "execution_time": ""} for i in range(1, MAX_POINTS + 1)]
    return {"version": 1, "status": "error" if why_not else "pass", "max_score": MAX_POINTS, "tests": tests}


def main() -> None:
    result, why_not = trusted_result()
    earned = 0 if why_not else points(result)
    encoded = base64.b64encode(json.dumps(classroom_json(earned, result, why_not)).encode()).decode()
    print(f"result={encoded}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write(summary_markdown(result, why_not, ARTIFACT_NOTE))
    print(f"Points {earned}/{MAX_POINTS}" + (f" ({why_not})" if why_not else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
