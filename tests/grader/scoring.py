"""The grading rule, and nothing else: score = clamp(100 - FID, 0, 100); points are the score, rounded."""
MAX_POINTS = 100


def score_from_fid(fid: float) -> float:
    return min(100.0, max(0.0, 100.0 - fid))


def points(result) -> int:
    """Whole points of MAX_POINTS for a stages.Result: 0 unless every stage passed and a FID was measured."""
    if result is None or not result.ok or result.fid is None:
        return 0
    return round(score_from_fid(result.fid))
