"""result_autograding.csv: `key,value` rows, read by eval_test.py and by the Classroom workflow."""
import csv
from pathlib import Path

# The order the rows are written in, and the only keys a reader may rely on.
KEYS = ("status", "stage", "reason", "fid", "score", "fid_train", "kid", "kid_std", "memorised_fraction",
        "memorisation_passed", "n_samples", "seed", "weights_official", "weights_sha256", "note", "torch",
        "seconds")


WEIGHTS_LABEL = {"true": "official", "false": "UNOFFICIAL"}


def score_from_fid(fid: float) -> float:
    """The grade: 100 - FID, clamped to [0, 100]."""
    return min(100.0, max(0.0, 100.0 - fid))


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
        f"  memorised fraction  {cell('memorised_fraction', '{:.3f}')}   (pass: {cell('memorisation_passed')})",
        f"  Inception weights   {WEIGHTS_LABEL.get(str(result.get('weights_official', '')), 'not loaded')}"
        f" (sha256 {str(result.get('weights_sha256', ''))[:12] or '-'})",
    ]
    if result.get("reason"):
        lines.insert(1, f"  reason              {result['reason']}")
    if result.get("note"):
        lines.append(f"  note                {result['note']}")
    return "\n".join(lines)
