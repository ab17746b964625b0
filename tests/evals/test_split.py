"""The dev/test split is deterministic, stratified by group, and pinned."""

from __future__ import annotations

from collections import Counter

import pytest

from agent.errors import TunesmithError
from evals.problems import SUITES, get_problem
from evals.split import select, split_of


def test_split_is_stratified_and_balanced() -> None:
    split = split_of()
    assert set(split) == set(SUITES["all"]) and len(split) == 96
    by_group = Counter((get_problem(n).group, s) for n, s in split.items())
    for model in ("DT", "MLP-adam", "MLP-sgd", "RF", "SVM", "ada", "kNN", "lasso", "linear"):
        assert by_group[(model, "dev")] == by_group[(model, "test")] == 5
    assert Counter(split.values()) == {"dev": 48, "test": 48}


def test_split_is_pinned() -> None:
    # Changing these moves problems between dev and test: results tuned on dev would leak into test.
    split = split_of()
    assert [n for n in SUITES["synthetic"] if split[n] == "test"] == ["branin", "hartmann6"]
    assert split["torch-mlp_digits_nll"] == "test" and split["torch-mlp_digits_acc"] == "dev"
    assert select(SUITES["bayesmark"], "test")[:4] == ["DT_breast_nll", "DT_diabetes_mse", "DT_iris_nll", "DT_wine_acc"]


def test_unknown_split_is_one_line() -> None:
    with pytest.raises(TunesmithError, match="choose dev or test"):
        select(["branin"], "train")
