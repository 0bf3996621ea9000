"""`python -m instructor regrade SUBMISSIONS_DIR --out OUT_DIR [--jobs N]`: grade every student repository under
SUBMISSIONS_DIR (one folder each) with the grader of the checkout this runs from, never with the student's tests/.

Writes OUT_DIR/gradebook.csv (a row per repository), OUT_DIR/feedback/<repo>.md (what that student would read),
OUT_DIR/samples/<repo>.png (their sample grid) and OUT_DIR/contact-sheet.png (a labelled row of samples per
student: a class in one picture). OUT_DIR/state.json lets a second run skip every repository whose commit,
submitted files and grader are unchanged. One broken repository never stops the run.
"""
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from tests.grader import config, sandbox
from tests.grader.images import load_folder
from tests.grader.pipeline import default_cache_dir, grade, prepare_instruments
from tests.grader.report import summary_markdown
from tests.grader.scoring import points
from tests.grader.stages import Result

ROOT = config.ROOT
COLUMNS = ("repo", "commit", "status", "stage", "reason", "fid", "kid", "score", "points", "memorised_fraction",
           "protected_changes", "same_weights_as", "seconds")
PROTECTED = ("tests", ".github")
STRIP = 16  # samples per student on the contact sheet


def repositories(submissions: Path) -> list[Path]:
    return sorted(p for p in Path(submissions).iterdir() if p.is_dir() and not p.name.startswith("."))


def digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + (hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-"))
    return h.hexdigest()


def commit_of(repo: Path) -> str:
    """The checked-out commit, or '' when repo is not the top of a git repository of its own."""
    done = subprocess.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel", "HEAD"], capture_output=True,
                          text=True)
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != Path(repo).resolve():
        return ""
    return lines[1]


def grader_digest() -> str:
    """Changes whenever the grade could: the grader's code, its digits, its settings."""
    files = sorted((ROOT / "tests" / "grader").glob("*.py"))
    return digest([*files, config.REFERENCE_DIR / "SHA256SUMS", config.TRAIN_DIR / "SHA256SUMS"])


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).digest() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def protected_changes(repo: Path) -> list[str]:
    """Files under tests/ and .github/ that the student added, removed or changed: shown, never graded. A folder
    with more than a few changed files is named once, with their count."""
    changed = []
    for top in PROTECTED:
        ours, theirs = files_under(ROOT / top), files_under(repo / top)
        changed += [f"{top}/{name}" for name in sorted(ours.keys() | theirs.keys()) if ours.get(name) != theirs.get(name)]
    folders = {}
    for path in changed:
        folders.setdefault(path.rsplit("/", 1)[0], []).append(path)
    return [entry for folder, paths in folders.items()
            for entry in (paths if len(paths) <= 3 else [f"{folder}/ ({len(paths)} files)"])]


def grade_files(repo: Path, out: Path, tools) -> tuple[Result, str]:
    """Grade one submission (grade() never raises, whatever the repository holds); keep its sample grid and a
    strip of samples for the contact sheet. Returns the result and a digest of its samples ('' when none)."""
    with tempfile.TemporaryDirectory(prefix="vae-regrade-") as tmp:
        sample_dir = Path(tmp) / "sample"
        result = grade(repo, sample_dir=sample_dir, result_csv=None, tools=tools)
        samples = sorted(sample_dir.glob("*.png"))
        if samples:
            shutil.copy(sample_dir / "grid" / "samples.png", out / "samples" / f"{repo.name}.png")
            np.save(out / "samples" / f"{repo.name}.npy", load_folder(sample_dir)[:STRIP])
        return result, digest(samples) if samples else ""


def reuse(source: Path, repo: Path, out: Path) -> None:
    """The same files give the same grade (fixed seed, one thread): a twin gets its source's pictures."""
    for ext in ("png", "npy"):
        if (out / "samples" / f"{source.name}.{ext}").is_file():
            shutil.copy(out / "samples" / f"{source.name}.{ext}", out / "samples" / f"{repo.name}.{ext}")


def row_for(repo: Path, result: Result, samples_digest: str, out: Path, grader: str, seconds: float) -> dict:
    """The gradebook row of one repository, and the feedback its student reads."""
    changes = protected_changes(repo)
    weights = [repo / name for name in config.WEIGHT_FILES]
    row = {"repo": repo.name, "commit": commit_of(repo), "points": points(result),
           "protected_changes": ";".join(changes), "seconds": round(seconds, 1),
           "weights": digest(weights) if all(p.is_file() for p in weights) else "",
           "samples_digest": samples_digest}
    row.update({key: "" if getattr(result, key) is None else getattr(result, key)
                for key in ("status", "stage", "reason", "fid", "kid", "score", "memorised_fraction")})
    footer = (f"Graded by your instructor with the course's own grader ({grader[:12]}) on commit "
              f"{row['commit'][:12] or 'unknown'}.")
    if changes:
        shown = ", ".join(changes[:5]) + (", ..." if len(changes) > 5 else "")
        footer += (f" Files under tests/ or .github/ differ from the course's ({len(changes)}: {shown}); they do not "
                   "change this grade.")
    (out / "feedback" / f"{repo.name}.md").write_text(summary_markdown(result, footer=footer))
    return row


def same_as(rows: list[dict]) -> None:
    """Fill same_weights_as: the other repositories with byte-identical weights, or identical samples."""
    for row in rows:
        twins = [other["repo"] for other in rows if other is not row and (
            (row["weights"] and row["weights"] == other["weights"])
            or (row["samples_digest"] and row["samples_digest"] == other["samples_digest"]))]
        row["same_weights_as"] = ";".join(twins)


def contact_sheet(rows: list[dict], out: Path) -> Path:
    scale = 2 if len(rows) <= 200 else 1
    cell, label_width = 32 * scale + 2, 260
    sheet = Image.new("L", (label_width + STRIP * cell, max(1, len(rows)) * cell), 40)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12 * scale // 2 + 6)
    for k, row in enumerate(rows):
        top = k * cell
        text = f"{row['repo'][:28]}  {row['points']}/100" if row["status"] == "ok" else \
            f"{row['repo'][:28]}  0 ({row['stage']})"
        draw.text((6, top + cell // 2), text, fill=255, font=font, anchor="lm")
        strip = out / "samples" / f"{row['repo']}.npy"
        if strip.is_file():
            for j, image in enumerate(np.load(strip)):
                tile = Image.fromarray(image).resize((32 * scale, 32 * scale), Image.NEAREST)
                sheet.paste(tile, (label_width + j * cell + 1, top + 1))
    path = out / "contact-sheet.png"
    sheet.save(path)
    return path


def regrade(submissions: Path, out: Path, jobs: int = 1) -> list[dict]:
    out = Path(out)
    for folder in (out, out / "feedback", out / "samples"):
        folder.mkdir(parents=True, exist_ok=True)
    state_file = out / "state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    grader = grader_digest()
    repos = repositories(submissions)
    files = {repo.name: digest([repo / n for n in config.SUBMISSION_FILES]) for repo in repos}
    key = {repo.name: f"{grader}:{commit_of(repo)}:{files[repo.name]}" for repo in repos}
    todo = [repo for repo in repos if state.get(repo.name, {}).get("key") != key[repo.name]]
    print(f"{len(repos)} repositories: {len(repos) - len(todo)} unchanged since the last run, {len(todo)} to grade")
    if todo:
        jail = sandbox.choose()
        if jail.uid is None:
            print(f"warning: sandbox off ({jail.why_not}): each student's model.py will run as you. Prefer root "
                  "in a disposable container or VM, or a GitHub runner.", file=sys.stderr)
        import torch
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // jobs))  # jobs share the cores, no oversubscription
        tools = prepare_instruments(default_cache_dir())  # once for the class, before any student code runs
        twins = {}  # files digest -> the repositories that submitted exactly those files; one grading serves all
        for repo in todo:
            twins.setdefault(files[repo.name], []).append(repo)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(grade_files, group[0], out, tools): group for group in twins.values()}
            for future in tqdm(as_completed(futures), total=len(futures), desc="regrading", unit="repo"):
                source, *others = futures[future]
                result, samples_digest = future.result()
                for repo in others:
                    reuse(source, repo, out)
                for repo in (source, *others):
                    seconds = (result.seconds or 0.0) if repo is source else 0.0
                    state[repo.name] = {"key": key[repo.name],
                                        "row": row_for(repo, result, samples_digest, out, grader, seconds)}
                state_file.write_text(json.dumps(state, indent=1))  # a stopped run keeps what it finished
    rows = [state[repo.name]["row"] for repo in repos]
    same_as(rows)
    with open(out / "gradebook.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    contact_sheet(rows, out)
    return rows
