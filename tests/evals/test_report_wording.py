"""The eval report says how to read it: ties count half a win, scores above 100, too few units for a test,
and ``--budget N`` alone works with the default two batches."""

from __future__ import annotations

import pandas as pd
import pytest

from agent.errors import TunesmithError
from evals.cli import protocols
from evals.report import SCORE_NOTE, min_p_value, paired_table


def wide(reference: list[float], other: list[float]) -> pd.DataFrame:
    index = pd.MultiIndex.from_tuples([("p", s) for s in range(len(reference))], names=["problem", "seed"])
    return pd.DataFrame({"auto": reference, "tpe": other}, index=index)


def test_the_header_says_a_tie_counts_half_a_win() -> None:
    table, pairs = paired_table(
        wide([50, 60, 70, 80, 90, 99, 98], [50, 10, 10, 10, 10, 10, 10]), "auto", ["auto", "tpe"]
    )
    assert "win rate (a tie counts half)" in table.splitlines()[0]
    assert pairs["tpe"].ties == 1 and "1/6" not in table and "6/1/0" in table
    assert "92.9 %" in table  # (6 + 0.5) / 7
    assert "Warning" not in table  # 6 differing units can reach p < 0.05


def test_too_few_units_to_reach_significance_is_warned() -> None:
    table, pairs = paired_table(wide([90, 91, 92], [10, 11, 12]), "auto", ["auto", "tpe"])
    assert pairs["tpe"].wins == 3
    assert "Warning: auto vs tpe has only 3 unit(s) that differ" in table and "fewer than 6" in table
    assert min_p_value(5) > 0.05 > min_p_value(6) and min_p_value(0) == 1.0


def test_scores_above_100_are_explained() -> None:
    assert "Above 100" in SCORE_NOTE and "200" in SCORE_NOTE


def test_one_budget_takes_the_first_of_the_default_batches() -> None:
    assert protocols("30", "1,8") == [(30, 1)]
    assert protocols("30,128", "1,8") == [(30, 1), (128, 8)]
    assert protocols("30,128", "4") == [(30, 4), (128, 4)]
    with pytest.raises(TunesmithError, match="one batch per budget"):
        protocols("30,128", "1,8,2")
