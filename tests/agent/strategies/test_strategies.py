"""Strategy behaviour beyond the shared contract: how history is told, auto's rules, the registry."""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState as OptunaState

from agent.core.records import Trial, TrialState
from agent.core.space import SearchSpace
from agent.core.spec import STRATEGY_NAMES
from agent.strategies import STRATEGIES, AutoStrategy, OptunaStrategy, make_strategy
from agent.strategies import optuna_bridge as bridge
from agent.strategies.auto import GP_MAX_TRIALS, choose
from tests.agent.strategies.test_strategy_contract import MIXED, C, F, R, X, history

CONTINUOUS = SearchSpace.from_dict({f"x{i}": {"type": "float", "low": -5.0, "high": 5.0} for i in range(3)})


def done(space: SearchSpace, configs: list[dict[str, Any]], start: int, value: Any) -> list[Trial]:
    return [Trial(number=start + i, params=c, state=TrialState.COMPLETE, value=value(c)) for i, c in enumerate(configs)]


# --------------------------------------------------------------------- registry
def test_names_match_the_spec() -> None:
    assert STRATEGIES == STRATEGY_NAMES


def test_make_strategy_builds_each_name() -> None:
    for name in STRATEGIES:
        s = make_strategy(name, direction="minimize", seed=1, budget=30)
        assert s.name == name and s.direction == "minimize" and s.seed == 1 and s.budget == 30
    assert isinstance(make_strategy("auto", direction="maximize"), AutoStrategy)
    assert isinstance(make_strategy("gp", direction="maximize"), OptunaStrategy)


def test_unknown_name_or_direction() -> None:
    with pytest.raises(ValueError, match="auto, random, qmc, tpe, gp, cmaes"):
        make_strategy("hebo", direction="maximize")
    with pytest.raises(ValueError, match="direction"):
        make_strategy("tpe", direction="max")


# ------------------------------------------------------- how history is told
def test_failed_trials_are_told_as_worse_than_every_result() -> None:
    hist = history(MIXED, [C] * 4 + [F, TrialState.TIMEOUT, TrialState.PRUNED, R, X])
    values = [t.value for t in hist[:4] if t.value is not None]
    by_number = {t.number: f for t, f in bridge.frozen_history(hist, MIXED, "maximize")}
    assert 8 not in by_number  # cancelled: skipped
    for n in (4, 5):
        assert by_number[n].state is OptunaState.COMPLETE
        assert by_number[n].value is not None and by_number[n].value < min(values)
    assert by_number[6].state is OptunaState.PRUNED and by_number[6].intermediate_values == {3: hist[6].value}
    assert by_number[7].state is OptunaState.RUNNING
    minimize = {t.number: f for t, f in bridge.frozen_history(hist, MIXED, "minimize")}
    assert minimize[4].value is not None and minimize[4].value > max(values)


def test_infeasible_value_edges() -> None:
    one = [Trial(number=0, params={}, state=TrialState.COMPLETE, value=2.0)]
    assert bridge.infeasible_value([], "maximize") is None
    assert bridge.infeasible_value(one, "maximize") == pytest.approx(1.8)
    assert bridge.infeasible_value(one, "minimize") == pytest.approx(2.2)
    nan = [Trial(number=0, params={}, state=TrialState.COMPLETE, value=math.nan)]
    assert bridge.infeasible_value(nan, "minimize") is None
    # Before any real result, failures are told as Optuna FAIL.
    [(_, f)] = bridge.frozen_history(history(MIXED, [F]), MIXED, "maximize")
    assert f.state is OptunaState.FAIL


def test_failed_trials_change_what_tpe_proposes() -> None:
    base = history(MIXED, [C] * 12, seed=4)
    extra = history(MIXED, [F] * 6, seed=5)
    with_failed = base + [t.model_copy(update={"number": 12 + i}) for i, t in enumerate(extra)]
    # Same length (the seed depends on it), but cancelled trials are not told at all.
    with_cancelled = base + [t.model_copy(update={"number": 12 + i, "state": X}) for i, t in enumerate(extra)]
    tpe = make_strategy("tpe", direction="maximize", seed=0)
    assert tpe.ask(MIXED, with_failed, 3) != tpe.ask(MIXED, with_cancelled, 3)


def test_qmc_walks_one_sequence_across_asks() -> None:
    qmc = make_strategy("qmc", direction="maximize", seed=3)
    first = qmc.ask(CONTINUOUS, [], 4)
    hist = done(CONTINUOUS, first[:2], 0, lambda c: 0.0)
    assert qmc.ask(CONTINUOUS, hist, 2) == first[2:]
    assert len({tuple(c.values()) for c in first}) == 4


def test_cmaes_learns_from_the_replayed_history() -> None:
    def sphere(c: dict[str, Any]) -> float:
        return sum((v - 3.5) ** 2 for v in c.values())

    cma = make_strategy("cmaes", direction="minimize", seed=0)
    hist: list[Trial] = []
    while len(hist) < 60:
        hist += done(CONTINUOUS, cma.ask(CONTINUOUS, hist, 6), len(hist), sphere)
    # Were CMA-ES unable to rebuild its state, it would keep sampling around the centre (0, 0, 0).
    last = cma.ask(CONTINUOUS, hist, 6)
    mean = [sum(c[k] for c in last) / len(last) for k in CONTINUOUS.names]
    assert all(abs(m - 3.5) < 1.0 for m in mean), mean


def test_ask_is_quiet_and_restores_logging(capfd: pytest.CaptureFixture[str]) -> None:
    level = optuna.logging.get_verbosity()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("tpe", "qmc", "cmaes"):
            make_strategy(name, direction="maximize", seed=0).ask(MIXED, history(MIXED, [C] * 12), 2)
    assert caught == []
    assert optuna.logging.get_verbosity() == level
    err = capfd.readouterr().err
    assert "Trial" not in err and "study" not in err.lower()


def test_running_trials_spread_a_tpe_batch() -> None:
    hist = history(MIXED, [C] * 12)
    tpe = make_strategy("tpe", direction="maximize", seed=0)
    [alone] = tpe.ask(MIXED, hist, 1)
    pending = Trial(number=12, params=alone, state=R)
    assert tpe.ask(MIXED, [*hist, pending], 1) != [alone]


def test_exhausted_finite_space_still_answers() -> None:
    tiny = SearchSpace.from_dict({"a": {"type": "categorical", "choices": [1, 2]}})
    hist = [Trial(number=i, params={"a": v}, state=C, value=float(v)) for i, v in enumerate([1, 2])]
    assert make_strategy("tpe", direction="maximize", seed=0).ask(tiny, hist, 3) != []
    # With room left, a batch covers what is untried before repeating.
    batch = make_strategy("random", direction="maximize", seed=0).ask(tiny, [], 2)
    assert sorted(c["a"] for c in batch) == [1, 2]


# ----------------------------------------------------------------------- auto
def test_auto_rules() -> None:
    many = SearchSpace.from_dict({f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(25)})
    mixed_flat = SearchSpace.from_dict(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "act": {"type": "categorical", "choices": ["relu", "tanh"]},
        }
    )
    few_ints = SearchSpace.from_dict(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "layers": {"type": "int", "low": 1, "high": 4},
        }
    )
    wide_ints = SearchSpace.from_dict(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
            "units": {"type": "int", "low": 16, "high": 1024},
        }
    )
    early, late = [], [Trial(number=i, params={}, state=C, value=0.0) for i in range(GP_MAX_TRIALS)]
    assert choose(MIXED, early) == "tpe"  # conditional
    assert choose(many, early) == "tpe"  # too many dimensions for GP
    assert choose(CONTINUOUS, early, budget=40) == "gp"  # GPSampler's own random start-up, then GP
    assert choose(mixed_flat, late[:-1]) == "gp"
    assert choose(CONTINUOUS, late) == "cmaes"
    assert choose(wide_ints, late) == "cmaes"
    assert choose(few_ints, late) == "tpe"
    assert choose(mixed_flat, late) == "tpe"
    one_dim = SearchSpace.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0}})
    assert choose(one_dim, late) == "tpe"
    cancelled = [t.model_copy(update={"state": X}) for t in late]
    assert choose(CONTINUOUS, cancelled) == "gp"  # cancelled trials do not count


def test_auto_label_and_delegation() -> None:
    auto = AutoStrategy(direction="maximize", seed=4, budget=30)
    assert auto.label(CONTINUOUS, []) == "auto:gp"
    assert auto.label(CONTINUOUS, history(CONTINUOUS, [C] * GP_MAX_TRIALS)) == "auto:cmaes"
    assert auto.label(MIXED, []) == "auto:tpe"
    hist = history(MIXED, [C] * 3)
    assert auto.ask(MIXED, hist, 2) == make_strategy("tpe", direction="maximize", seed=4).ask(MIXED, hist, 2)
    assert OptunaStrategy("tpe", direction="maximize").label(MIXED, []) == "tpe"


def test_optuna_logger_is_left_alone_between_asks() -> None:
    logger = logging.getLogger("optuna")
    before = logger.level
    make_strategy("random", direction="maximize").ask(MIXED, [], 1)
    assert logger.level == before


def test_the_engines_counted_history_gives_the_same_proposals_as_a_plain_list() -> None:
    from agent.core.records import FOREIGN_PROPOSERS, History, ProposerKind
    from agent.strategies.base import own_trials

    trials = history(MIXED, [TrialState.COMPLETE] * 12)
    trials = [
        t.model_copy(update={"proposer": ProposerKind.LLM if i % 3 == 0 else ProposerKind.STRATEGY})
        for i, t in enumerate(trials)
    ]
    foreign = sum(t.proposer in FOREIGN_PROPOSERS for t in trials)
    snapshot = History(trials, foreign)
    assert own_trials(snapshot) == own_trials(list(trials)) == 8
    for name in ("random", "qmc", "tpe"):
        plain = make_strategy(name, direction="minimize", seed=3).ask(MIXED, list(trials), 2)
        assert make_strategy(name, direction="minimize", seed=3).ask(MIXED, snapshot, 2) == plain


def test_the_counted_history_survives_pickle_and_deepcopy() -> None:
    import copy
    import pickle

    from agent.core.records import History

    snapshot = History(history(MIXED, [TrialState.COMPLETE] * 3), 1)
    for clone in (pickle.loads(pickle.dumps(snapshot)), copy.deepcopy(snapshot)):
        assert isinstance(clone, History) and clone.foreign == 1 and list(clone) == list(snapshot)
