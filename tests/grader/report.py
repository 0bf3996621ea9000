"""What the grade looks like: result_autograding.csv (`key,value` rows, read by eval_test.py, the workflows and
the instructors' tools), the points, and the Markdown a student reads on the run's page or Release."""
import csv
from pathlib import Path

# The order the rows are written in, and the only keys a reader may rely on.
KEYS = ("status", "stage", "reason", "fid", "score", "fid_train", "kid", "kid_std", "memorised_fraction",
        "memorisation_passed", "copies_training", "copies_reference", "n_samples", "seed",
        "weights_official", "weights_sha256", "note", "sandbox", "torch", "inception", "seconds")


WEIGHTS_LABEL = {"true": "official", "false": "UNOFFICIAL"}


MAX_POINTS = 100


def score_from_fid(fid: float) -> float:
    """The grade: 100 - FID, clamped to [0, 100]."""
    return min(100.0, max(0.0, 100.0 - fid))


def points(result: dict | None) -> int:
    """Whole points of MAX_POINTS: round(clamp(100 - FID)) when every stage passed, else 0."""
    if not result or result.get("status") != "ok" or result.get("fid") in ("", None):
        return 0
    return round(score_from_fid(float(result["fid"])))


def problem(result: dict | None) -> str:
    """The one-line reason there are no points, or ''."""
    if not result:
        return "the grader wrote no result"
    if result.get("status") != "ok":
        return f"stage '{result.get('stage')}': {result.get('reason')}"
    return ""


SUMMARY_ROWS = (("fid", "FID vs held-out", "{:.2f}"), ("fid_train", "FID vs training set", "{:.2f}"),
                ("kid", "KID", "{:.4f}"), ("memorised_fraction", "near-copies of shipped digits", "{:.1%}"),
                ("n_samples", "samples", "{}"), ("seed", "seed", "{}"),
                ("weights_official", "official Inception weights", "{}"), ("sandbox", "sandbox", "{}"),
                ("seconds", "grading seconds", "{:.0f}"))


def summary_markdown(result: dict | None, why_not: str = "", footer: str = "") -> str:
    """The grade as a student reads it: points, the reason when there are none, every number, then footer."""
    why_not = why_not or problem(result)
    rows = [("Points", f"**{0 if why_not else points(result)} / {MAX_POINTS}**")]
    if why_not:
        rows.append(("Problem", why_not))
    for key, label, fmt in SUMMARY_ROWS:
        if result and result.get(key, "") not in ("", None):
            value = result[key]
            rows.append((label, fmt.format(float(value)) if fmt != "{}" else value))
    if result and result.get("note"):
        rows.append(("note", result["note"]))
    lines = ["## VAE autograder", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines + ([("\n" + footer)] if footer else [])) + "\n"


def write_result(result: dict, path: Path) -> None:
    tmp = Path(path).with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("key", "value"))
        for key in KEYS:
            value = result.get(key, "")
            writer.writerow((key, f"{value:.4f}" if isinstance(value, float) else value))
    tmp.replace(path)  # never a half-written file for the next stage to read


def read_result(path: Path) -> dict:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["key", "value"]:
        raise ValueError(f"{path} does not start with the header 'key,value'")
    return {row[0]: row[1] for row in rows[1:] if len(row) == 2}


def table(result: dict) -> str:
    """A few lines a person reads at a glance."""
    def cell(key, fmt="{}"):
        value = result.get(key, "")
        try:
            return fmt.format(float(value)) if value not in ("", None) and fmt != "{}" else str(value or "-")
        except ValueError:
            return str(value)
    lines = [
        f"  status              {cell('status')}" + (f"  (stage: {result['stage']})" if result.get("stage") else ""),
        f"  score               {cell('score', '{:.2f}')}   = clamp(100 - FID, 0, 100)",
        f"  FID vs held-out     {cell('fid', '{:.2f}')}   ({cell('n_samples')} samples, seed {cell('seed')})",
        f"  FID vs training set {cell('fid_train', '{:.2f}')}",
        f"  KID vs held-out     {cell('kid', '{:.5f}')} +- {cell('kid_std', '{:.5f}')}",
        f"  near-copies         {cell('memorised_fraction', '{:.3f}')}   (pass: {cell('memorisation_passed')})",
        f"  Inception weights   {WEIGHTS_LABEL.get(str(result.get('weights_official', '')), 'not loaded')}"
        f" (sha256 {str(result.get('weights_sha256', ''))[:12] or '-'})",
    ]
    if result.get("reason"):
        lines.insert(1, f"  reason              {result['reason']}")
    if result.get("sandbox"):
        lines.append(f"  sandbox             {result['sandbox']}")
    if result.get("note"):
        lines.append(f"  note                {result['note']}")
    return "\n".join(lines)
