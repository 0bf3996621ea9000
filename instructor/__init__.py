"""The instructors' tools for assignment 09: `python -m instructor bundle | regrade | calibrate` (README, For
instructors). Nothing here runs on a student's push."""
