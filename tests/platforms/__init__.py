"""How a grade reaches each platform. Both adapters only translate a stages.Result; neither grades.

per_push.py     the per-push workflow's points step (.github/workflows/classroom.yml): runs in the student's
                checkout after tests/run_test.py, writes the workflow reporter's points and the run's summary.
classroom50.py  Classroom 50's per-assignment autograder: `python -m instructor bundle` copies it into the
                bundle as autograder.py; it grades the student's checkout with the bundle's own grader and
                writes result.json and the Release body.
"""
