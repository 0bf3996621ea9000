"""The instructors' tools for assignment 09: `python -m instructor starter | bundle | regrade | merge | calibrate`
(INSTRUCTORS.md). Nothing here runs on a student's push."""
