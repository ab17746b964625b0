"""Hydra apps: ``pass_args: name=value`` passes params as overrides, checked against the app's config before
trial 1; a failing override stops the study with Hydra's own line and the fix. Run with real Hydra."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.core.records import FailureKind, Trial, TrialState
from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.doctor import SetupDoctor
from agent.study.hydra_app import hydra_keys_problem
from agent.study.outcome import _last_line
from agent.study.session import Session
from sandbox.base import TrialRequest
from sandbox.launch import build_argv
from tests.conftest import run_cli

APP = """
import hydra
import tunesmith


@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg):
    loss = (cfg.optimizer.lr - 0.03) ** 2 + 0.01 * cfg.depth + (0.0 if cfg.name == "good" else 0.05)
    tunesmith.report(loss=loss, lr_seen=cfg.optimizer.lr, depth_seen=cfg.depth)


if __name__ == "__main__":
    main()
"""
CONFIG = {"optimizer": {"lr": 0.1, "momentum": 0.9}, "depth": 2, "name": "base"}
SPACE = {
    "optimizer.lr": {"type": "float", "low": 0.001, "high": 1.0, "log": True},
    "depth": {"type": "int", "low": 1, "high": 8},
    "name": {"type": "categorical", "choices": ["good", "bad"]},
}


def app(tmp_path: Path, config: dict[str, Any] = CONFIG, **extra: Any) -> Path:
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "conf" / "config.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "train.py").write_text(APP)
    spec = {
        "objective": {"metric": "loss", "direction": "minimize"},
        "command": ["python", "train.py"],
        "pass_args": "name=value",
        "space": SPACE,
        "budget": {"max_trials": 4},
        "strategy": "random",
        "seed": 0,
        **extra,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "spec.yaml"


def test_pass_args_takes_a_style_by_name_and_refuses_others_with_the_choices() -> None:
    base = {"objective": {"metric": "l", "direction": "minimize"}, "command": ["python", "t.py"], "space": SPACE}
    assert load_spec({**base, "pass_args": "hydra"}).arg_style == "name=value"
    assert load_spec({**base, "pass_args": "flags"}).arg_style == "flags"
    assert load_spec({**base, "pass_args": False}).arg_style is None
    spec = load_spec({**base, "pass_args": "name=value"})
    assert load_spec(spec.to_dict()) == spec  # survives the study folder's round trip
    with pytest.raises(SpecError, match=r"pass_args: 'argv' is not a way to pass params; use true .* name=value"):
        load_spec({**base, "pass_args": "argv"})


def test_overrides_are_name_value_words_after_the_command(tmp_path: Path) -> None:
    request = TrialRequest(
        "t",
        {"optimizer.lr": 0.01, "depth": 3, "name": "a b", "+extra": True, "layers": [1, 2], "none": None},
        str(tmp_path),
        str(tmp_path),
        command=["python", "train.py"],
        pass_args=True,
        arg_style="name=value",
        hydra_app=True,
    )
    assert build_argv(request) == [
        "python",
        "train.py",
        "optimizer.lr=0.01",
        "depth=3",
        "name=a b",
        "+extra=true",
        "layers=[1, 2]",
        "none=null",
        f"hydra.run.dir={tmp_path}/hydra",  # Hydra's outputs in the trial's folder (writable under strict)
    ]
    kw: dict[str, Any] = {"command": ["p"], "pass_args": True, "arg_style": "name=value", "hydra_app": True}
    spaced = TrialRequest("t", {"x": 1}, "/tmp/a b/it's", "/tmp", **kw)
    assert build_argv(spaced) == ["p", "x=1", "hydra.run.dir='/tmp/a b/it\\'s/hydra'"]
    own = TrialRequest("t", {"hydra.run.dir": "out"}, "/t", "/t", **kw)
    assert build_argv(own) == ["p", "hydra.run.dir=out"]  # the spec's own choice wins
    plain = TrialRequest("t", {"x": 1}, "/t", "/t", **{**kw, "hydra_app": False})
    assert build_argv(plain) == ["p", "x=1"]  # name=value to a script that is not a Hydra app: nothing added


def test_a_key_the_config_lacks_is_refused_before_trial_1(tmp_path: Path) -> None:
    spec = load_spec(yaml.safe_load(app(tmp_path).read_text()), base_dir=tmp_path)
    assert hydra_keys_problem(spec) is None
    lacking = load_spec({**spec.to_dict(), "space": {**SPACE, "dropout": {"type": "float", "low": 0, "high": 1}}})
    problem = hydra_keys_problem(lacking)
    assert problem is not None and problem.startswith(
        "conf/config.yaml has no key dropout (it has depth, name, optimizer.lr, optimizer.momentum); with "
        "pass_args: name=value Hydra would reject it"
    )
    assert "name the param +dropout to add it" in problem
    added = load_spec({**spec.to_dict(), "space": {**SPACE, "+dropout": {"type": "float", "low": 0, "high": 1}}})
    assert hydra_keys_problem(added) is None  # Hydra's own syntax to add a key
    flags = load_spec({**lacking.to_dict(), "pass_args": True})
    assert hydra_keys_problem(flags) is None


def test_a_composed_config_is_judged_when_hydra_is_importable_and_left_to_the_doctor_when_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("hydra")
    spec = load_spec(yaml.safe_load(app(tmp_path).read_text()), base_dir=tmp_path)
    (tmp_path / "conf" / "config.yaml").write_text(yaml.safe_dump({"defaults": ["_self_"], **CONFIG}))
    lacking = load_spec({**spec.to_dict(), "space": {**SPACE, "dropout": {"type": "float", "low": 0, "high": 1}}})
    problem = hydra_keys_problem(lacking)
    assert problem is not None and problem.startswith("the config conf/config.yaml composes has no key dropout")
    assert hydra_keys_problem(spec) is None
    monkeypatch.setitem(sys.modules, "hydra", None)  # Hydra not importable by tunesmith: not judged
    assert hydra_keys_problem(lacking) is None


def group_app(tmp_path: Path, choices: list[str], **space: Any) -> Path:
    """A Hydra app whose config composes an ``optimizer`` group (adam, sgd) and whose spec tunes the choice."""
    (tmp_path / "conf" / "optimizer").mkdir(parents=True)
    (tmp_path / "conf" / "optimizer" / "adam.yaml").write_text("lr: 0.001\nmomentum: 0.0\n")
    (tmp_path / "conf" / "optimizer" / "sgd.yaml").write_text("lr: 0.1\nmomentum: 0.9\n")
    config = {"defaults": [{"optimizer": "adam"}, "_self_"], "depth": 2, "name": "good"}
    tuned = {"optimizer": {"type": "categorical", "choices": choices}, "depth": SPACE["depth"], **space}
    return app(tmp_path, config, space=tuned)


def test_a_group_choice_is_an_override_and_a_choice_without_its_option_file_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("hydra")
    spec = load_spec(yaml.safe_load(group_app(tmp_path, ["adam", "sgd"]).read_text()), base_dir=tmp_path)
    assert hydra_keys_problem(spec) is None  # optimizer is a group of the defaults list, depth a key
    nested = load_spec({**spec.to_dict(), "space": {**spec.to_dict()["space"], "optimizer.lr": SPACE["optimizer.lr"]}})
    assert hydra_keys_problem(nested) is None  # a key the group's option puts into the composed config
    odd = load_spec({**spec.to_dict(), "space": {"optimizer": {"type": "categorical", "choices": ["sgd", "rmsprop"]}}})
    assert hydra_keys_problem(odd) == (
        "optimizer: rmsprop is not an option of the config group optimizer (conf/optimizer has adam, sgd); Hydra "
        "would fail each trial that picks it: add the option file or remove the choice"
    )


def test_hydras_failure_line_is_the_reason_and_the_doctor_adds_the_fix(tmp_path: Path) -> None:
    tail = (
        "Could not override 'dropout'.\nTo append to your config use +dropout=0.2345\nKey 'dropout' is not in "
        "struct\n    full_key: dropout\n    object_type=dict\n\nSet the environment variable HYDRA_FULL_ERROR=1 "
        "for a complete stack trace.\n"
    )
    assert _last_line(tail) == "Could not override 'dropout'."
    crash = "Error executing job with overrides: ['lr=0.1']\nTraceback ...\nValueError: boom\n\nSet the environment"
    assert _last_line(crash + " variable HYDRA_FULL_ERROR=1 for a complete stack trace.") == "ValueError: boom"
    reason = "exited with code 1: Could not override 'dropout'."
    failed = [
        Trial(number=i, params={}, state=TrialState.FAILED, failure=FailureKind.CRASH, reason=reason) for i in range(3)
    ]
    doctor = SetupDoctor(after=3, metric="loss", curve=lambda n: [], study_dir=tmp_path)
    finding = doctor.check(failed[-1], failed)
    assert finding is not None and "the config must have the key; name the param +KEY" in finding.message


def test_a_hydra_app_is_tuned_through_its_overrides(tmp_path: Path) -> None:
    pytest.importorskip("hydra")
    res = run_cli("tune", str(app(tmp_path)), "--dir", str(tmp_path / "s"), "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    trials = Session.open(tmp_path / "s", readonly=True).trials()
    assert len(trials) == 4 and all(t.state is TrialState.COMPLETE for t in trials)
    assert not (tmp_path / "outputs").exists()  # Hydra wrote into each trial's folder instead
    overrides = yaml.safe_load((tmp_path / "s" / "trials" / "0000" / "hydra" / ".hydra" / "overrides.yaml").read_text())
    assert overrides[:3] == [f"{k}={v}" for k, v in trials[0].params.items()]
    for t in trials:  # each trial's params reached the app's config, nested key included
        p, m = t.params, t.metrics
        assert m["lr_seen"] == pytest.approx(p["optimizer.lr"]) and m["depth_seen"] == p["depth"]
        expected = (p["optimizer.lr"] - 0.03) ** 2 + 0.01 * p["depth"] + (0.0 if p["name"] == "good" else 0.05)
        assert t.value == pytest.approx(expected)


def test_a_composed_app_is_tuned_through_its_group_and_a_missing_key_is_refused_before_trial_1(
    tmp_path: Path,
) -> None:
    pytest.importorskip("hydra")
    res = run_cli("tune", str(group_app(tmp_path, ["adam", "sgd"])), "--dir", str(tmp_path / "s"), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    trials = Session.open(tmp_path / "s", readonly=True).trials()
    assert len(trials) == 4 and all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:  # the group choice selected the option file's values
        assert t.metrics["lr_seen"] == (0.001 if t.params["optimizer"] == "adam" else 0.1)
    space = {"dropout": {"type": "float", "low": 0.0, "high": 0.5}}
    refused = run_cli("tune", str(group_app(tmp_path / "r", ["adam"], **space)), "--dir", str(tmp_path / "r" / "s"))
    assert refused.returncode != 0
    assert "the config conf/config.yaml composes has no key dropout" in refused.stdout + refused.stderr
    assert not (tmp_path / "r" / "s").exists()  # refused before the study folder exists
