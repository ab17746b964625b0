"""Optuna objectives as written (``def objective(trial)``): the space is read from the ``suggest_*`` calls
before trial 1 (conditions and loops included), what cannot be read is refused with the line and the fix, and
the function is tuned through the real sandbox with a trial whose ``suggest_*`` return tunesmith's params."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import tunesmith
from agent.core.define_by_run import suggested_space
from agent.core.space import SearchSpace
from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.function_check import function_problem
from tests.conftest import ROOT

CANONICAL = """
import optuna

N_MAX = 128


def objective(trial: optuna.Trial) -> float:
    classifier = trial.suggest_categorical("classifier", ["SVC", "RandomForest"])
    if classifier == "SVC":
        c = trial.suggest_float("svc_c", 1e-10, 1e10, log=True)
    else:
        depth = trial.suggest_int("rf_max_depth", 2, 32, log=True)
    n_layers = trial.suggest_int("n_layers", 1, 3)
    for i in range(n_layers):
        units = trial.suggest_int(f"n_units_l{i}", 4, N_MAX)
    opt = trial.suggest_categorical("optimizer", ["Adam", "RMSprop", "SGD"])
    if opt in ("Adam", "RMSprop"):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    elif opt == "SGD":
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        momentum = trial.suggest_float("momentum", 0.0, 0.99, step=0.01)
    if trial.suggest_categorical("bn", [True, False]):
        pass
    q = trial.suggest_discrete_uniform("q", 0.0, 1.0, 0.25) + trial.suggest_loguniform("old", 1e-3, 1.0)
    for epoch in range(100):
        trial.report(0.1, epoch)
    return 1.0


def plain(params):
    return 1.0
"""


def _space(tmp_path: Path, source: str, name: str = "objective") -> dict[str, Any] | None:
    (tmp_path / "obj.py").write_text(textwrap.dedent(source))
    return suggested_space(tmp_path / "obj.py", name)


def test_the_space_of_optunas_own_examples_is_read_with_its_conditions_and_loops(tmp_path: Path) -> None:
    space = _space(tmp_path, CANONICAL)
    assert space is not None
    assert space["classifier"] == {"type": "categorical", "choices": ["SVC", "RandomForest"]}
    assert space["svc_c"] == {"type": "float", "low": 1e-10, "high": 1e10, "log": True, "when": {"classifier": ["SVC"]}}
    assert space["rf_max_depth"]["when"] == {"classifier": ["RandomForest"]} and space["rf_max_depth"]["log"] is True
    assert space["n_units_l0"] == {"type": "int", "low": 4, "high": 128}  # N_MAX read from the module
    assert space["n_units_l1"]["when"] == {"n_layers": [2, 3]} and space["n_units_l2"]["when"] == {"n_layers": [3]}
    assert "when" not in space["lr"]  # suggested under every choice of optimizer: always active
    assert space["momentum"] == {
        "type": "float",
        "low": 0.0,
        "high": 0.99,
        "step": 0.01,
        "when": {"optimizer": ["SGD"]},
    }
    assert space["bn"] == {"type": "categorical", "choices": [True, False]}
    assert space["q"] == {"type": "float", "low": 0.0, "high": 1.0, "step": 0.25}
    assert space["old"] == {"type": "float", "low": 1e-3, "high": 1.0, "log": True}
    SearchSpace.from_dict(space)  # a valid tunesmith space
    assert _space(tmp_path, CANONICAL, "plain") is None  # params-dict objectives are not define-by-run


PYTORCH = """
def define_model(t):
    n_layers = t.suggest_int("n_layers", 1, 3)
    for i in range(n_layers):
        out_features = t.suggest_int(f"n_units_l{i}", 4, 128)
    return None


def objective(trial):
    model = define_model(trial)
    optimizer_name = trial.suggest_categorical("optimizer", ["Adam", "RMSprop", "SGD"])
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    return 0.0
"""


def test_a_function_the_objective_hands_the_trial_to_is_read_too(tmp_path: Path) -> None:
    space = _space(tmp_path, PYTORCH.replace('t.suggest_int("n_units_l{}".format(i), 4, 128) if False else ', ""))
    assert space is not None and list(space) == [
        "n_layers",
        "n_units_l0",
        "n_units_l1",
        "n_units_l2",
        "optimizer",
        "lr",
    ]
    assert space["n_units_l2"]["when"] == {"n_layers": [3]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("trial.suggest_float(name, 0, 1)", r"obj.py:3: trial.suggest_float's name is not a literal; write it with"),
        ('trial.suggest_int("n", 1, high)', r"obj.py:3: trial.suggest_int's high \(high\) is not a literal"),
        ('trial.suggest_float("a", 0, 1)\n    trial.suggest_float("a", 0, 2)', "'a' is suggested twice with different"),
        ("return 1.0", r"obj.py:2: objective\(trial\) calls no trial.suggest_\*"),
        ('[trial.suggest_int(f"u{i}", 1, 2) for i in range(3)]', "obj.py:3: trial.suggest_int's name is not a literal"),
    ],
)
def test_what_cannot_be_read_is_refused_with_the_line_and_the_fix(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        _space(tmp_path, f"\ndef objective(trial, name='x', high=3):\n    {body}\n")


def test_an_objective_that_needs_more_than_the_trial_is_refused(tmp_path: Path) -> None:
    source = SCRIPT.replace("def objective(trial):", "def objective(trial, data):")
    source = source.replace("study.optimize(objective,", "study.optimize(lambda t: objective(t, None),")
    (tmp_path / "search.py").write_text(source)
    with pytest.raises(SpecError, match=r"search.py:7: objective\(\) needs more arguments than the trial"):
        load_spec(tmp_path / "search.py")


def test_a_spec_without_space_gets_the_functions_and_an_explicit_space_wins(tmp_path: Path) -> None:
    (tmp_path / "obj.py").write_text(CANONICAL)
    base = {"objective": {"metric": "value", "direction": "minimize"}, "function": "obj.py:objective"}
    spec = load_spec(base, base_dir=tmp_path)
    assert spec.space.names[:3] == ["classifier", "svc_c", "rf_max_depth"]
    assert load_spec(spec.to_dict()) == spec  # the study folder keeps the space it was read as
    own = load_spec({**base, "space": {"lr": {"low": 1e-4, "high": 1e-1, "log": True}}}, base_dir=tmp_path)
    assert own.space.names == ["lr"]
    assert function_problem(own) == (  # its other suggest_* calls would fail every trial
        "function: objective suggests classifier, svc_c, rf_max_depth, n_layers, which the spec's space lacks (it "
        "has lr); add classifier to space:, or leave space: out to read the space from the function"
    )
    assert function_problem(spec) is None
    with pytest.raises(SpecError, match="space"):  # a params-dict function still needs its space
        load_spec({**base, "function": "obj.py:plain"}, base_dir=tmp_path)


def test_an_optuna_objective_is_tuned_as_it_is_written(tmp_path: Path) -> None:
    from tests.agent.trial_funcs import optuna_objective

    study = tunesmith.tune(optuna_objective, trials=8, seed=0, dir=tmp_path / "s")
    assert study.spec.objective.metric == "value" and study.spec.direction == "minimize"
    assert study.spec.space.names == ["x", "kind", "shift", "n_layers", "units_l0", "units_l1"]
    done = [t for t in study.trials if t.value is not None]
    assert len(done) == 8
    for t in done:  # each suggest_* returned the trial's own param
        p = t.params
        width = p["units_l0"] + p.get("units_l1", 0)
        assert t.value == pytest.approx((p["x"] - 1.0) ** 2 + p.get("shift", 0) + 0.01 * width)
        assert ("shift" in p) == (p["kind"] == "shifted") and ("units_l1" in p) == (p["n_layers"] == 2)
        assert t.metrics["width"] == width  # set_user_attr: a number is reported as a metric
    curve = study.curve(done[0].number)
    assert [m.step for m in curve if "value" in m.values][:3] == [0, 1, 2]  # trial.report(value, step)
    with pytest.raises(SpecError, match="direction= is for an objective function"):
        tunesmith.tune(str(ROOT / "examples/sklearn-digits/spec.yaml"), direction="maximize", dir=tmp_path / "x")


SCRIPT = """
import optuna

N_TRIALS = 6


def objective(trial):
    x = trial.suggest_float("x", -3, 3)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    return -((x - 1) ** 2) - (0.5 if kind == "b" else 0.0)


if __name__ == "__main__":
    raise SystemExit("the script's own main must never run in a trial")
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(), sampler=optuna.samplers.TPESampler(seed=7)
    )
    study.enqueue_trial({"x": 0.5, "kind": "a"})
    study.optimize(objective, N_TRIALS, timeout=600, n_jobs=2)
"""


def test_an_unchanged_optuna_script_is_tuned_with_its_direction_budget_and_pruner(tmp_path: Path) -> None:
    from agent.core.spec_file import read_spec_file
    from agent.study.session import Session
    from tests.conftest import run_cli

    (tmp_path / "search.py").write_text(SCRIPT)
    assert read_spec_file(tmp_path / "search.py") == {
        "name": "search",
        "function": "search.py:objective",
        "objective": {"metric": "value", "direction": "maximize"},
        "budget": {"max_trials": 6, "max_time": 600.0},
        "workers": 2,
        "pruner": {"type": "median"},
        "strategy": "tpe",
        "seed": 7,
        "default": {"x": 0.5, "kind": "a"},
    }
    res = run_cli("tune", str(tmp_path / "search.py"), "--dir", str(tmp_path / "s"), "--quiet")
    assert res.returncode == 0, res.stdout + res.stderr
    trials = Session.open(tmp_path / "s", readonly=True).trials()
    assert len(trials) == 6 and all(t.value is not None for t in trials)
    assert trials[0].params == {"x": 0.5, "kind": "a"} and {t.strategy for t in trials[1:]} == {"tpe"}
    for t in trials:
        assert t.value == pytest.approx(-((t.params["x"] - 1) ** 2) - (0.5 if t.params["kind"] == "b" else 0.0))
    (tmp_path / "multi.py").write_text(SCRIPT.replace('direction="maximize"', 'directions=["maximize", "minimize"]'))
    with pytest.raises(SpecError, match=r"multi.py: create_study\(directions=...\) is a multi-objective study"):
        read_spec_file(tmp_path / "multi.py")
    (tmp_path / "train.py").write_text("import torch\n")
    with pytest.raises(SpecError, match=r"train\.py is a training script, not a spec"):
        read_spec_file(tmp_path / "train.py")


def test_the_model_is_told_the_function_is_an_optuna_objective(tmp_path: Path) -> None:
    from agent.hybrid.context import task_context

    (tmp_path / "search.py").write_text(SCRIPT)
    shown = task_context(load_spec(tmp_path / "search.py"))
    assert "the parameters reach it as an Optuna trial" in shown and 'trial.suggest_float("x", -3, 3)' in shown


def test_an_objective_that_prunes_itself_ends_pruned_not_complete(tmp_path: Path) -> None:
    from agent.core.records import TrialState
    from tests.agent.trial_funcs import self_pruning

    study = tunesmith.tune(self_pruning, direction="maximize", trials=8, seed=1, dir=tmp_path / "s")
    for t in study.trials:
        pruned = t.params["x"] > 0.5
        assert t.state is (TrialState.PRUNED if pruned else TrialState.COMPLETE)
        assert t.value == pytest.approx(t.params["x"])  # the last value it reported
        assert (t.reason == "the objective pruned itself (TrialPruned)") == pruned and "_pruned" not in t.metrics
    assert {t.state for t in study.trials} == {TrialState.PRUNED, TrialState.COMPLETE}
    best = study.best_trial
    assert best is not None and best.params["x"] <= 0.5  # maximized, yet a pruned (higher) one is never best


def test_an_optuna_grid_sampler_becomes_a_grid_over_its_values(tmp_path: Path) -> None:
    from agent.core.spec_file import read_spec_file

    grid = 'sampler=optuna.samplers.GridSampler({"x": [-1.0, 0.0, 1.0], "kind": ["a", "b"]}, seed=2)'
    source = SCRIPT.replace("sampler=optuna.samplers.TPESampler(seed=7)", grid).replace("N_TRIALS, ", "")
    (tmp_path / "search.py").write_text(source)
    data = read_spec_file(tmp_path / "search.py")
    assert data["strategy"] == "grid" and data["seed"] == 2 and "max_trials" not in data["budget"]
    spec = load_spec(tmp_path / "search.py")
    assert spec.budget.max_trials == 6 and spec.space.params["x"].choices == [-1.0, 0.0, 1.0]  # type: ignore[union-attr]
