"""``strategy: grid``: every configuration of a finite space once (conditional params only where active), in a
seeded order that spreads over the grid; what anyone tried is not run again; the whole grid runs when the spec
sets no max_trials, then the study ends; a space that cannot be listed is refused with the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import ProposerKind, Trial, TrialState
from agent.core.space import SearchSpace, config_key
from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.strategies import make_strategy
from agent.study.session import Session
from sandbox.fake import InProcessExecutor

SPACE = {
    "opt": {"choices": ["adam", "sgd"]},
    "lr": {"type": "float", "low": 0.001, "high": 0.003, "step": 0.001},
    "momentum": {"type": "float", "low": 0.0, "high": 0.9, "step": 0.45, "when": {"opt": ["sgd"]}},
}
GRID = 3 + 3 * 3  # adam: 3 lrs; sgd: 3 lrs x 3 momenta


def _trial(number: int, params: dict[str, Any], by: ProposerKind = ProposerKind.STRATEGY) -> Trial:
    return Trial(number=number, params=params, state=TrialState.COMPLETE, value=0.0, proposer=by)


def test_every_configuration_once_in_a_seeded_order_then_none() -> None:
    space = SearchSpace.from_dict(SPACE)
    strategy = make_strategy("grid", direction="maximize", seed=3)
    history: list[Trial] = []
    while batch := strategy.ask(space, history, n=5):
        assert not space.validate_config(batch[0]) and len(batch) <= 5
        history += [_trial(len(history) + i, c) for i, c in enumerate(batch)]
    keys = [config_key(t.params) for t in history]
    assert len(keys) == GRID == len(set(keys))  # each once, the conditional momentum only with sgd
    assert all(("momentum" in t.params) == (t.params["opt"] == "sgd") for t in history)
    again = make_strategy("grid", direction="maximize", seed=3).ask(space, [], n=GRID)
    other = make_strategy("grid", direction="maximize", seed=4).ask(space, [], n=GRID)
    assert [config_key(c) for c in again] == keys and [config_key(c) for c in other] != keys  # seeded order
    assert {c["opt"] for c in again[:4]} == {"adam", "sgd"}  # not one corner first


def test_what_anyone_tried_is_not_run_again() -> None:
    space = SearchSpace.from_dict(SPACE)
    tried = _trial(0, {"opt": "adam", "lr": 0.002}, ProposerKind.LLM)
    proposed = make_strategy("grid", direction="minimize", seed=0).ask(space, [tried], n=GRID)
    assert len(proposed) == GRID - 1 and {"opt": "adam", "lr": 0.002} not in proposed


def test_a_grid_study_runs_the_whole_grid_and_ends(tmp_path: Path) -> None:
    data = {
        "objective": {"metric": "y", "direction": "maximize"},
        "function": "tests.agent.faces.trial_funcs:slow_quadratic",
        "space": {"x": {"type": "float", "low": 0.0, "high": 0.6, "step": 0.2}, "k": {"choices": ["a", "b"]}},
        "default": {"x": 0.2, "k": "a"},
        "strategy": "grid",
        "seed": 1,
    }
    spec = load_spec(data)
    assert spec.budget.max_trials == 8 and load_spec(spec.to_dict()) == spec  # the grid's size, kept
    assert load_spec({**data, "budget": {"max_trials": 3}}).budget.max_trials == 3  # the person's own budget
    session = Session.create(spec, tmp_path / "s")
    summary = session.run(executor=InProcessExecutor(capacity=2), tick=0.01)
    trials = session.trials()
    assert summary.reason == "budget" and len(trials) == 8
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 8  # the default counted, none twice
    assert trials[0].proposer is ProposerKind.DEFAULT and {t.strategy for t in trials[1:]} == {"grid"}
    resumed = Session.open(tmp_path / "s")
    resumed.state.set_budget(resumed.spec.budget.model_copy(update={"max_trials": 12}), rationale="", source="t")
    assert resumed.run(executor=InProcessExecutor(capacity=1), tick=0.01).reason == "exhausted"  # nothing left
    assert len(resumed.trials()) == 8


def test_a_space_that_cannot_be_listed_is_refused_with_the_fix() -> None:
    base = {"objective": {"metric": "y", "direction": "maximize"}, "command": ["python", "t.py"], "strategy": "grid"}
    with pytest.raises(SpecError, match="lr is a float without step; give lr a step or choices"):
        load_spec({**base, "space": {"lr": {"low": 1e-4, "high": 1e-1, "log": True}}})
    huge = {f"p{i}": {"type": "int", "low": 0, "high": 9} for i in range(6)}
    with pytest.raises(SpecError, match="over 100,000 configurations"):
        load_spec({**base, "space": huge})


def test_strategy_grid_on_the_command_line_runs_the_whole_grid(tmp_path: Path) -> None:
    import yaml

    from tests.conftest import run_cli

    script = "import tunesmith\np = tunesmith.params()\ntunesmith.report(y=p['x'] * len(p['k']))\n"
    (tmp_path / "train.py").write_text(script)
    spec = {
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "int", "low": 1, "high": 3}, "k": {"choices": ["a", "bb"]}},
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--strategy", "grid", "--dir", str(tmp_path / "s"), "-q")
    assert res.returncode == 0, res.stdout + res.stderr
    trials = Session.open(tmp_path / "s", readonly=True).trials()
    assert sorted((t.params["x"], t.params["k"]) for t in trials) == [(x, k) for x in (1, 2, 3) for k in ("a", "bb")]
