"""`python -m instructor starter OUT_DIR`: the student version of this repository, generated from the solution.

This repository is the working solution. What students must write is marked in it, in code (model.py and the
notebook's code cells):

    # >>> solution: what to write
    # hint: how (as many `# hint:` lines as needed)
    ...the solution...
    # <<< solution

In the student version each such region becomes one `raise NotImplementedError("what: not written yet. Hint: how")`
at the marker's indentation, which the part checks (tests/parts_test.py) report as "not written yet". A line of
Markdown that ends with `<!-- template only -->` (the README's lines about the instructors' files) is dropped.
The instructors' and the template's own files (OMITTED) are left out, notebook outputs are cleared, and every
other file is copied byte for byte. In the template the markers are comments: they change nothing.
"""
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OMITTED = ("instructor/", "INSTRUCTORS.md", "template_tests/", "benchmarks/", ".ci/", "pytest.ini",
           ".github/workflows/calibrate.yml", ".github/workflows/regrade.yml")
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# >>> solution: (?P<what>.+)$")
HINT = re.compile(r"^[ \t]*# hint: (?P<hint>.*)$")
END = re.compile(r"^[ \t]*# <<< solution[ \t]*$")
TEMPLATE_ONLY = "<!-- template only -->"
LEAKS = (">>> solution", "<<< solution", "# hint: ", TEMPLATE_ONLY)


class StarterError(RuntimeError):
    pass


def regions(lines: list[str]) -> list[tuple[int, int, int]]:
    """(begin, first line of solution, end) line indices of each marked region, checked for nesting and ends."""
    found, begin = [], None
    for k, line in enumerate(lines):
        if BEGIN.match(line):
            if begin is not None:
                raise StarterError(f"line {k + 1}: a solution region starts inside another")
            begin, body = k, k + 1
            while body < len(lines) and HINT.match(lines[body]):
                body += 1
        elif END.match(line):
            if begin is None:
                raise StarterError(f"line {k + 1}: '# <<< solution' without its '# >>> solution:'")
            found.append((begin, body, k))
            begin = None
    if begin is not None:
        raise StarterError(f"line {begin + 1}: a solution region is never closed")
    return found


def stub(lines: list[str], begin: int, body: int) -> list[str]:
    match = BEGIN.match(lines[begin])
    indent, what = match["indent"], match["what"].strip()
    hint = " ".join(HINT.match(line)["hint"].strip() for line in lines[begin + 1:body])
    message = f"{what}: not written yet." + (f" Hint: {hint}" if hint else "")
    pieces = textwrap.wrap(message, 100 - len(indent), drop_whitespace=False)
    return [f"{indent}raise NotImplementedError(", *(f"{indent}    {json.dumps(p)}" for p in pieces),
            f"{indent})"]


def student_code(text: str) -> str:
    """Every solution region of a piece of code replaced by its stub."""
    lines = text.split("\n")
    for begin, body, end in reversed(regions(lines)):
        lines[begin:end + 1] = stub(lines, begin, body)
    return "\n".join(lines)


def solution_code(text: str) -> str:
    """The same code with the marker lines taken out: what a student who wrote every region would have."""
    lines = text.split("\n")
    for begin, body, end in reversed(regions(lines)):
        lines[begin:end + 1] = lines[body:end]
    return "\n".join(lines)


def student_notebook(text: str) -> str:
    notebook = json.loads(text)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = student_code("".join(cell["source"])).splitlines(keepends=True)
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def student_markdown(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.rstrip().endswith(TEMPLATE_ONLY))


CONVERT = {".py": student_code, ".ipynb": student_notebook, ".md": student_markdown}


def tracked_files(root: Path = ROOT) -> list[str]:
    """The files of a fresh clone: tracked, plus new ones git does not ignore (nothing generated)."""
    try:
        listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                                 capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        raise StarterError(f"{root} is not a git checkout: run this from a clone of the template") from None
    return sorted(name for name in listing.split("\0") if name and (root / name).is_file())


def build(out: Path, root: Path = ROOT) -> list[str]:
    """Write the student version into out (new or empty); returns the files whose regions became stubs."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise StarterError(f"{out} is not empty: choose a new or empty folder")
    stubbed = []
    for name in tracked_files(root):
        if name.startswith(OMITTED):
            continue
        source, target = root / name, out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        convert = CONVERT.get(source.suffix)
        if convert is None:
            shutil.copy2(source, target)
            continue
        text = source.read_text(encoding="utf-8")
        converted = convert(text)
        leaked = [leak for leak in LEAKS if leak in converted]
        if leaked:
            raise StarterError(f"{name}: a marker survived ({leaked[0]!r}): check its regions")
        target.write_text(converted, encoding="utf-8")
        if converted != text and source.suffix != ".md":
            stubbed.append(name)
        shutil.copystat(source, target)
    return stubbed
