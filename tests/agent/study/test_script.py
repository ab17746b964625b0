"""What tunesmith reads of a training script: how it takes params, what it reports; a setup whose params could
never reach the script is refused before the study folder exists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.script import (
    flag_names,
    flag_switches,
    params_problem,
    scan_text,
    syntax_problem,
    undeclared_flags_problem,
    unread_params_warnings,
    unreported_warning,
)
from agent.study.session import Session
from agent.study.trial_request import trial_request
from sandbox.launch import build_argv
from tests.agent.hybrid.test_request import ARGPARSE_SCRIPT
from tests.conftest import run_cli


def test_the_scan_tells_flags_params_file_and_reported_metrics_apart() -> None:
    scan = scan_text(ARGPARSE_SCRIPT)
    assert scan.flags == {"lr", "weight_decay", "hidden", "optimizer"}
    assert scan.reported == {"train_loss", "val_acc"} and not scan.reads_params_file
    assert "step" not in scan.params and "val_acc" not in scan.params and "lr" in scan.params
    other = scan_text("import tunesmith\np = tunesmith.params()\ntunesmith.report(step=1, acc=p['lr'])\n")
    assert other.reads_params_file and other.reported == {"acc"} and other.params == ["lr"]


def _spec(tmp_path: Path, **extra: object) -> dict[str, object]:
    (tmp_path / "train.py").write_text(ARGPARSE_SCRIPT)
    return {
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "space": {"lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
        **extra,
    }


def test_flags_without_pass_args_are_refused_before_anything_runs(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path))
    problem = params_problem(spec)
    assert problem is not None and "--lr" in problem and "pass_args: true" in problem
    with pytest.raises(SpecError, match="add pass_args: true"):
        Session.create(spec, tmp_path / "study")
    assert not (tmp_path / "study").exists()
    assert params_problem(load_spec(_spec(tmp_path, pass_args=True))) is None


def test_the_scan_reads_every_flag_as_declared_and_knows_when_it_saw_them_all() -> None:
    text = (
        "import argparse\np = argparse.ArgumentParser()\n"
        'p.add_argument("-l", "--learning-rate", type=float)\np.add_argument("--depth", type=int)\n'
        "a = p.parse_args()\n"
    )
    scan = scan_text(text)
    assert scan.flags == {"learning_rate", "depth"} and scan.spelled["learning_rate"] == "learning-rate"
    assert scan.all_flags_seen
    assert not scan_text(text.replace("parse_args", "parse_known_args")).all_flags_seen  # unknown flags pass
    assert not scan_text(text + 'for k in ["wd"]:\n    p.add_argument(f"--{k}")\n').all_flags_seen
    assert not scan_text("x = 1\n").all_flags_seen


def test_pass_args_spells_flags_as_the_script_does_and_refuses_ones_it_lacks(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        'import argparse\np = argparse.ArgumentParser()\np.add_argument("--learning-rate")\n'
        'p.add_argument("--epochs")\np.parse_args()\n'
    )
    base = {
        "objective": {"metric": "val_acc", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "pass_args": True,
        "fixed": {"epochs": 3},
        "space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
    }
    spec = load_spec(base)
    assert flag_names(spec) == {"learning_rate": "learning-rate"} and undeclared_flags_problem(spec) is None
    assert flag_names(load_spec({**base, "pass_args": False})) == {}
    request = trial_request(spec, tmp_path, 0, {"learning_rate": 0.01}, seed=0, threads=1, flags=flag_names(spec))
    assert build_argv(request)[-4:] == ["--epochs", "3", "--learning-rate", "0.01"]
    bigger = load_spec({**base, "space": {**base["space"], "momentum": {"type": "float", "low": 0, "high": 1}}})  # type: ignore[dict-item]
    problem = undeclared_flags_problem(bigger)
    assert problem == (
        "train.py has no flag for --momentum (it declares --epochs, --learning-rate); with pass_args: true its parser "
        "would reject it in every trial: add it to the script's parser, or rename the param in the spec to one of "
        "its flags"
    )
    with pytest.raises(SpecError, match="has no flag for --momentum"):
        Session.create(bigger, tmp_path / "study")
    assert not (tmp_path / "study").exists()


def test_a_param_whose_name_the_script_never_uses_is_warned_about(tmp_path: Path) -> None:
    script = "import tunesmith\np = tunesmith.params()\nlr = p.get('lr', 0.1)\ntunesmith.report(loss=lr * p['depth'])\n"
    (tmp_path / "train.py").write_text(script)
    base = {
        "objective": {"metric": "loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "space": {
            "learning_rate": {"type": "float", "low": 1e-4, "high": 0.1, "log": True},
            "depth": {"type": "int", "low": 1, "high": 4},
        },
    }
    assert unread_params_warnings(load_spec(base)) == [
        "space.learning_rate: the name does not appear in train.py (it reads 'lr'), so the param may never reach "
        "it; rename the param or read it in the script"
    ]
    (tmp_path / "spec.yaml").write_text(json.dumps({**base, "budget": {"max_trials": 1}}))
    res = run_cli("tune", str(tmp_path / "spec.yaml"), "--dir", str(tmp_path / "s"))
    assert res.returncode == 0 and "warning: space.learning_rate: the name does not appear in train.py" in res.stderr
    # used wholesale, or read under a dashed flag: nothing to say
    (tmp_path / "train.py").write_text(script + "model = dict(**p)\n")
    assert unread_params_warnings(load_spec(base)) == []
    (tmp_path / "train.py").write_text(script.replace("'lr'", "'learning-rate'"))
    assert unread_params_warnings(load_spec(base)) == []
    # handed on to a local module that reads it, or no param named at all (the script hands them on)
    (tmp_path / "train.py").write_text(script + "import model\nmodel.build(p)\n")
    (tmp_path / "model.py").write_text("def build(p):\n    return p['learning_rate']\n")
    assert unread_params_warnings(load_spec(base)) == []
    (tmp_path / "model.py").unlink()
    (tmp_path / "train.py").write_text(
        "import tunesmith, model\ntunesmith.report(loss=model.run(tunesmith.params()))\n"
    )
    assert unread_params_warnings(load_spec(base)) == []


def test_a_script_that_does_not_compile_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import tunesmith\nif tunesmith.params()['a'] > 0.5\n    pass\n")
    data = {
        "objective": {"metric": "loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "space": {"a": {"low": 0.0, "high": 1.0}},
    }
    problem = syntax_problem(load_spec(data))
    assert (
        problem
        == "train.py line 2: SyntaxError: expected ':'; fix the script (every trial would fail before it starts)"
    )
    with pytest.raises(SpecError, match="line 2: SyntaxError"):
        Session.create(load_spec(data), tmp_path / "study")
    assert not (tmp_path / "study").exists()
    assert syntax_problem(load_spec({**data, "command": ["python3.99", "train.py"]})) is None  # another interpreter
    (tmp_path / "train.py").write_text("import tunesmith\ntunesmith.report(loss=tunesmith.params()['a'])\n")
    assert syntax_problem(load_spec(data)) is None


SWITCHES = """
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--use-amp", action="store_true")
p.add_argument("--no-shuffle", dest="shuffle", action="store_false")
p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True)
a = p.parse_args()
print("TUNESMITH_REPORT " + json.dumps({"score": a.lr + a.use_amp * 1 + a.shuffle * 10 + a.augment * 100}))
"""


def test_flags_that_take_no_value_are_given_or_left_out_by_the_params_value(tmp_path: Path) -> None:
    scan = scan_text(SWITCHES)
    assert scan.switches == {"use_amp": "store_true", "no_shuffle": "store_false", "augment": "optional"}
    nested = scan_text('p.add_argument("--amp", help="use AMP (fp16)", action="store_true")\np.parse_args()\n')
    assert nested.switches == {"amp": "store_true"} and nested.all_flags_seen  # parens inside the call
    (tmp_path / "train.py").write_text(SWITCHES)
    data = {
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "pass_args": True,
        "space": {
            "lr": {"low": 0.0, "high": 0.5},
            "use_amp": {"values": [True, False]},
            "no_shuffle": {"values": [True, False]},
            "augment": {"values": [True, False]},
        },
        "budget": {"max_trials": 6},
        "seed": 3,
    }
    spec = load_spec(data)
    assert flag_switches(spec) == scan.switches and flag_names(spec) == {
        "use_amp": "use-amp",
        "no_shuffle": "no-shuffle",
    }

    def argv(**params: object) -> list[str]:
        request = trial_request(
            spec, tmp_path, 0, params, seed=0, threads=1, flags=flag_names(spec), switches=flag_switches(spec)
        )
        return build_argv(request)[2:]

    assert argv(lr=0.1, use_amp=True, no_shuffle=True, augment=True) == [
        "--lr", "0.1", "--use-amp", "--no-shuffle", "--augment",
    ]  # fmt: skip
    assert argv(lr=0.1, use_amp=False, no_shuffle=False, augment=False) == ["--lr", "0.1", "--no-augment"]
    assert argv(use_amp="true", augment="False") == ["--use-amp", "--no-augment"]
    # and through a real study: each trial's score is the script's function of its params
    session = Session.create(spec, tmp_path / "study")
    session.run()
    trials = session.store.trials()
    assert len(trials) == 6 and all(t.ok for t in trials)
    for t in trials:
        p = t.params
        expected = p["lr"] + int(p["use_amp"]) + 10 * int(not p["no_shuffle"]) + 100 * int(p["augment"])
        assert t.value is not None and abs(t.value - expected) < 1e-9


def test_a_script_that_never_reports_to_tunesmith_is_warned_about_with_its_logger(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import wandb\nwandb.init(mode='disabled')\nwandb.log({'val_loss': 1.0})\n")
    data = {
        "objective": {"metric": "val_loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "space": {"lr": {"low": 0.0, "high": 1.0}},
    }
    assert unreported_warning(load_spec(data)) == (
        "train.py never reports to tunesmith (no tunesmith.report(...) or TUNESMITH_REPORT line), so every trial "
        "would end without val_loss: add tunesmith.report(val_loss=...); it logs with wandb.log: add the line beside it"
    )
    (tmp_path / "metrics.py").write_text("import tunesmith\ndef log(**m):\n    tunesmith.report(**m)\n")
    assert unreported_warning(load_spec(data)) is None  # a local module reports for it
    (tmp_path / "metrics.py").unlink()
    (tmp_path / "train.py").write_text("print('TUNESMITH_REPORT {\"val_loss\": 1}')\n")
    assert unreported_warning(load_spec(data)) is None
    (tmp_path / "train.py").write_text(
        "class M(L.LightningModule):\n    def validation_step(self, b, i):\n        self.log('val_loss', 1.0)\n"
    )
    warning = unreported_warning(load_spec(data))
    assert warning is not None and warning.endswith(
        "it logs with Lightning's self.log: add callbacks=[TunesmithCallback()] to its Trainer (from "
        "tunesmith.lightning import TunesmithCallback)"
    )
    (tmp_path / "train.py").write_text("from transformers import Trainer\nTrainer(model=m).train()\n")
    warning = unreported_warning(load_spec(data))
    assert warning is not None and warning.endswith("(from tunesmith.huggingface import TunesmithCallback)")
    (tmp_path / "train.py").write_text("import keras\nmodel = keras.Sequential([])\nmodel.fit(x, y, epochs=3)\n")
    warning = unreported_warning(load_spec(data))
    assert warning is not None and warning.endswith(
        "it trains with Keras: add callbacks=[TunesmithCallback()] to model.fit (from tunesmith.keras import "
        "TunesmithCallback)"
    )
    (tmp_path / "train.py").write_text("from sklearn.svm import SVC\nSVC().fit(x, y)\n")
    warning = unreported_warning(load_spec(data))
    assert warning is not None and warning.endswith("add tunesmith.report(val_loss=...)")  # no logger to name


def flag_spec(tmp_path: Path, script: str, more: dict[str, Any], *, trials: int, seed: int) -> dict[str, Any]:
    """A pass_args spec for ``script`` (written as train.py) that reports ``score`` = lr + layers + 10 * bn
    (+ what ``more``'s params add)."""
    (tmp_path / "train.py").write_text(script)
    return {
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "pass_args": True,
        "space": {
            "learning_rate": {"low": 0.0, "high": 0.5},
            "num_layers": {"low": 1, "high": 4},
            "use_bn": {"values": [True, False]},
            **more,
        },
        "budget": {"max_trials": trials},
        "seed": seed,
    }


def run_and_check(spec: Any, tmp_path: Path, n: int, extra: Callable[[dict[str, Any]], float]) -> None:
    """Run ``spec``: every trial completes with the score its params give, so each param reached the script."""
    session = Session.create(spec, tmp_path / "study")
    session.run()
    trials = session.store.trials()
    assert len(trials) == n and all(t.ok for t in trials)
    for t in trials:
        p = t.params
        expected = p["learning_rate"] + p["num_layers"] + 10 * int(p["use_bn"]) + extra(p)
        assert t.value == pytest.approx(expected)


CLICK_SCRIPT = """
import click
import tunesmith


@click.command()
@click.option("--learning-rate", type=float, default=0.1)
@click.option("-n", "--num-layers", type=int, default=2)
@click.option("--use-bn/--no-use-bn", default=False)
@click.option("--fast", is_flag=True)
def main(learning_rate, num_layers, use_bn, fast):
    tunesmith.report(score=learning_rate + num_layers + 10 * use_bn + 100 * fast)


if __name__ == "__main__":
    main()
"""


def test_click_options_are_spelled_switched_and_checked_as_argparse_flags_are(tmp_path: Path) -> None:
    scan = scan_text(CLICK_SCRIPT)
    assert scan.flags == {"learning_rate", "num_layers", "use_bn", "fast"} and scan.all_flags_seen
    assert scan.switches == {"use_bn": "optional", "fast": "store_true"}
    optparse = scan_text('p = optparse.OptionParser()\np.add_option("--max-depth", type="int")\np.parse_args()\n')
    assert optparse.spelled == {"max_depth": "max-depth"}
    data = flag_spec(tmp_path, CLICK_SCRIPT, {"fast": {"values": [True, False]}}, trials=5, seed=1)
    spec = load_spec(data)
    assert undeclared_flags_problem(spec) is None
    run_and_check(spec, tmp_path, 5, lambda p: 100 * int(p["fast"]))  # click took every trial's flags
    lacking = load_spec({**data, "space": {**data["space"], "dropout": {"low": 0.0, "high": 0.5}}})
    problem = undeclared_flags_problem(lacking)
    assert problem is not None and problem.startswith("train.py has no flag for --dropout (it declares --fast, ")


TYPER_SCRIPT = """
import typer
import tunesmith


def main(learning_rate: float = 0.1, num_layers: int = 2, use_bn: bool = False) -> None:
    tunesmith.report(score=learning_rate + num_layers + 10 * use_bn)


if __name__ == "__main__":
    typer.run(main)
"""


def test_a_typer_app_gets_dashed_options_and_bool_switches(tmp_path: Path) -> None:
    spec = load_spec(flag_spec(tmp_path, TYPER_SCRIPT, {}, trials=4, seed=2))
    assert flag_names(spec) == {"learning_rate": "learning-rate", "num_layers": "num-layers", "use_bn": "use-bn"}
    assert flag_switches(spec) == {"use_bn": "optional"}
    run_and_check(spec, tmp_path, 4, lambda p: 0)


def test_a_rich_error_panel_gives_its_message_as_the_reason() -> None:
    from agent.study.outcome import _last_line

    tail = (
        "Usage: train.py [OPTIONS]\nTry 'train.py --help' for help.\n╭─ Error ─────────────╮\n"
        "│ No such option: --learning_rate Did you mean --learning-rate?   │\n╰─────────────────────╯\n"
    )
    assert _last_line(tail) == "No such option: --learning_rate Did you mean --learning-rate?"


def test_an_argparse_type_bool_flag_gets_a_false_that_it_reads_as_false(tmp_path: Path) -> None:
    """``type=bool`` turns any non-empty string into True ("false" too): false must go as an empty string."""
    script = """
import argparse
import tunesmith

p = argparse.ArgumentParser()
p.add_argument("--learning_rate", type=float, default=0.1)
p.add_argument("--num_layers", type=int, default=2)
p.add_argument("--use_bn", type=bool, default=True)
a = p.parse_args()
tunesmith.report(score=a.learning_rate + a.num_layers + 10 * a.use_bn)
"""
    spec = load_spec(flag_spec(tmp_path, script, {}, trials=6, seed=4))
    assert flag_switches(spec) == {"use_bn": "type_bool"}
    run_and_check(spec, tmp_path, 6, lambda p: 0)
    assert {t.params["use_bn"] for t in Session.open(tmp_path / "study").trials()} == {True, False}
