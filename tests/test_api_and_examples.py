"""The Python API and the bundled examples, run for real."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import tunesmith
from agent.errors import SpecError
from tests.conftest import ROOT, run_cli


def test_python_api_runs_a_callable_objective(tmp_path: Path) -> None:
    study = tunesmith.tune(
        {
            "objective": {"metric": "y", "direction": "minimize"},
            "function": "tests.agent.trial_funcs:quadratic",
            "workdir": str(ROOT),
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": {"choices": ["a", "b"]}},
            "budget": {"max_trials": 4},
            "strategy": "random",
            "seed": 0,
        },
        dir=tmp_path / "s",
        workers=2,
    )
    assert len(study.trials) == 4
    assert study.best_value == min(t.value for t in study.trials if t.value is not None)
    assert set(study.best_params or {}) <= {"x", "k"}
    df = study.to_dataframe()
    assert list(df["trial"]) == [0, 1, 2, 3] and "param_x" in df.columns
    again = tunesmith.load(tmp_path / "s")
    assert again.best_value == study.best_value


def test_python_api_takes_the_function_object_itself(tmp_path: Path) -> None:
    from tests.agent.trial_funcs import quadratic

    spec = {
        "objective": {"metric": "y", "direction": "minimize"},
        "function": quadratic,
        "workdir": str(ROOT),
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": {"choices": ["a", "b"]}},
        "budget": {"max_trials": 3},
    }
    study = tunesmith.tune(spec, dir=tmp_path / "s")
    assert len(study.trials) == 3 and all(t.value is not None for t in study.trials)
    with pytest.raises(SpecError, match="lambdas and nested functions cannot run in a child process"):
        tunesmith.tune({**spec, "function": lambda p: {"y": 1.0}}, dir=tmp_path / "l")


def test_python_api_rejects_bad_specs_before_running(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="missing command"):
        tunesmith.tune(
            {"objective": {"metric": "y", "direction": "minimize"}, "space": {"x": {"low": 0.0, "high": 1.0}}},
            dir=tmp_path / "s",
        )
    assert not (tmp_path / "s").exists()


def test_sklearn_example_with_two_workers(tmp_path: Path) -> None:
    res = run_cli(
        "tune",
        str(ROOT / "examples/sklearn-digits/spec.yaml"),
        "--dir",
        str(tmp_path / "s"),
        "--trials",
        "5",
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    study = tunesmith.load(tmp_path / "s")
    assert len(study.trials) == 5
    assert study.trials[0].proposer.value == "default"
    assert all(t.state.value == "complete" for t in study.trials)
    assert (study.best_value or 0) > 0.5
    starts = sorted((t.started_at or 0, t.finished_at or 0) for t in study.trials)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(starts)), "two workers should overlap"


def test_torch_example_reports_every_epoch(tmp_path: Path) -> None:
    res = run_cli(
        "tune", str(ROOT / "examples/torch-mlp/spec.yaml"), "--dir", str(tmp_path / "s"), "--trials", "1", "--quiet"
    )
    assert res.returncode == 0, res.stderr
    study = tunesmith.load(tmp_path / "s")
    points = study.curve(0)
    assert [p.step for p in points] == list(range(1, 21))
    assert study.trials[0].value is not None and study.trials[0].value > 0.8


def test_the_optuna_script_example_runs_unchanged(tmp_path: Path) -> None:
    res = run_cli(
        "tune", str(ROOT / "examples/optuna-script/search.py"), "--dir", str(tmp_path / "s"), "--trials", "1", "-q"
    )
    assert res.returncode == 0, res.stdout + res.stderr
    study = tunesmith.load(tmp_path / "s")
    assert study.spec.direction == "maximize" and study.spec.pruner is not None and study.spec.pruner.type == "median"
    assert {"n_layers", "n_units_l0", "n_units_l2", "dropout_l2", "optimizer", "lr"} <= set(study.spec.space.names)
    assert study.spec.space.params["n_units_l2"].when == {"n_layers": [3]}  # read from define_model(trial)
    (trial,) = study.trials
    assert trial.value is not None and [p.step for p in study.curve(0)][:10] == list(range(10))  # trial.report


def test_auto_tries_a_matching_families_priors_right_after_the_default(tmp_path: Path) -> None:
    from agent.core.space import SearchSpace
    from agent.strategies.priors import prior_configs

    space = {"n_neighbors": {"type": "int", "low": 1, "high": 25}, "p": {"type": "int", "low": 1, "high": 4}}
    priors = prior_configs(SearchSpace.from_dict(space))
    study = tunesmith.tune(
        {
            "objective": {"metric": "y", "direction": "minimize"},
            "function": "tests.agent.trial_funcs:knn_like",
            "workdir": str(ROOT),
            "space": space,
            "default": {"n_neighbors": 5, "p": 2},
            "budget": {"max_trials": len(priors) + 2},
            "seed": 0,
        },
        dir=tmp_path / "s",
    )
    trials = study.trials
    assert trials[0].proposer.value == "default"
    assert [t.params for t in trials[1 : len(priors) + 1]] == priors
    assert {t.strategy for t in trials[1 : len(priors) + 1]} == {"auto:prior"}
    assert trials[-1].strategy == "auto:gp" and trials[-1].params not in priors


def test_ctrl_c_in_the_python_api_is_a_keyboard_interrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library never raises the CLI's exceptions: Ctrl-C reaches the caller as KeyboardInterrupt."""
    from agent.study.session import Session

    def interrupted(self: Session, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Session, "run", interrupted)
    spec = {
        "objective": {"metric": "y", "direction": "minimize"},
        "function": "tests.agent.trial_funcs:quadratic",
        "workdir": str(ROOT),
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 2},
    }
    with pytest.raises(KeyboardInterrupt):
        tunesmith.tune(spec, dir=tmp_path / "s", quiet=False)


def test_the_readme_imports_only_the_public_api() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "from agent" not in readme and "import agent" not in readme
    for name in tunesmith.__all__:
        assert getattr(tunesmith, name) is not None, name


def test_langchain_tools_over_a_study_folder(tmp_path: Path) -> None:
    tunesmith.tune(
        {
            "objective": {"metric": "y", "direction": "minimize"},
            "function": "tests.agent.trial_funcs:quadratic",
            "workdir": str(ROOT),
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
            "budget": {"max_trials": 2},
        },
        dir=tmp_path / "s",
    )
    tools = {t.name: t for t in tunesmith.langchain_tools(tmp_path / "s")}
    assert {"query_history", "run_trials", "edit_space"} <= set(tools)
    assert "trial" in str(tools["query_history"].invoke({}))
    assert set(t.name for t in tunesmith.langchain_tools(tmp_path / "s", read_only=True)) < set(tools)


@pytest.mark.slow
def test_the_tiny_lm_example_tries_the_step_law_point_after_the_default(tmp_path: Path) -> None:
    res = run_cli("tune", str(ROOT / "examples/tiny-lm/spec.yaml"), "--dir", str(tmp_path / "s"), "--trials", "2")
    assert res.returncode == 0, res.stderr
    study = tunesmith.load(tmp_path / "s")
    assert [t.strategy for t in study.trials][1] == "prior:steplaw"
    assert all(t.value is not None for t in study.trials)
