"""``pass_args: --name=value``: Python-literal arguments, as nanoGPT's configurator.py and python-fire read them
(``ast.literal_eval``: True, not true); a script that reads them but gets flags or nothing is refused first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import load_spec
from agent.errors import SpecError
from agent.study.script import params_problem
from agent.study.session import Session
from sandbox.base import TrialRequest
from sandbox.launch import build_argv

# nanoGPT's configurator (its logic, abridged): --key=value overrides a global of the same type
CONFIGURATOR = """
import sys
from ast import literal_eval
for arg in sys.argv[1:]:
    assert arg.startswith('--') and '=' in arg, arg
    key, val = arg[2:].split('=', 1)
    assert key in globals(), f"Unknown config key: {key}"
    try:
        attempt = literal_eval(val)
    except (SyntaxError, ValueError):
        attempt = val
    assert type(attempt) == type(globals()[key]), f"{key}: {attempt!r} is not a {type(globals()[key]).__name__}"
    globals()[key] = attempt
"""
TRAIN = """
import tunesmith
learning_rate = 6e-4
n_layer = 4
bias = False
dataset = "shakespeare"
exec(open("configurator.py").read())
tunesmith.report(score=learning_rate + n_layer + 10 * bias + 100 * (dataset == "owt"))
"""


def spec_data(tmp_path: Path, **over: Any) -> dict[str, Any]:
    (tmp_path / "configurator.py").write_text(CONFIGURATOR)
    (tmp_path / "train.py").write_text(TRAIN)
    return {
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "workdir": str(tmp_path),
        "pass_args": "--name=value",
        "space": {
            "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
            "n_layer": {"type": "int", "low": 2, "high": 8},
            "bias": {"values": [True, False]},
            "dataset": {"values": ["shakespeare", "owt"]},
        },
        "budget": {"max_trials": 6},
        "seed": 5,
        **over,
    }


def test_python_literals_reach_a_nanogpt_style_configurator(tmp_path: Path) -> None:
    session = Session.create(load_spec(spec_data(tmp_path)), tmp_path / "study")
    session.run()
    trials = session.store.trials()
    assert len(trials) == 6 and all(t.ok for t in trials)  # its type checks passed: True, 4, 0.001
    for t in trials:
        p = t.params
        expected = p["learning_rate"] + p["n_layer"] + 10 * p["bias"] + 100 * (p["dataset"] == "owt")
        assert t.value == pytest.approx(expected)


def test_such_a_script_without_the_style_is_refused_before_trial_1(tmp_path: Path) -> None:
    for pass_args, how in ((False, "the params file only"), (True, "--name value flags")):
        spec = load_spec(spec_data(tmp_path, pass_args=pass_args))
        assert params_problem(spec) == (
            f"train.py reads --name=value arguments as Python literals (configurator.py), but the spec passes "
            f"params as {how}; set pass_args: --name=value in the spec"
        )
        with pytest.raises(SpecError, match="set pass_args: --name=value"):
            Session.create(spec, tmp_path / f"s-{pass_args}")
    fire = "import fire\n\ndef main(lr=0.1, amp=False):\n    print(lr, amp)\n\nfire.Fire(main)\n"
    (tmp_path / "train.py").write_text(fire)
    flags = load_spec({**spec_data(tmp_path, pass_args=True), "space": {"bias": {"values": [True, False]}}})
    (tmp_path / "train.py").write_text(fire)
    problem = params_problem(flags)
    assert problem is not None and "--bias false is the string 'false', which is true" in problem


def test_values_are_written_as_python_writes_them(tmp_path: Path) -> None:
    params = {"lr": 0.001, "n": 4, "on": True, "off": False, "none": None, "name": "owt", "sizes": [1, 2]}
    request = TrialRequest(
        "t", params, str(tmp_path), str(tmp_path), command=["python", "t.py"], pass_args=True, arg_style="--name=value"
    )
    assert build_argv(request)[2:] == [
        "--lr=0.001", "--n=4", "--on=True", "--off=False", "--none=None", "--name=owt", "--sizes=[1, 2]",
    ]  # fmt: skip
    assert load_spec({**spec_data(tmp_path), "pass_args": "--name=value"}).arg_style == "--name=value"


FIRE_APP = """
import fire
import tunesmith


def main(learning_rate=6e-4, n_layer=4, bias=False, dataset="shakespeare"):
    assert isinstance(bias, bool) and isinstance(n_layer, int) and isinstance(dataset, str), (bias, n_layer, dataset)
    tunesmith.report(score=learning_rate + n_layer + 10 * bias + 100 * (dataset == "owt"))


if __name__ == "__main__":
    fire.Fire(main)
"""


def test_a_python_fire_script_gets_its_params_as_literals(tmp_path: Path) -> None:
    pytest.importorskip("fire")
    data = spec_data(tmp_path)
    (tmp_path / "train.py").write_text(FIRE_APP)
    session = Session.create(load_spec(data), tmp_path / "study")
    session.run()
    trials = session.store.trials()
    assert len(trials) == 6 and all(t.ok for t in trials), [t.reason for t in trials]
    for t in trials:  # fire parsed True/False, ints and strings as Python would: every value reached main()
        p = t.params
        expected = p["learning_rate"] + p["n_layer"] + 10 * p["bias"] + 100 * (p["dataset"] == "owt")
        assert t.value == pytest.approx(expected)
    assert {t.params["bias"] for t in trials} == {True, False}
