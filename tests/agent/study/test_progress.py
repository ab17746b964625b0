"""A study's own time to result, on a known sequence of trials."""

from __future__ import annotations

from agent.core.records import Trial, TrialState
from agent.study.progress import time_to_result, ttr_line


def _trials(values: list[float]) -> list[Trial]:
    return [
        Trial(number=i, params={}, state=TrialState.COMPLETE, value=v, started_at=10.0 * i, finished_at=10.0 * i + 5)
        for i, v in enumerate(values)
    ]


def test_when_the_best_was_found_and_when_the_study_came_within_one_percent() -> None:
    # first result 0.5, best 0.9 at trial 4; 0.898 (trial 2) is within 1 % of the 0.4 gap (0.004)
    info = time_to_result(_trials([0.5, 0.7, 0.898, 0.8, 0.9, 0.6]), "maximize")
    assert info is not None
    assert info["best"] == {"trial": 4, "after_trials": 5, "after_s": 45.0}
    assert info["within"] == {"trial": 2, "after_trials": 3, "after_s": 25.0}
    line = ttr_line(info)
    assert line is not None and "best found at trial #4 (after 5 of 6 trials, 45s)" in line
    assert "within 1% of it from trial #2" in line
    assert time_to_result(_trials([]), "maximize") is None
    minimize = time_to_result(_trials([3.0, 1.0, 2.0]), "minimize")
    assert minimize is not None and minimize["best"]["trial"] == 1 and minimize["within"]["trial"] == 1
