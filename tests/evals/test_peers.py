"""Peers as eval contenders (evals/peers/): each one's contract on tiny problems, and what every adapter shares.

The contract per peer (``hebo``, ``hebo-2020``, ``smac``, ``smac-hpo``), through the harness: the default
configuration first, then valid configurations of the space (a mixed space with log, gridded, categorical
and conditional parameters too, where some evaluations fail), batches of 1 and 2, the same proposals for the
same seed, and a one-line install command when the package is missing (before any unit runs, and when a
unit is built). A peer whose package is not installed
is skipped with its install command as the reason. HEBO's acquisition search and GPy's restarts are shrunk
here (``quick_hebo``) so the model-based asks take a second, not half a minute; the adapter's code path is
the same.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import ProposerKind, Trial, TrialState
from agent.core.space import SearchSpace
from agent.errors import TunesmithError
from evals.contenders import ContenderContext, get_contender
from evals.harness import Unit, run_unit
from evals.peers import INSTALL_HEBO, INSTALL_PEERS
from evals.peers.common import told_losses
from evals.problems import get_problem
from evals.problems.base import Evaluation, EvaluationError, Problem

PEERS = ("hebo", "hebo-2020", "smac", "smac-hpo")
PACKAGE = {"hebo": "hebo", "hebo-2020": "hebo", "smac": "smac", "smac-hpo": "smac"}
INSTALL = {"hebo": INSTALL_HEBO, "hebo-2020": INSTALL_HEBO, "smac": INSTALL_PEERS, "smac-hpo": INSTALL_PEERS}


def _needs(name: str) -> None:
    if importlib.util.find_spec(PACKAGE[name]) is None:
        pytest.skip(f"{PACKAGE[name]} is not installed: {INSTALL[name]}")


@pytest.fixture(scope="module", autouse=True)
def quick_hebo() -> Iterator[None]:
    """HEBO with a small acquisition search (pop 12 x 4 generations) and one short GPy restart."""
    if importlib.util.find_spec("hebo") is None:
        yield
        return
    from evals.peers.hebo import _load

    _load("hebo")
    from hebo.models.gp.gpy_wgp import GPyGP
    from hebo.optimizers import hebo as hebo_module

    evolution = hebo_module.EvolutionOpt
    gpy_init = GPyGP.__init__

    def small_evolution(*args: Any, **kwargs: Any) -> Any:
        return evolution(*args, **{**kwargs, "pop": 12, "iters": 4})

    def short_gpy(self: Any, *args: Any, **kwargs: Any) -> None:
        gpy_init(self, *args, **kwargs)
        self.num_restarts, self.num_epochs = 1, 20

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(hebo_module, "EvolutionOpt", small_evolution)
        mp.setattr(GPyGP, "__init__", short_gpy)
        yield


class MixedProblem(Problem):
    """Log, gridded, categorical and conditional parameters; ``frac`` above 0.85 crashes."""

    name = family = group = "mixed"

    def __init__(self) -> None:
        self._space = SearchSpace.from_dict(
            {
                "kind": {"type": "categorical", "choices": ["a", "b", True]},
                "depth": {"type": "int", "low": 1, "high": 64, "log": True},
                "lr": {"type": "float", "low": 1e-4, "high": 1.0, "log": True},
                "frac": {"type": "float", "low": 0.0, "high": 1.0, "step": 0.1},
                "n": {"type": "int", "low": 0, "high": 50, "step": 5},
                "gamma": {"type": "float", "low": 0.0, "high": 1.0, "when": {"kind": ["b"]}},
            }
        )

    @property
    def space(self) -> SearchSpace:
        return self._space

    @property
    def default(self) -> dict[str, Any]:
        return {"kind": "a", "depth": 8, "lr": 0.01, "frac": 0.5, "n": 10}

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        if params["frac"] > 0.85:
            raise EvaluationError("frac too high")
        loss = (math.log10(params["lr"]) + 2) ** 2 + (params["frac"] - 0.3) ** 2 + abs(params["n"] - 20) / 50
        loss += 0.1 * (params["kind"] != "b") + params.get("gamma", 0.5) + math.log2(params["depth"]) / 10
        return Evaluation(loss=loss, test_loss=loss)


class TinyProblem(Problem):
    """Six configurations in all: fewer than a 16-evaluation budget."""

    name = family = group = "tiny"

    @property
    def space(self) -> SearchSpace:
        return SearchSpace.from_dict(
            {"k": {"type": "int", "low": 1, "high": 3}, "w": {"type": "categorical", "choices": ["u", "d"]}}
        )

    @property
    def default(self) -> dict[str, Any]:
        return {"k": 2, "w": "u"}

    def evaluate(self, params: Mapping[str, Any]) -> Evaluation:
        loss = abs(params["k"] - 3) + (params["w"] == "u")
        return Evaluation(loss=loss, test_loss=loss)


@pytest.mark.parametrize("name", ["smac", "smac-hpo"])
def test_smac_ends_the_unit_when_a_small_space_runs_out(name: str) -> None:
    _needs(name)
    r = run_unit(Unit("tiny", name, 0, 16, 4), TinyProblem())
    seen = {tuple(sorted(e["params"].items())) for e in r["evals"]}
    assert len(seen) == 6  # the whole space, the best (k=3, w=d) among it ...
    assert len(r["evals"]) < 16  # ... and the unit ends when SMAC3 has nothing new (at most the default twice:
    # the harness runs it in the first round, before SMAC3 is told of it)


@cache
def _run(name: str, seed: int, batch: int, problem: str = "branin") -> dict[str, Any]:
    return _unit(name, seed, batch, problem)


def _unit(name: str, seed: int, batch: int, problem: str = "branin") -> dict[str, Any]:
    return run_unit(Unit(problem, name, seed, 6, batch), MixedProblem() if problem == "mixed" else None)


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("name", PEERS)
def test_a_peer_runs_the_default_first_then_valid_configs(name: str, batch: int) -> None:
    _needs(name)
    problem = get_problem("branin")
    r = _run(name, 0, batch)
    assert r["invalid"] == 0 and len(r["evals"]) == 6 and len(r["ask_s"]) == math.ceil(6 / batch)
    first, *rest = r["evals"]
    assert first["proposer"] == "default" and first["params"] == problem.default
    assert all(e["proposer"] == "strategy" and e["strategy"] == name for e in rest)
    assert all(not problem.space.validate_config(e["params"]) for e in rest)
    assert len({tuple(sorted(e["params"].items())) for e in r["evals"]}) == 6  # no repeats
    assert [e["round"] for e in r["evals"]] == [i // batch for i in range(6)]


@pytest.mark.parametrize("name", PEERS)
def test_a_peer_is_deterministic_per_seed(name: str) -> None:
    _needs(name)
    params = [[e["params"] for e in r["evals"]] for r in (_run(name, 0, 1), _unit(name, 0, 1), _run(name, 1, 1))]
    assert params[0] == params[1]
    assert params[0][1:] != params[2][1:]  # another seed (and study seed) proposes otherwise


@pytest.mark.parametrize("name", PEERS)
def test_a_peer_handles_log_grid_categorical_conditional_params_and_failures(name: str) -> None:
    _needs(name)
    space = MixedProblem().space
    for batch in (1, 2):
        r = _run(name, 0, batch, "mixed")
        assert r["invalid"] == 0 and len(r["evals"]) == 6
        for e in r["evals"]:
            assert not space.validate_config(e["params"]), e["params"]
    assert _run(name, 0, 1, "mixed") == _run(name, 0, 1, "mixed")


@pytest.mark.parametrize("name", PEERS)
def test_a_missing_peer_says_how_to_install_it_in_one_line(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = "hebo.optimizers.hebo" if PACKAGE[name] == "hebo" else "smac"
    monkeypatch.setitem(sys.modules, module, None)  # what an uninstalled package looks like to ``import``
    ctx = ContenderContext(
        problem="branin", space=get_problem("branin").space, default={}, direction="minimize", seed=0, budget=6, batch=1
    )
    with pytest.raises(TunesmithError) as err:
        get_contender(name).build(ctx)
    message = str(err.value)
    assert "\n" not in message and f"'{name}' contender" in message and INSTALL[name] in message


@pytest.mark.parametrize("name", PEERS)
def test_tunesmith_eval_refuses_a_missing_peer_before_any_unit(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setitem(sys.modules, PACKAGE[name], None)
    from tunesmith.cli import app  # type: ignore[attr-defined]  # re-exported

    with pytest.raises(SystemExit) as exit_info:
        app(["eval", "--problems", "branin", "--strategies", f"auto,{name}", "--out", "x"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and INSTALL[name] in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def _trial(number: int, state: TrialState, value: float | None = None, **kw: Any) -> Trial:
    return Trial(number=number, params={"x0": 1.0, "x1": 2.0}, state=state, value=value, **kw)


def test_failed_trials_are_told_worse_than_any_seen_running_ones_not_at_all() -> None:
    space = get_problem("branin").space
    history = [
        _trial(0, TrialState.FAILED),
        _trial(1, TrialState.RUNNING),
        _trial(2, TrialState.COMPLETE, 3.0, proposer=ProposerKind.DEFAULT),
        _trial(3, TrialState.COMPLETE, 1.0),
        _trial(4, TrialState.TIMEOUT),
        _trial(5, TrialState.CANCELLED),
        Trial(number=6, params={"x0": 99.0, "x1": 2.0}, state=TrialState.COMPLETE, value=0.0),  # outside the space
    ]
    told = told_losses(history, space, "minimize")
    # infeasible: the worst result (3.0) + 10 % of the spread of every result (0.0 .. 3.0), as the Optuna bridge
    assert [(t.number, round(v, 6)) for t, v in told] == [(0, 3.3), (2, 3.0), (3, 1.0), (4, 3.3)]
    assert told_losses(history[:2], space, "minimize") == []  # no real result yet: failures wait
    assert [v for _, v in told_losses(history[2:4], space, "maximize")] == [-3.0, -1.0]
