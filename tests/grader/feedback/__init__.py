"""What people see beside the score, never part of it: the diagnostics in a digit classifier's features and the
advice that follows (describe.py, diagnostics.py), diagnostics.png (picture.py), and the terminal table and
Markdown summary of a result (report.py)."""
