"""``auto``'s start-up design and output warping (the rule table itself is pinned in test_strategies.py)."""

from __future__ import annotations

import numpy as np
import pytest

from agent.core.records import Trial, TrialState
from agent.core.space import SearchSpace
from agent.strategies.auto import AutoConfig, AutoStrategy, _warped, choose, startup_trials, warp_values

SPACE = SearchSpace.from_dict({f"x{i}": {"type": "float", "low": 0.0, "high": 1.0} for i in range(3)})


@pytest.mark.parametrize("method", ["copula", "yeo-johnson"])
def test_warping_keeps_the_order_and_tames_outliers(method: str) -> None:
    values = [0.11, 0.10, 0.12, 0.5, 40.0, 0.105, 3.0]
    warped = warp_values(values, method)
    assert list(np.argsort(warped)) == list(np.argsort(values))
    # the outlier no longer dwarfs the spread of the good values
    good = sorted(warped)[:3]
    assert (max(warped) - min(warped)) / (good[-1] - good[0]) < 20


def test_warping_edge_cases() -> None:
    assert warp_values([1.0, 2.0], "yeo-johnson") == [1.0, 2.0]  # too few to fit
    assert warp_values([3.0, 3.0, 3.0], "copula") == [3.0, 3.0, 3.0]
    ties = warp_values([1.0, 1.0, 2.0, 5.0], "yeo-johnson")
    assert ties[0] == ties[1] < ties[2] < ties[3]


def test_only_complete_trials_are_warped_and_failures_stay_failures() -> None:
    hist = [Trial(number=i, params={}, state=TrialState.COMPLETE, value=v) for i, v in enumerate([1.0, 9.0, 2.0])]
    hist.append(Trial(number=3, params={}, state=TrialState.FAILED))
    out = _warped(hist, "yeo-johnson")
    assert out[3] == hist[3]
    assert out[0].value < out[2].value < out[1].value
    assert _warped(hist, None) == hist


def test_a_space_filling_startup_can_be_configured() -> None:
    config = AutoConfig(startup="qmc", min_startup=5, max_startup=8, gp_startup=2)
    assert startup_trials(SPACE, config) == 5
    assert startup_trials(SPACE, AutoConfig(min_startup=2, max_startup=8)) == 4  # dims + 1
    done = [Trial(number=i, params={}, state=TrialState.COMPLETE, value=float(i)) for i in range(5)]
    assert choose(SPACE, done[:-1], config=config) == "qmc" and choose(SPACE, done, config=config) == "gp"
    auto = AutoStrategy(direction="minimize", seed=1, config=config)
    assert auto.delegate(SPACE, done).options == {"n_startup_trials": 2}


def test_the_default_is_gp_from_the_first_ask_with_its_own_random_startup() -> None:
    assert startup_trials(SPACE) == 0 and choose(SPACE, []) == "gp"
    auto = AutoStrategy(direction="minimize", seed=1)
    assert auto.delegate(SPACE, []).options == {"n_startup_trials": 10}
    assert auto.label(SPACE, []) == "auto:gp"


def test_auto_is_reproducible_and_valid() -> None:
    rng = np.random.default_rng(0)
    hist = []
    for i in range(8):
        params = {n: float(rng.uniform()) for n in SPACE.names}
        hist.append(Trial(number=i, params=params, state=TrialState.COMPLETE, value=float(np.exp(10 * params["x0"]))))
    a = AutoStrategy(direction="minimize", seed=3).ask(SPACE, hist, 2)
    b = AutoStrategy(direction="minimize", seed=3).ask(SPACE, hist, 2)
    assert a == b and all(SPACE.validate_config(c) == [] for c in a)


def test_batches_keep_gps_start_up_by_default() -> None:
    auto = AutoStrategy(direction="minimize", seed=2)
    done = [Trial(number=i, params={}, state=TrialState.COMPLETE, value=float(i)) for i in range(8)]
    assert auto.delegate(SPACE, done, n=8).options == {"n_startup_trials": 10}


def test_batch_startup_switches_a_batch_to_gp_once_a_round_is_complete() -> None:
    auto = AutoStrategy(direction="minimize", seed=2, config=AutoConfig(batch_startup=8))
    done = [Trial(number=i, params={}, state=TrialState.COMPLETE, value=float(i)) for i in range(8)]
    assert auto.delegate(SPACE, done[:7], n=8).options == {"n_startup_trials": 10}  # not a full round yet
    assert auto.delegate(SPACE, done, n=8).options == {"n_startup_trials": 2}  # batch: GP models now
    assert auto.delegate(SPACE, done, n=1).options == {"n_startup_trials": 10}  # sequential: its start-up


def test_a_batch_portfolio_takes_some_points_from_tpe_away_from_gps() -> None:
    rng = np.random.default_rng(4)
    hist = []
    for i in range(12):
        params = {n: float(rng.uniform()) for n in SPACE.names}
        hist.append(Trial(number=i, params=params, state=TrialState.COMPLETE, value=float(params["x0"])))
    plain = AutoStrategy(direction="minimize", seed=5).ask(SPACE, hist, 8)
    hedged = AutoStrategy(direction="minimize", seed=5, config=AutoConfig(batch_tpe=2))
    mixed = hedged.ask(SPACE, hist, 8)
    assert len(mixed) == 8 and all(SPACE.validate_config(c) == [] for c in mixed)
    assert mixed[:6] == plain[:6]  # GP's part is GP's first six points of the batch
    assert "tpe" in hedged._delegates  # the other two came from TPE ...
    assert all(c not in mixed[:6] for c in mixed[6:])  # ... which did not repeat GP's
    assert hedged.ask(SPACE, hist, 1) == AutoStrategy(direction="minimize", seed=5).ask(SPACE, hist, 1)


def _model_phase(labels: list[str], values: list[float]) -> list[Trial]:
    """10 random start-up trials (GP's own), then trials labelled as ``auto`` proposed them."""
    start = [Trial(number=i, params={}, state=TrialState.COMPLETE, value=50.0, strategy="auto:gp") for i in range(10)]
    return start + [
        Trial(number=10 + i, params={}, state=TrialState.COMPLETE, value=v, strategy=label)
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]


def test_tpe_every_hands_every_kth_model_trial_to_tpe() -> None:
    auto = AutoStrategy(direction="minimize", seed=1, config=AutoConfig(tpe_every=3))
    assert auto.pick(SPACE, _model_phase([], [])[:9]) == "gp"  # still GP's start-up
    picks = []
    hist = _model_phase([], [])
    for _ in range(6):
        picks.append(auto.pick(SPACE, hist))
        hist = _model_phase([*(t.strategy for t in hist[10:]), f"auto:{picks[-1]}"], [1.0] * (len(hist) - 9))
    assert picks == ["gp", "gp", "tpe", "gp", "gp", "tpe"]
    assert auto.label(SPACE, hist) == f"auto:{auto.pick(SPACE, hist)}" and auto.delegate(SPACE, hist).name == "gp"


def test_the_portfolio_takes_turns_then_follows_the_better_ranked_proposer() -> None:
    auto = AutoStrategy(direction="minimize", seed=1, config=AutoConfig(portfolio=True))
    assert auto.pick(SPACE, _model_phase([], [])) == "gp"
    assert auto.pick(SPACE, _model_phase(["auto:gp"], [5.0])) == "tpe"  # turns until each proposed two
    # TPE's proposals rank better (lower losses): it serves, GP keeps one turn in four
    tpe_better = ["auto:gp", "auto:tpe", "auto:gp", "auto:tpe"]
    assert auto.pick(SPACE, _model_phase(tpe_better, [9.0, 1.0, 8.0, 2.0])) == "tpe"
    assert auto.pick(SPACE, _model_phase([*tpe_better, "auto:tpe"], [9.0, 1.0, 8.0, 2.0, 1.5])) == "tpe"
    three = [*tpe_better, "auto:tpe", "auto:tpe", "auto:tpe"]
    assert auto.pick(SPACE, _model_phase(three, [9.0, 1.0, 8.0, 2.0, 1.5, 1.2, 1.1])) == "gp"
    # to maximise, the same values say GP's proposals are better
    up = AutoStrategy(direction="maximize", seed=1, config=AutoConfig(portfolio=True))
    assert up.pick(SPACE, _model_phase(tpe_better, [9.0, 1.0, 8.0, 2.0])) == "gp"
    assert AutoStrategy(direction="minimize", config=AutoConfig(tpe_min_dims=3)).pick(SPACE, []) == "tpe"


def test_the_added_start_up_ends_at_a_round_boundary_in_batches() -> None:
    from agent.core.records import ProposerKind

    # round 1 of a 16x8 study: the default and 7 priors; round 2: 8 random points
    first = [
        Trial(
            number=i,
            params={},
            state=TrialState.COMPLETE,
            value=float(i),
            proposer=ProposerKind.DEFAULT if i == 0 else ProposerKind.STRATEGY,
            strategy=None if i == 0 else "auto:prior",
        )
        for i in range(8)
    ]
    second = [
        Trial(number=8 + i, params={}, state=TrialState.COMPLETE, value=1.0, strategy="auto:gp") for i in range(8)
    ]
    done = first + second
    v8 = AutoStrategy(direction="minimize", seed=2)
    v6 = AutoStrategy(direction="minimize", seed=2, config=AutoConfig(round_startup=False))
    # v6 would spend round 3 on random points too (start-up 10 + 8 = 18 > 16 complete) ...
    assert v6.gp_startup(done, 8) == 18
    # ... v8 models from round 3, as GP alone would (start-up ends at the round boundary: 16)
    assert v8.gp_startup(done, 8) == 16 and v8.delegate(SPACE, done, n=8).options == {"n_startup_trials": 16}
    # one at a time (n = 1) the default and priors still add to GP's 10 random start-up points (v6's rule)
    assert v8.gp_startup(done, 1) == v6.gp_startup(done, 1) == 18
    # never below GP's own start-up: a default alone in round 1 leaves 10 (GP models from round 3 either way)
    assert v8.gp_startup(first[:1], 8) == 10
