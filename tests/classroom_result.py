"""The Classroom points for this run: python tests/classroom_result.py >> "$GITHUB_OUTPUT".

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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.grader import config  # noqa: E402
from tests.grader.report import read_result, score_from_fid  # noqa: E402

MAX_POINTS = 100


def committed(path: Path) -> bool:
    probe = subprocess.run(["git", "ls-files", "--error-unmatch", path.name], cwd=path.parent,
                           capture_output=True)
    return probe.returncode == 0


def trusted_result() -> tuple[dict | None, str]:
    path = config.RESULT_CSV
    if not path.is_file():
        return None, "the grader wrote no result_autograding.csv in this run (see the 'run' step's log)"
    if committed(path):
        return None, "result_autograding.csv is committed to the repository: delete it from git; the grader writes it"
    try:
        result = read_result(path)
    except (OSError, ValueError) as error:
        return None, f"result_autograding.csv is unreadable ({error})"
    if result.get("status") != "ok":
        return result, f"stage '{result.get('stage')}': {result.get('reason')}"
    return result, ""


def points_for(result: dict | None, problem: str) -> int:
    if problem or result is None:
        return 0
    return round(score_from_fid(float(result["fid"])))


def classroom_json(points: int, result: dict | None, problem: str) -> dict:
    fid = f"FID {float(result['fid']):.2f}" if result and result.get("fid") else "no FID"
    message = problem or f"{fid}: score {points}/100"
    tests = [{"name": f"score >= {i}", "status": "pass" if points >= i else "fail", "score": int(points >= i),
              "message": message if i == 1 else "", "test_code": "", "filename": "", "line_no": 0,
              "execution_time": ""} for i in range(1, MAX_POINTS + 1)]
    return {"version": 1, "status": "error" if problem else "pass", "max_score": MAX_POINTS, "tests": tests}


def summary_markdown(points: int, result: dict | None, problem: str) -> str:
    rows = [("Points", f"**{points} / {MAX_POINTS}**")]
    if problem:
        rows.append(("Problem", problem))
    for key, label in (("fid", "FID vs held-out"), ("fid_train", "FID vs training set"), ("kid", "KID"),
                       ("memorised_fraction", "memorised fraction"), ("n_samples", "samples"), ("seed", "seed"),
                       ("weights_official", "official Inception weights"), ("seconds", "grading seconds")):
        if result and result.get(key, "") != "":
            rows.append((label, result[key]))
    if result and result.get("note"):
        rows.append(("note", result["note"]))
    lines = ["## VAE autograder", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), "",
             "Sample grid: the `grader-output` artifact of this run (`data/sample/grid/samples.png`)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    result, problem = trusted_result()
    points = points_for(result, problem)
    encoded = base64.b64encode(json.dumps(classroom_json(points, result, problem)).encode()).decode()
    print(f"result={encoded}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a") as f:
            f.write(summary_markdown(points, result, problem))
    print(f"Points {points}/{MAX_POINTS}" + (f" ({problem})" if problem else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
