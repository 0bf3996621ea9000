"""The assignment's grader. Entry point: grade() in pipeline.py; the stages are its own modules."""
from .pipeline import grade  # noqa: F401
