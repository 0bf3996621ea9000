"""How a grade looks to people: the terminal table (self-test, notebook, logs) and the Markdown a student reads
on the run's page, the Classroom 50 Release and the regrade's feedback. Both render every labelled key of
stages.Result, so a new key shows up here without a change."""
from ..scoring import MAX_POINTS, points
from ..stages import Result


def table(result: Result) -> str:
    """A few lines a person reads at a glance, one per measured key."""
    rows = result.shown()
    if result.stage:
        rows = [(label, f"{text}  (stage: {result.stage})" if label == "status" else text) for label, text in rows]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"  {label:<{width}}{text}" for label, text in rows]
    lines += [f"\n  {label}: {text}" for label, text in result.shown(blocks=True)]
    return "\n".join(lines)


def summary_markdown(result: Result | None, why_not: str = "", footer: str = "") -> str:
    """The grade as a student reads it: points, the reason when there are none, the numbers, then footer."""
    why_not = why_not or (result.problem() if result else "the grader wrote no result")
    rows = [("Points", f"**{0 if why_not else points(result)} / {MAX_POINTS}**{'' if why_not else result.caveat}")]
    if why_not:
        rows.append(("Problem", why_not))
    rows += result.shown(summary_only=True) if result else []
    lines = ["## VAE autograder", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    lines += [f"\n**{label}:** {text}" for label, text in (result.shown(True, blocks=True) if result else [])]
    return "\n".join(lines + ([("\n" + footer)] if footer else [])) + "\n"
