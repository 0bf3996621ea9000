"""`python -m instructor regrade SUBMISSIONS_DIR --out OUT_DIR [--jobs N] [--slice K/N] [--require-sandbox]`: grade
every student repository under SUBMISSIONS_DIR (one folder each) with the grader of the checkout this runs from,
never with the student's tests/.

Writes OUT_DIR/gradebook.csv (a row per repository), OUT_DIR/feedback/<repo>.md (what that student would read),
OUT_DIR/samples/<repo>.png (their sample grid) and OUT_DIR/contact-sheet.png (a labelled row of samples per
student: a class in one picture; one sheet per 500 students). One broken repository never stops the run.

--slice K/N grades part K of N of the class, chosen by a hash of each repository's name alone: the same part on
every machine, whatever else the folder holds. `python -m instructor merge` (merge.py) joins the parts.

Killed at any moment (SIGKILL, a closed laptop, a cancelled runner) and run again, it loses nothing finished and
repeats nothing finished: every output is written to a temporary file in its own folder and renamed into place
(`publish`), so a file is the old one or the new one, never part of one; OUT_DIR/state.json, written the same way
after a repository's files, is what counts as finished. A rerun skips every repository whose commit, submitted
files and grader are unchanged, and deletes the temporary files a killed run left.
"""
import csv
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from instructor import similarity
from instructor.baseline import keep_baseline
from tests.grader import config
from tests.grader.child import sandbox
from tests.grader.feedback.report import summary_markdown
from tests.grader.images import load_folder
from tests.grader.scoring import points
from tests.grader.stages import Result, measured

try:
    import fcntl
except ImportError:  # Windows: no lock; run one regrade per OUT_DIR
    fcntl = None

ROOT = config.ROOT
COLUMNS = ("repo", "commit", "status", "stage", "reason", "fid", "kid", "score", "points", "memorised_fraction",
           "protected_changes", "same_weights_as", "similar_to", "seconds")
PROTECTED = ("tests", ".github")
STRIP = 16  # samples per student on the contact sheet
SHEET_ROWS = 500  # students per contact sheet: a taller PNG is more than image viewers open
PARTIAL = ".partial"  # the ending of a file being written; a rerun deletes those a killed run left


class RegradeError(Exception):
    """A reason the regrade cannot start, in one line."""


def repositories(submissions: Path) -> list[Path]:
    return sorted(p for p in Path(submissions).iterdir() if p.is_dir() and not p.name.startswith("."))


def in_slice(name: str, k: int, n: int) -> bool:
    """Whether repository `name` is in part k (1..n) of the class: a hash of the name alone decides."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % n == k - 1


def parse_slice(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise ValueError(f"{text!r}: a slice is K/N with 1 <= K <= N, e.g. 2/8")
    return int(k), int(n)


def publish(path: Path, data: bytes) -> None:
    """Write data to path atomically: into a temporary file in the same folder, on disk, then renamed over path."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # mode as open()'s
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a power cut, too, leaves the old file or the whole new one
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@contextmanager
def sole_writer(out: Path):
    """One regrade or merge at a time writes OUT_DIR (the kernel drops the lock when its holder dies, however it
    dies); it starts by deleting what a killed one left half-written."""
    with open(out / ".lock", "a") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RegradeError(f"another regrade or merge is writing {out}: wait for it, or stop it") from None
        for partial in out.rglob(f".*{PARTIAL}"):
            partial.unlink()
        yield


def read_state(out: Path) -> dict:
    path = out / "state.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_state(out: Path, state: dict) -> None:
    publish(out / "state.json", json.dumps(state, indent=1).encode())


def digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        try:  # a student's file may be a link to anything, or unreadable: it hashes as such, never stops the class
            data = (f"-> {os.readlink(path)}".encode() if path.is_symlink()
                    else hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
        except OSError:
            data = b"?"
        h.update(path.name.encode() + data)
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
    """Changes whenever the grade or its feedback could: the grader's code and data, its digits, its settings."""
    files = sorted(p for p in (ROOT / "tests" / "grader").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return digest([*files, config.REFERENCE_DIR / "SHA256SUMS", config.TRAIN_DIR / "SHA256SUMS"])


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    found = {}
    for p in folder.rglob("*"):
        if "__pycache__" in p.parts or p.suffix == ".pyc" or not (p.is_symlink() or p.is_file()):
            continue
        try:  # a link is compared as a link, never followed: the student's folder may point anywhere
            found[p.relative_to(folder).as_posix()] = (f"-> {os.readlink(p)}".encode() if p.is_symlink()
                                                       else hashlib.sha256(p.read_bytes()).digest())
        except OSError:
            found[p.relative_to(folder).as_posix()] = b"?"
    return found


def protected_changes(repo: Path) -> list[str]:
    """Files under tests/ and .github/ that the student added, removed or changed: shown, never graded. A folder
    with more than a few changed files is named once, with their count."""
    changed = []
    for top in PROTECTED:
        ours, theirs = files_under(ROOT / top), files_under(repo / top)
        changed += [f"{top}/{name}" for name in sorted(ours.keys() | theirs.keys())
                    if ours.get(name) != theirs.get(name)]
    folders = {}
    for path in changed:
        folders.setdefault(path.rsplit("/", 1)[0], []).append(path)
    return [entry for folder, paths in folders.items()
            for entry in (paths if len(paths) <= 3 else [f"{folder}/ ({len(paths)} files)"])]


def grade_files(repo: Path, out: Path, tools, work: Path) -> tuple[Result, str]:
    """Grade one submission (grade() never raises, whatever the repository holds); keep its sample grid and a
    strip of samples for the contact sheet. Returns the result and a digest of its samples ('' when none)."""
    from tests.grader.pipeline import grade  # torch: imported only where something is graded (merge needs none)
    from tests.grader.stages import StageFailure
    with tempfile.TemporaryDirectory(prefix="grading-", dir=work) as tmp:
        sample_dir = Path(tmp) / "sample"
        try:
            result = grade(repo, sample_dir=sample_dir, result_csv=None, tools=tools)
            samples = sorted(sample_dir.glob("*.png"))
            if samples:
                publish(out / "samples" / f"{repo.name}.png", (sample_dir / "grid" / "samples.png").read_bytes())
                drawn = load_folder(sample_dir)
                publish(out / "samples" / f"{repo.name}.npy", npy_bytes(drawn[:STRIP]))
                publish(out / similarity.FOLDER / f"{repo.name}.npy", npy_bytes(similarity.signature(drawn)))
                return result, digest(samples)
        except Exception as error:  # one repository never stops the class: it gets a row with the reason
            result = Result()
            result.fail(StageFailure("submission", f"the regrade could not grade this repository "
                                                   f"({type(error).__name__}: {error}); please look at it"))
        for name in PICTURES:  # no samples this time: an earlier run's pictures must not stand beside this row
            (out / name.format(repo.name)).unlink(missing_ok=True)
        return result, ""


OUTPUTS = ("feedback/{}.md", "samples/{}.png", "samples/{}.npy", similarity.FOLDER + "/{}.npy")  # by repo name
PICTURES = OUTPUTS[1:]


def copy_outputs(name: str, source: Path, out: Path, as_name: str = "", patterns: tuple = OUTPUTS) -> None:
    """A repository's files from another output folder, or (as_name) its pictures for an identical twin."""
    for pattern in patterns:
        if (source / pattern.format(name)).is_file():
            publish(out / pattern.format(as_name or name), (source / pattern.format(name)).read_bytes())
        else:  # none there: neither may an earlier run's be here
            (out / pattern.format(as_name or name)).unlink(missing_ok=True)


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
    publish(out / "feedback" / f"{repo.name}.md", summary_markdown(result, footer=footer).encode())
    return row


def same_as(rows: list[dict]) -> None:
    """Fill same_weights_as: the other repositories with byte-identical weights, or identical samples."""
    by_weights, by_samples = {}, {}
    for row in rows:
        for index, value in ((by_weights, row["weights"]), (by_samples, row["samples_digest"])):
            if value:
                index.setdefault(value, []).append(row["repo"])
    for row in rows:
        twins = set(by_weights.get(row["weights"], [])) | set(by_samples.get(row["samples_digest"], []))
        row["same_weights_as"] = ";".join(sorted(twins - {row["repo"]}))


SIMILAR = "**Nearly the same model as:** "  # the feedback's line, kept to the last run's similar_to


def say_similar(row: dict, out: Path) -> None:
    """The feedback says, in one line, which models draw nearly the same images as this one."""
    path = out / "feedback" / f"{row['repo']}.md"
    if not path.is_file():
        return
    text = path.read_text()
    kept = "".join(line for line in text.splitlines(keepends=True) if not line.startswith(SIMILAR))
    if row.get("similar_to"):
        kept += (f"{SIMILAR}{row['similar_to']} (pixel RMSE between the two models' samples, draw by draw; models "
                 f"trained apart are at least {similarity.APART_AT_LEAST})\n")
    if kept != text:
        publish(path, kept.encode())


def side_by_side(rows: list[dict]) -> list[dict]:
    """The contact sheet's order: each repository followed by those similar_to links it to."""
    by_name = {row["repo"]: row for row in rows}
    grouped = {name: group for group in similarity.groups(rows) for name in group}
    order, placed = [], set()
    for row in rows:
        for name in grouped.get(row["repo"], [row["repo"]]):
            if name in by_name and name not in placed:
                placed.add(name)
                order.append(by_name[name])
    return order


def contact_sheet(rows: list[dict], out: Path, scale: int) -> Image.Image:
    cell, label_width = 32 * scale + 2, 260
    sheet = Image.new("L", (label_width + STRIP * cell, max(1, len(rows)) * cell), 40)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12 * scale // 2 + 6)
    for k, row in enumerate(rows):
        top = k * cell
        text = f"{row['repo'][:28]}  {row['points']}/100" if measured(row["status"]) else \
            f"{row['repo'][:28]}  0 ({row['stage']})"
        if row.get("similar_to"):  # a second line: the models this one nearly equals
            near = ", ".join(part.rsplit(" ", 1)[0] for part in row["similar_to"].split("; "))
            draw.text((6, top + 3 * cell // 4), f"~ {near}"[:34], fill=255, font=font, anchor="lm")
        draw.text((6, top + (cell // 4 if row.get("similar_to") else cell // 2)), text, fill=255, font=font,
                  anchor="lm")
        strip = out / "samples" / f"{row['repo']}.npy"
        if strip.is_file():
            for j, image in enumerate(np.load(strip)):
                tile = Image.fromarray(image).resize((32 * scale, 32 * scale), Image.NEAREST)
                sheet.paste(tile, (label_width + j * cell + 1, top + 1))
    return sheet


def contact_sheets(rows: list[dict], out: Path) -> list[Path]:
    """contact-sheet.png, or contact-sheet-1.png, -2.png, ... of SHEET_ROWS students each for a larger class."""
    pages = [rows[start:start + SHEET_ROWS] for start in range(0, len(rows), SHEET_ROWS)] or [[]]
    paths = [out / "contact-sheet.png"] if len(pages) == 1 else \
        [out / f"contact-sheet-{k}.png" for k in range(1, len(pages) + 1)]
    for old in out.glob("contact-sheet*.png"):
        if old not in paths:
            old.unlink()
    for page, path in zip(pages, paths):
        png = io.BytesIO()
        contact_sheet(page, out, 2 if len(rows) <= 200 else 1).save(png, format="PNG")
        publish(path, png.getvalue())
    return paths


def write_gradebook(rows: list[dict], out: Path) -> None:
    """gradebook.csv and the contact sheets of the class, in the order of rows (same_weights_as and similar_to
    filled here, over the whole class: a merge fills them across its parts)."""
    same_as(rows)
    similarity.similar_to(rows, out)
    for row in rows:
        say_similar(row, out)
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    publish(out / "gradebook.csv", text.getvalue().encode())
    contact_sheets(side_by_side(rows), out)


def regrade(submissions: Path, out: Path, jobs: int = 1, part: tuple[int, int] | None = None,
            require_sandbox: bool = False, baseline: str = "train") -> list[dict]:
    """baseline: how to get the template's baseline for similar_to (baseline.py): 'train', 'none' or the path
    of a trained copy of this repository."""
    out = Path(out)
    for folder in (out, out / "feedback", out / "samples", out / similarity.FOLDER, out / ".work"):
        folder.mkdir(parents=True, exist_ok=True)
    with sole_writer(out):
        for leftover in (out / ".work").iterdir():  # a killed run's scratch folders
            shutil.rmtree(leftover, ignore_errors=True)
        state = read_state(out)
        grader = grader_digest()
        everything = repositories(submissions)
        repos = [repo for repo in everything if part is None or in_slice(repo.name, *part)]
        files = {repo.name: digest([repo / n for n in config.SUBMISSION_FILES]) for repo in repos}
        key = {repo.name: f"{grader}:{commit_of(repo)}:{files[repo.name]}" for repo in repos}
        todo = [repo for repo in repos if state.get(repo.name, {}).get("key") != key[repo.name]]
        where = f"slice {part[0]}/{part[1]}: {len(repos)} of {len(everything)}" if part else f"{len(repos)}"
        print(f"{where} repositories: {len(repos) - len(todo)} unchanged since the last run, {len(todo)} to grade",
              flush=True)
        if part:
            publish(out / "slice.txt", f"{part[0]}/{part[1]}\n".encode())  # merge says which parts it joined
        else:
            (out / "slice.txt").unlink(missing_ok=True)
        if todo:
            grade_all(todo, files, key, state, out, grader, jobs, require_sandbox)
        try:  # the class is graded either way; only the comparison with the baseline is lost
            said = keep_baseline(out, str(baseline), publish)
        except Exception as error:
            said = f"the template's baseline: not compared ({type(error).__name__}: {str(error)[:300]})"
            keep_baseline(out, "none", publish)
        print(said, flush=True)
        rows = [state[repo.name]["row"] for repo in repos]
        write_gradebook(rows, out)
    return rows


def grade_all(todo: list[Path], files: dict, key: dict, state: dict, out: Path, grader: str, jobs: int,
              require_sandbox: bool) -> None:
    jail = sandbox.choose()
    if jail.uid is None:
        if require_sandbox:
            raise RegradeError(f"the sandbox is off ({jail.why_not}); --require-sandbox refuses to run the "
                               "students' code as this user")
        print(f"warning: sandbox off ({jail.why_not}): each student's model.py will run as you. Prefer root "
              "in a disposable container or VM, or a GitHub runner.", file=sys.stderr)
    import torch

    from tests.grader.instruments.prepare import default_cache_dir, prepare_instruments
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // jobs))  # jobs share the cores, no oversubscription
    # once for the class, before any student code runs; a grade of record needs MNIST in the copy check
    tools = prepare_instruments(default_cache_dir(), of_record=True)
    if tools.copy_error:
        raise RegradeError(tools.copy_error)
    twins = {}  # files digest -> the repositories that submitted exactly those files; one grading serves all
    for repo in todo:
        twins.setdefault(files[repo.name], []).append(repo)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(grade_files, group[0], out, tools, out / ".work"): group for group in twins.values()}
        for future in tqdm(as_completed(futures), total=len(futures), desc="regrading", unit="repo"):
            source, *others = futures[future]
            result, samples_digest = future.result()
            for repo in others:
                copy_outputs(source.name, out, out, repo.name, PICTURES)
            for repo in (source, *others):
                seconds = (result.seconds or 0.0) if repo is source else 0.0
                state[repo.name] = {"key": key[repo.name],
                                    "row": row_for(repo, result, samples_digest, out, grader, seconds)}
            write_state(out, state)  # after the group's files: what state.json names is finished
