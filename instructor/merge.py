"""`python -m instructor merge PART_DIR... --out OUT_DIR [--summary FILE]`: join the outputs of a sliced regrade
(`regrade --slice K/N`, one OUT_DIR per part, e.g. one per GitHub Actions job) into what one run over the whole
class writes: gradebook.csv, feedback/, samples/, the contact sheet and state.json. Identical submissions are
found across parts as one run finds them (same_weights_as: byte-identical weights or identical samples), and so
are nearly identical models (similar_to: every pair of the class, from the signatures each part kept).

A part that is missing (a job that failed) is named, not guessed at: its students are not in the gradebook. The
merged OUT_DIR is a regrade's own output folder: `regrade` into it later grades only what changed. Needs numpy
and Pillow, not torch.
"""
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean, median

from instructor import baseline, similarity
from instructor.regrade import copy_outputs, parse_slice, publish, sole_writer, write_gradebook, write_state
from tests.grader.stages import measured

NOT_CLONED = "not-cloned.txt"  # written by the regrade workflow's clone step: one "repo<TAB>git's last words" a line


class MergeError(Exception):
    """Why these folders cannot be joined, in one line."""


@dataclass
class Part:
    folder: Path
    entries: dict           # repo -> its state.json entry ({"key", "row"}), for the repositories in its gradebook
    slice: tuple | None     # (k, n) from --slice, or None for a whole-class run
    not_cloned: list[str]


@dataclass
class Merged:
    rows: list[dict]
    parts: list[Part]
    missing: list[str] = field(default_factory=list)  # "k/n" of the parts that were expected and not given
    not_cloned: list[str] = field(default_factory=list)


def read_part(folder: Path) -> Part:
    folder = Path(folder)
    gradebook, state_file = folder / "gradebook.csv", folder / "state.json"
    if not (gradebook.is_file() and state_file.is_file()):
        raise MergeError(f"{folder} is not a finished regrade's output (no gradebook.csv and state.json)")
    state = json.loads(state_file.read_text())
    with open(gradebook, newline="") as f:
        names = [row["repo"] for row in csv.DictReader(f)]
    unknown = [name for name in names if name not in state]
    if unknown:
        raise MergeError(f"{folder}: {unknown[0]} is in gradebook.csv but not in state.json; run its regrade again")
    part = (folder / "slice.txt").read_text().strip() if (folder / "slice.txt").is_file() else ""
    not_cloned = (folder / NOT_CLONED).read_text().splitlines() if (folder / NOT_CLONED).is_file() else []
    return Part(folder, {name: state[name] for name in names}, parse_slice(part) if part else None,
                [line for line in not_cloned if line.strip()])


def merge(folders: list[Path], out: Path) -> Merged:
    out = Path(out)
    if out.resolve() in {Path(f).resolve() for f in folders}:
        raise MergeError(f"--out {out} is one of the parts: merge into a folder of its own")
    parts = [read_part(folder) for folder in folders]
    missing = missing_parts(parts)
    found = {}  # repo -> (entry, the part it came from)
    for part in parts:
        for name, entry in part.entries.items():
            if name in found and found[name][0]["key"] != entry["key"]:
                raise MergeError(f"{name} is in {found[name][1].folder} and {part.folder} with different "
                                 "submissions or graders: merge the parts of one regrade")
            found.setdefault(name, (entry, part))
    graders = {entry["key"].split(":", 1)[0] for entry, _ in found.values()}
    if len(graders) > 1:
        raise MergeError(f"the parts were graded by {len(graders)} different graders (tests/grader/ or the digits "
                         "differ): regrade every part with one checkout")
    for folder in (out, out / "feedback", out / "samples", out / similarity.FOLDER):
        folder.mkdir(parents=True, exist_ok=True)
    with sole_writer(out):
        state = {}
        for name in sorted(found):
            entry, part = found[name]
            copy_outputs(name, part.folder, out)
            state[name] = entry
        write_state(out, state)
        keep_template_baseline(parts, out)
        rows = [state[name]["row"] for name in sorted(state)]  # the order one run writes: by repository name
        write_gradebook(rows, out)
        not_cloned = sorted({line for part in parts for line in part.not_cloned})
        if not_cloned:
            publish(out / NOT_CLONED, "".join(f"{line}\n" for line in not_cloned).encode())
        else:
            (out / NOT_CLONED).unlink(missing_ok=True)
    return Merged(rows, parts, missing, not_cloned)


def keep_template_baseline(parts: list[Part], out: Path) -> None:
    """The template's baseline of the parts (one regrade: one baseline), or none if no part kept one."""
    kept = [part.folder for part in parts if (part.folder / baseline.FILE).is_file()]
    for name in (baseline.FILE, baseline.NOTE):
        if kept and (kept[0] / name).is_file():
            publish(out / name, (kept[0] / name).read_bytes())
        else:
            (out / name).unlink(missing_ok=True)


def missing_parts(parts: list[Part]) -> list[str]:
    counts = {part.slice[1] for part in parts if part.slice}
    if not counts or any(part.slice is None for part in parts):
        return []
    if len(counts) > 1:
        raise MergeError(f"the parts come from different slicings ({', '.join(f'/{n}' for n in sorted(counts))}): "
                         "each repository would be in none or in several; merge the parts of one regrade")
    n = counts.pop()
    given = {part.slice[0] for part in parts}
    return [f"{k}/{n}" for k in range(1, n + 1) if k not in given]


def summary_markdown(merged: Merged, failures_shown: int = 100) -> str:
    """The class at a glance, for the workflow's run page ($GITHUB_STEP_SUMMARY) or a file."""
    rows = merged.rows
    scored = [row for row in rows if measured(row["status"])]
    given = sorted(f"{p.slice[0]}/{p.slice[1]}" for p in merged.parts if p.slice)
    lines = [f"## Class regrade: {len(rows)} repositories, {len(scored)} with a score", "", "| | |", "|---|---|"]
    if merged.missing:
        lines.append(f"| **parts missing** | **{', '.join(merged.missing)}**: their repositories are not in this "
                     "gradebook (the job failed or was cancelled: re-run it, then this merge) |")
    lines.append(f"| parts merged | {len(merged.parts)}" + (f" ({len(given)} of {given[0].split('/')[1]})" if given
                                                             else "") + " |")
    if scored:
        marks = [int(row["points"]) for row in scored]
        lines.append(f"| points of those with a score | median {median(marks):g}, mean {mean(marks):.1f}, "
                     f"min {min(marks)}, max {max(marks)} |")
    lines.append(f"| without a score | {len(rows) - len(scored)} (listed below) |")
    groups = {row["same_weights_as"] and ";".join(sorted([row["repo"], *row["same_weights_as"].split(";")]))
              for row in rows} - {""}
    lines.append(f"| identical submissions | {len(groups)} group(s)" +
                 "".join(f"<br>{group.replace(';', ' = ')}" for group in sorted(groups)[:20]) + " |")
    near = similarity.groups(rows)
    lines.append(f"| nearly the same model (similar_to) | {len(near)} group(s)" +
                 "".join(f"<br>{' ~ '.join(group)}" for group in near[:20]) + " |")
    if merged.not_cloned:
        lines.append(f"| **could not be cloned** | **{len(merged.not_cloned)}**: "
                     + "; ".join(line.split("\t")[0] for line in merged.not_cloned[:20])
                     + (" ..." if len(merged.not_cloned) > 20 else "") + f" (reasons in {NOT_CLONED}) |")
    failed = [row for row in rows if not measured(row["status"])]
    if failed:
        lines += ["", "### Without a score", "", "| repository | stage | reason |", "|---|---|---|"]
        lines += [f"| {row['repo']} | {row['stage']} | {str(row['reason']).replace('|', '/')[:200]} |"
                  for row in failed[:failures_shown]]
        if len(failed) > failures_shown:
            lines.append(f"| ... | | {len(failed) - failures_shown} more in gradebook.csv |")
    return "\n".join(lines) + "\n"
