"""``auto``'s warm-start priors: matching, projection, order of proposals, and that they come from dev only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agent.core.records import Trial, TrialState
from agent.core.space import SearchSpace
from agent.strategies.auto import AutoConfig, AutoStrategy
from agent.strategies.priors import PRIORS_PATH, load_priors, prior_configs
from evals.problems import get_problem
from evals.split import split_of
from scripts.build_priors import greedy

KNN = SearchSpace.from_dict(
    {"n_neighbors": {"type": "int", "low": 1, "high": 25}, "p": {"type": "int", "low": 1, "high": 4}}
)


@pytest.fixture
def priors_file(tmp_path: Path) -> Path:
    path = tmp_path / "priors.json"
    path.write_text(
        json.dumps(
            {
                "priors": [
                    {
                        "params": ["n_neighbors", "p"],
                        "configs": [{"n_neighbors": 40, "p": 1}, {"n_neighbors": 3, "p": 2.6}],
                    },
                    {
                        "params": ["kind", "lr"],
                        "configs": [{"kind": "adam", "lr": 1e-3}, {"kind": "rmsprop", "lr": 0.1}],
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    return path


def test_a_prior_applies_to_exactly_its_parameter_names_projected_into_the_space(priors_file: Path) -> None:
    assert prior_configs(KNN, priors_file) == [{"n_neighbors": 25, "p": 1}, {"n_neighbors": 3, "p": 3}]
    wider = SearchSpace.from_dict(
        {
            "n_neighbors": {"type": "int", "low": 1, "high": 25},
            "p": {"type": "int", "low": 1, "high": 4},
            "weights": {"type": "categorical", "choices": ["uniform", "distance"]},
        }
    )
    assert prior_configs(wider, priors_file) == []
    # a categorical value that is not a choice drops that configuration only
    cat = SearchSpace.from_dict(
        {
            "kind": {"type": "categorical", "choices": ["adam", "sgd"]},
            "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
        }
    )
    assert prior_configs(cat, priors_file) == [{"kind": "adam", "lr": 1e-3}]
    assert prior_configs(KNN, priors_file.with_name("missing.json")) == []


def test_the_committed_priors_come_from_dev_problems_only_and_fit_their_spaces() -> None:
    split, priors = split_of(), json.loads(PRIORS_PATH.read_text(encoding="utf-8"))["priors"]
    assert priors and load_priors()
    for prior in priors:
        assert prior["from"] and all(split[name] == "dev" for name in prior["from"])
        for name in prior["from"]:
            space = get_problem(name).space
            assert sorted(space.params) == prior["params"]
            assert prior_configs(space, upto=prior["since"]) == [space.check_config(c) for c in prior["configs"]]


def test_auto_proposes_untried_priors_first_then_its_sampler() -> None:
    problem = get_problem("kNN_iris_acc")
    space, priors = problem.space, prior_configs(problem.space)
    assert len(priors) >= 2
    auto = AutoStrategy(direction="minimize", seed=3)
    default = Trial(number=0, params=problem.default, state=TrialState.COMPLETE, value=-0.9)
    assert auto.label(space, [default]) == "auto:prior"
    batch = auto.ask(space, [default], len(priors) + 3)
    assert batch[: len(priors)] == priors
    keys = {json.dumps(c, sort_keys=True) for c in batch}
    assert len(keys) == len(batch)  # the sampler's points spread away from the priors (no repeats)
    # tried priors (failed ones too) are not proposed again; the label says who proposes next
    hist = [default, *(Trial(number=i + 1, params=c, state=TrialState.FAILED) for i, c in enumerate(priors))]
    assert auto.ask(space, hist, 1)[0] not in priors
    assert auto.label(space, hist) == "auto:gp"


def test_priors_can_be_switched_off_and_unmatched_spaces_are_untouched() -> None:
    problem = get_problem("kNN_iris_acc")
    off = AutoStrategy(direction="minimize", seed=3, config=AutoConfig(priors=False))
    assert off.ask(problem.space, [], 3) != prior_configs(problem.space)[:3]
    space = SearchSpace.from_dict({f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(3)})
    on, off = (
        AutoStrategy(direction="minimize", seed=5),
        AutoStrategy(direction="minimize", seed=5, config=AutoConfig(priors=False)),
    )
    assert on.ask(space, [], 4) == off.ask(space, [], 4)


def test_greedy_portfolio_picks_what_lowers_the_mean_and_stops_when_nothing_helps() -> None:
    # rows: candidates, columns: problems (normalized loss, lower is better)
    norm = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.9], [0.5, 0.5, 0.5], [1.0, 1.0, 0.8]])
    default = np.array([1.0, 1.0, 1.0])
    assert greedy(norm, default, [0, 1, 2, 3], 3) == [2, 0, 1]
    assert greedy(norm, np.array([-1.0, -1.0, -1.0]), [0, 1, 2, 3], 3) == []
    assert greedy(norm, default, [3], 3) == [3]


def test_building_priors_without_the_dev_evaluations_stops_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts import build_priors

    out = tmp_path / "priors.json"
    monkeypatch.setattr("sys.argv", ["build_priors", "--cache", str(tmp_path), "--out", str(out)])
    with pytest.raises(SystemExit, match="run the eval-baselines commands"):
        build_priors.main()
    assert not out.exists()


def test_rebuilding_some_groups_keeps_the_other_priors_with_the_command_that_built_them(tmp_path: Path) -> None:
    from scripts.build_priors import _kept

    path = tmp_path / "priors.json"
    old = [
        {"params": ["n_neighbors", "p"], "from": ["kNN_iris_acc"], "configs": [{"n_neighbors": 3, "p": 1}], "since": 5},
        {"params": ["C", "gamma"], "from": ["SVM_iris_nll"], "configs": [{"C": 1.0, "gamma": 0.1}], "since": 5},
    ]
    path.write_text(json.dumps({"command": "build v5", "date": "2026-11-27", "priors": old}), encoding="utf-8")
    # rebuilt for the same version: the old SVM prior is replaced
    kept = _kept(path, {frozenset({"C", "gamma"})}, 5)
    assert [p["params"] for p in kept] == [["n_neighbors", "p"]]
    assert kept[0]["command"] == "build v5" and kept[0]["date"] == "2026-11-27"
    # rebuilt for a later version: the old one stays, for replays of v5
    assert len(_kept(path, {frozenset({"C", "gamma"})}, 10)) == 2
    assert _kept(tmp_path / "missing.json", set(), 5) == []


def test_leave_one_dataset_out_hides_the_sibling_problems_good_configurations() -> None:
    from types import SimpleNamespace

    from scripts.build_priors import _lopo

    problems = ["M_a_acc", "M_a_nll", "M_b_acc"]
    cands = [("M_a_nll", {"x": 0}, 0.0), ("M_b_acc", {"x": 1}, 0.5)]
    # rows: candidates; columns: problems (normalized loss): the a_nll candidate is perfect on its sibling a_acc
    norm = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.5]])
    default = np.ones(3)
    evals = {p: [(1.0, {"x": 9})] for p in problems}
    base = {p: SimpleNamespace(clip=1.0, best=0.0) for p in problems}
    by_problem = {r[0]: r[2] for r in _lopo(problems, cands, norm, default, evals, base, 1)}
    by_dataset = {r[0]: r[2] for r in _lopo(problems, cands, norm, default, evals, base, 1, by_dataset=True)}
    assert by_problem["M_a_acc"] == 100.0  # built with the sibling's configuration
    assert by_dataset["M_a_acc"] == 50.0  # built from the other data set only


def test_a_version_number_replays_only_the_priors_that_version_had() -> None:
    mlp, knn = get_problem("MLP-adam_iris_acc").space, get_problem("kNN_iris_acc").space
    assert len(prior_configs(mlp)) == 3  # v9: the MLP families have priors
    assert prior_configs(mlp, upto=8) == [] and prior_configs(knn, upto=8) == prior_configs(knn)  # knn's: v5
    v8 = AutoStrategy(direction="minimize", seed=3, config=AutoConfig(priors=8))
    assert v8.untried_priors(mlp, []) == [] and v8.untried_priors(knn, []) == prior_configs(knn)
    assert AutoStrategy(direction="minimize", seed=3).untried_priors(mlp, []) == prior_configs(mlp)


def test_rebuilding_a_family_without_its_cached_evaluations_names_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scripts import build_priors

    out = tmp_path / "priors.json"
    argv = ["build_priors", "--cache", str(tmp_path), "--out", str(out), "--problems", "MLP-adam_iris_acc"]
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(SystemExit, match=r"dev problems \['MLP-adam_iris_acc'\]"):
        build_priors.main()
    assert not out.exists()


def test_the_newest_prior_a_version_allows_applies(tmp_path: Path) -> None:
    path = tmp_path / "priors.json"
    priors = [
        {"params": ["n_neighbors", "p"], "configs": [{"n_neighbors": 3, "p": 1}], "since": 5},
        {"params": ["n_neighbors", "p"], "configs": [{"n_neighbors": 9, "p": 2}], "since": 10},
    ]
    path.write_text(json.dumps({"priors": priors}), encoding="utf-8")
    assert prior_configs(KNN, path) == [{"n_neighbors": 9, "p": 2}]
    assert prior_configs(KNN, path, upto=9) == [{"n_neighbors": 3, "p": 1}]
    assert prior_configs(KNN, path, upto=4) == []


def test_auto_by_default_uses_only_the_priors_of_its_own_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """A candidate prior built for a later version (``--since`` above ``VERSION``) sits in priors.json without
    changing what today's ``auto`` proposes: it applies once ``VERSION`` is bumped."""
    from agent.strategies import auto

    seen: list[int | None] = []

    def fake(space: SearchSpace, *, upto: int | None = None) -> list[dict[str, Any]]:
        seen.append(upto)
        return []

    monkeypatch.setattr(auto, "prior_configs", fake)
    AutoStrategy(direction="minimize", seed=0).untried_priors(KNN, [])
    AutoStrategy(direction="minimize", seed=0, config=AutoConfig(priors=8)).untried_priors(KNN, [])
    assert seen == [int(auto.VERSION), 8]
