"""Bad specs fail before anything runs, with one line naming the field and how to fix it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from agent.core.durations import parse_duration
from agent.core.spec import StudySpec, load_spec, script_problem
from agent.errors import SpecError

BASE: dict[str, Any] = {
    "name": "t",
    "objective": {"metric": "acc", "direction": "maximize"},
    "command": "python train.py --epochs 3",
    "space": {
        "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
        "k": {"type": "categorical", "choices": ["a", "b"]},
    },
    "default": {"lr": 0.01, "k": "a"},
    "budget": {"max_trials": 5, "trial_timeout": "2m", "max_time": "1h", "memory_mb": 512},
}


def spec_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_valid_spec_round_trips(tmp_path: Path) -> None:
    spec = load_spec(BASE, base_dir=tmp_path)
    assert spec.command == ["python", "train.py", "--epochs", "3"]
    assert spec.budget.trial_timeout == 120 and spec.budget.max_time == 3600
    assert spec.workdir == str(tmp_path)
    assert load_spec(spec.to_dict()) == spec


def test_yaml_toml_and_json_files(tmp_path: Path) -> None:
    import json

    import yaml

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "s.json").write_text(json.dumps(BASE))
    (tmp_path / "s.toml").write_text(
        'name = "t"\ncommand = ["python", "t.py"]\n[objective]\nmetric = "acc"\ndirection = "minimize"\n'
        '[space.lr]\ntype = "float"\nlow = 0.001\nhigh = 0.1\nlog = true\n'
    )
    for name in ("s.yaml", "s.json", "s.toml"):
        spec = load_spec(tmp_path / name)
        assert isinstance(spec, StudySpec)
        assert spec.workdir == str(tmp_path)


def test_wandb_style_metric_and_goal() -> None:
    spec = load_spec(spec_with(objective=None, metric={"name": "loss", "goal": "minimize"}))
    assert spec.metric == "loss" and spec.direction == "minimize"


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (spec_with(budgett=3), ["budgett", "did you mean 'budget'"]),
        (spec_with(space={"lr": {"type": "float", "low": 1.0, "high": 0.1}}), ["space.lr", "must be < high"]),
        (
            spec_with(space={"lr": {"type": "float", "low": 0, "high": 1, "log": True}}, default=None),
            ["space.lr", "low > 0"],
        ),
        (spec_with(space={"k": {"type": "categorical", "choices": []}}, default=None), ["space.k", "empty"]),
        (spec_with(default={"lr": 5.0, "k": "a"}), ["default", "outside"]),
        (
            spec_with(space={"lr": {"type": "float", "low": 0.1, "high": 1, "when": {"opt": ["x"]}}}, default=None),
            ["opt", "not in the space"],
        ),
        (spec_with(command=None), ["missing command"]),
        (spec_with(objective={"metric": "acc"}), ["objective.direction", "missing"]),
        (spec_with(objective={"metric": "acc", "direction": "up"}), ["objective.direction"]),
        (spec_with(budget={"trial_timeout": "soon"}), ["budget.trial_timeout", "10m"]),
        (spec_with(strategy="bogo"), ["unknown strategy", "tpe"]),
        (spec_with(fixed={"lr": 0.1}), ["fixed", "lr"]),
        (
            spec_with(space={"lr": {"type": "float", "lo": 0.1, "high": 1}}, default=None),
            ["space.lr", "unknown key 'lo'"],
        ),
        (spec_with(workers=0), ["workers"]),
    ],
)
def test_bad_specs_name_the_field(data: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(data)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_bad_files(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("objective: [unclosed\n")
    with pytest.raises(SpecError, match="cannot parse"):
        load_spec(tmp_path / "bad.yaml")
    with pytest.raises(SpecError, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(SpecError, match="mapping"):
        load_spec(tmp_path / "list.yaml")
    (tmp_path / "train.py").write_text("print(1)\n")  # a newcomer passes the training script itself
    with pytest.raises(SpecError, match=r"train.py is a training script, not a spec: write a spec.yaml that runs it"):
        load_spec(tmp_path / "train.py")
    (tmp_path / "spec.txt").write_text("x\n")
    with pytest.raises(SpecError, match=r"unknown spec format; use \.yaml, \.toml or \.json"):
        load_spec(tmp_path / "spec.txt")


@pytest.mark.parametrize(("text", "seconds"), [(90, 90.0), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0)])
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_a_missing_script_fails_before_the_study_folder_exists(tmp_path: Path) -> None:
    from agent.study.session import Session

    (tmp_path / "spec.yaml").write_text(
        "objective: {metric: y, direction: maximize}\ncommand: [python, trian.py]\nspace: {x: {low: 0.0, high: 1.0}}\n"
    )
    spec = load_spec(tmp_path / "spec.yaml")
    with pytest.raises(SpecError) as exc:
        Session.create(spec, tmp_path / "study")
    assert str(exc.value) == (
        f"command: script trian.py not found in {tmp_path}; fix the path in command (it is "
        "relative to workdir, which is relative to the spec file)"
    )
    assert not (tmp_path / "study").exists()
    (tmp_path / "trian.py").write_text("")
    session = Session.create(spec, tmp_path / "study")  # found now; later moved away: resume says so too
    (tmp_path / "trian.py").unlink()
    with pytest.raises(SpecError, match=r"script trian\.py not found"):
        session.run()
    for command in (["python", "-m", "pkg.train"], ["bash", "run.sh"], ["python", "-c", "pass"]):
        assert script_problem(load_spec({**spec.to_dict(), "command": command})) is None
    missing = load_spec({**spec.to_dict(), "workdir": str(tmp_path / "nowhere")})
    assert "workdir:" in (script_problem(missing) or "")


def test_unlimited_trials_survive_the_round_trip() -> None:
    spec = load_spec(spec_with(budget={"max_trials": None, "max_time": "1h"}))
    assert spec.budget.max_trials is None
    assert load_spec(spec.to_dict()).budget.max_trials is None
