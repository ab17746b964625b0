"""A W&B sweep configuration runs as a spec: every key W&B users write maps to its tunesmith equivalent, and
what has none is refused with one line naming the key and the fix."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.session import Session
from tests.conftest import run_cli

SWEEP: dict[str, Any] = {
    "program": "train.py",
    "method": "bayes",
    "name": "my-sweep",
    "description": "a small regression net on synthetic data",
    "project": "demo",
    "entity": "me",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {
        "learning_rate": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
        "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.5},
        "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
        "width": {"min": 16, "max": 256},
        "momentum": {"distribution": "q_uniform", "min": 0.5, "max": 0.9, "q": 0.1},
        "wd": {"distribution": "log_uniform", "min": -9.0, "max": -2.0},
        "batch_size": {"values": [16, 32, 64]},
        "optimizer": {"distribution": "categorical", "values": ["adam", "sgd"]},
        "epochs": {"value": 3},
    },
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    "run_cap": 12,
}

SCRIPT = """
import argparse, json, math
p = argparse.ArgumentParser()
p.add_argument("--learning_rate", type=float)
p.add_argument("--batch_size", type=int)
p.add_argument("--epochs", type=int)
a = p.parse_args()
for e in range(a.epochs):
    loss = (math.log10(a.learning_rate) + 3) ** 2 + abs(a.batch_size - 32) / 100 + 1 / (e + 1)
    print("TUNESMITH_REPORT " + json.dumps({"step": e, "val_loss": loss}))
"""


def test_a_typical_sweep_becomes_the_spec_it_means(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    spec = load_spec(SWEEP, base_dir=tmp_path)
    assert spec.command == ["python", "train.py"] and spec.pass_args  # W&B's default command passes ${args}
    assert spec.strategy == "auto" and spec.metric == "val_loss" and spec.direction == "minimize"
    assert spec.budget.max_trials == 12 and spec.fixed == {"epochs": 3} and spec.name == "my-sweep"
    assert spec.task is not None and spec.task.description == SWEEP["description"]
    assert spec.pruner is not None and (spec.pruner.type, spec.pruner.min_resource, spec.pruner.reduction_factor) == (
        "hyperband",
        2,
        2,
    )
    p = spec.space.params
    assert p["learning_rate"].type == "float" and p["learning_rate"].log and p["learning_rate"].low == 1e-5
    assert p["dropout"].type == "float" and not p["dropout"].log
    assert p["layers"].type == "int" and p["width"].type == "int" and p["width"].high == 256
    assert p["momentum"].type == "float" and p["momentum"].step == 0.1
    assert p["wd"].log and math.isclose(p["wd"].low, math.exp(-9.0)) and math.isclose(p["wd"].high, math.exp(-2.0))
    assert p["batch_size"].type == "categorical" and p["optimizer"].type == "categorical"
    assert load_spec({**SWEEP, "method": "random"}, base_dir=tmp_path).strategy == "random"


def test_a_sweep_command_is_read_with_its_macros(tmp_path: Path) -> None:
    def command(*items: str) -> Any:
        return load_spec({**SWEEP, "command": list(items)}, base_dir=tmp_path)

    spec = command("${env}", "${interpreter}", "${program}", "--fast", "${args}")
    assert spec.command == ["python", "train.py", "--fast"] and spec.pass_args
    spec = command("${env}", "python3", "${program}", "${args_json_file}")
    assert spec.command == ["python3", "train.py"] and not spec.pass_args  # params file: TUNESMITH_PARAMS
    spec = command("${env}", "${interpreter}", "${program}", "${args_no_hyphens}")  # a Hydra app's overrides
    assert spec.command == ["python", "train.py"] and spec.pass_args == "name=value" and spec.arg_style == "name=value"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "hyperopt"}, "spec: method: 'hyperopt' is not a W&B sweep method; use bayes, random or grid"),
        ({"metric": {"name": "val_loss", "goal": "minimize", "target": 0.1}}, "spec: metric.target: tunesmith stops"),
        ({"command": ["${interpreter}", "${program}", "${args_json}"]}, "command: ${args_json} has no"),
        ({"early_terminate": {"type": "envelope"}}, "spec: early_terminate: only type: hyperband is supported"),
        ({"parameters": {"lr": {"distribution": "normal", "mu": 0, "sigma": 1}}}, "distribution 'normal' is not"),
        ({"parameters": {"lr": {"values": [1, 2], "probabilities": [0.5, 0.5]}}}, "probabilities are not supported"),
        ({"parameters": {"opt": {"parameters": {"lr": {"value": 1}}}}}, "nested parameters are not supported"),
        ({"parameters": {"lr": 0.1}}, "spec: parameters.lr: expected {min, max}, {values: [...]} or {value: x}"),
    ],
)
def test_what_has_no_equivalent_is_one_line_with_the_fix(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec({**SWEEP, **change}, base_dir=tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_tunesmith_tune_runs_a_wandb_sweep_file(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    sweep = {
        "program": "train.py",
        "method": "bayes",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {
            "learning_rate": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
            "batch_size": {"values": [16, 32, 64]},
            "epochs": {"value": 2},
        },
        "run_cap": 3,
    }
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(sweep))
    res = run_cli("tune", str(tmp_path / "sweep.yaml"), "--dir", str(tmp_path / "s"), "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    assert json.loads(res.stdout.splitlines()[-1])["summary"]["trials"] == 3
    trials = Session.open(tmp_path / "s", readonly=True).store.trials()
    assert all(t.ok for t in trials)
    for t in trials:  # the flags reached argparse: the loss is the script's function of them
        expected = (math.log10(t.params["learning_rate"]) + 3) ** 2 + abs(t.params["batch_size"] - 32) / 100 + 0.5
        assert t.value is not None and math.isclose(t.value, expected)
