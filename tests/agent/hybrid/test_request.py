"""A request in plain words becomes a validated spec; essentials are asked back or fail precisely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.errors import SpecError
from agent.hybrid.request import draft_spec
from agent.llm.base import Completion
from agent.llm.scripted import ScriptedClient
from tests.agent.llm.helpers import call

ROOT = Path(__file__).resolve().parents[3]
REQUEST = "tune lr, weight decay and batch size of examples/torch-mlp/train.py for val_acc, 30 trials"


def draft(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "script": "examples/torch-mlp/train.py",
        "metric": "val_acc",
        "direction": "maximize",
        "max_trials": 30,
        "params": [
            {"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True, "default": 0.001},
            {"name": "weight_decay", "type": "float", "low": 1e-6, "high": 0.1, "log": True, "default": 1e-4},
            {"name": "batch_size", "type": "categorical", "choices": [16, 32, 64, 128], "default": 64},
        ],
        "notes": "log scales for lr and weight decay",
    }
    data.update(over)
    return data


def reply(**over: Any) -> Completion:
    return Completion(tool_calls=[call("submit_spec", draft(**over))])


def test_the_readme_request_becomes_a_spec() -> None:
    client = ScriptedClient([reply()])
    out = draft_spec(REQUEST, client, cwd=ROOT, llm={"model": "m", "base_url": "http://x/v1"})
    spec = out.spec
    assert spec.command == ["python", "train.py"] and spec.workdir == str(ROOT / "examples/torch-mlp")
    assert spec.metric == "val_acc" and spec.direction == "maximize" and spec.budget.max_trials == 30
    assert spec.space.names == ["lr", "weight_decay", "batch_size"] and spec.space.params["lr"].log
    assert spec.default == {"lr": 0.001, "weight_decay": 1e-4, "batch_size": 64}
    assert spec.llm is not None and spec.llm.model == "m" and out.warnings == []
    messages, tools = client.requests[0]
    prompt = messages[1].content or ""
    assert "«untrusted script" in prompt and "tunesmith.report(step=epoch" in prompt
    assert '["val_acc","val_loss"]' in prompt  # metrics the script reports
    assert tools[0].name == "submit_spec"


def test_the_model_cannot_choose_a_path_the_request_did_not_name() -> None:
    out = draft_spec(REQUEST, ScriptedClient([reply(script="/etc/passwd")]), cwd=ROOT)
    assert out.spec.workdir == str(ROOT / "examples/torch-mlp")


def test_missing_essentials_fail_precisely_without_a_terminal() -> None:
    bad = reply(metric=None, direction=None, max_trials=None)
    with pytest.raises(SpecError) as exc:
        draft_spec("tune lr and weight decay of examples/torch-mlp/train.py", ScriptedClient([bad]), cwd=ROOT)
    msg = str(exc.value)
    assert "which metric to optimise" in msg and "val_acc, val_loss" in msg
    assert "how many trials" in msg and "--trials N" in msg and "\n" not in msg
    with pytest.raises(SpecError, match="names no training script"):
        draft_spec("tune lr for val_acc, 5 trials", ScriptedClient([reply(script=None)]), cwd=ROOT)


def test_missing_essentials_are_asked_in_a_terminal() -> None:
    bad = reply(metric=None, direction=None, max_trials=None)
    answers = iter(["val_loss", "min", "12"])
    asked: list[str] = []

    def ask(q: str) -> str:
        asked.append(q)
        return next(answers)

    out = draft_spec("tune lr of examples/torch-mlp/train.py", ScriptedClient([bad]), cwd=ROOT, ask=ask)
    assert out.spec.metric == "val_loss" and out.spec.direction == "minimize" and out.spec.budget.max_trials == 12
    assert len(asked) == 3 and "val_acc, val_loss" in asked[0]


def test_trials_flag_answers_the_budget() -> None:
    out = draft_spec(
        "tune lr of examples/torch-mlp/train.py for val_acc",
        ScriptedClient([reply(max_trials=None)]),
        cwd=ROOT,
        trials=7,
    )
    assert out.spec.budget.max_trials == 7


def test_the_budget_is_the_one_the_request_states_never_one_the_model_made_up() -> None:
    out = draft_spec(REQUEST.replace("30 trials", "6 trials"), ScriptedClient([reply(max_trials=30)]), cwd=ROOT)
    assert out.spec.budget.max_trials == 6
    out = draft_spec(REQUEST.replace("30 trials", "a budget of 12"), ScriptedClient([reply(max_trials=12)]), cwd=ROOT)
    assert out.spec.budget.max_trials == 12
    vague = "tune lr of examples/torch-mlp/train.py for val_acc"
    with pytest.raises(SpecError, match="how many trials"):
        draft_spec(vague, ScriptedClient([reply(max_trials=50)]), cwd=ROOT)
    out = draft_spec(vague, ScriptedClient([reply(max_trials=50)]), cwd=ROOT, ask=lambda q: "9")
    assert out.spec.budget.max_trials == 9


def test_an_invalid_draft_goes_back_to_the_model() -> None:
    broken = reply(params=[{"name": "lr", "type": "float", "low": 0.1, "high": 0.001, "log": True}])
    client = ScriptedClient([broken, Completion(tool_calls=[call("submit_spec", "{not json")]), reply()])
    out = draft_spec(REQUEST, client, cwd=ROOT)
    assert out.spec.space.names == ["lr", "weight_decay", "batch_size"]
    second = client.requests[1][0][1].content or ""
    assert "could not be used" in second and "must be < high" in second
    third = client.requests[2][0][1].content or ""
    assert "not valid JSON" in third


def test_a_model_that_never_drafts_a_valid_spec_fails_with_a_fix() -> None:
    with pytest.raises(SpecError, match=r"could not draft a valid spec.*write a spec file"):
        draft_spec(REQUEST, ScriptedClient([], exhausted=Completion(text="I cannot help")), cwd=ROOT)


def test_a_default_outside_the_space_is_dropped_with_a_warning() -> None:
    params = draft()["params"]
    params[0] = {**params[0], "default": 5.0}
    out = draft_spec(REQUEST, ScriptedClient([reply(params=params)]), cwd=ROOT)
    assert out.spec.default is None and "dropped the drafted default" in out.warnings[0]


def test_names_the_script_does_not_read_are_flagged() -> None:
    params = [*draft()["params"], {"name": "warmup_ratio", "type": "float", "low": 0.0, "high": 0.3}]
    out = draft_spec(REQUEST, ScriptedClient([reply(params=params)]), cwd=ROOT)
    assert any("warmup_ratio not found" in w for w in out.warnings)


ARGPARSE_SCRIPT = """
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.01)
p.add_argument("--weight_decay", type=float, default=0.0)
p.add_argument("--hidden", type=int, default=64)
p.add_argument("--optimizer", default="adam")
a = p.parse_args()
for step in range(3):
    print("TUNESMITH_REPORT", json.dumps({"step": step, "train_loss": 1.0 / (step + 1), "val_acc": a.lr}))
"""


def _argparse_draft(tmp_path: Path, **over: Any) -> Any:
    (tmp_path / "torch_digits.py").write_text(ARGPARSE_SCRIPT)
    request = (
        "tune the learning rate, weight decay and hidden size of torch_digits.py for val_acc (maximize), 12 trials"
    )
    params = [
        {"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True},
        {"name": "weight_decay", "type": "float", "low": 1e-6, "high": 0.1, "log": True},
        {"name": "hidden", "type": "int", "low": 16, "high": 256},
    ]
    client = ScriptedClient([reply(script="torch_digits.py", max_trials=12, params=params, **over)])
    return draft_spec(request, client, cwd=tmp_path), client, request


def test_an_argparse_script_gets_its_params_as_flags_even_when_the_draft_forgets(tmp_path: Path) -> None:
    out, client, request = _argparse_draft(tmp_path)  # the scripted draft says nothing about pass_mode
    assert out.spec.pass_args is True
    assert any("--lr" in w and "pass_args: true" in w for w in out.warnings)
    assert out.spec.task is not None and out.spec.task.description == request  # the user's words
    prompt = client.requests[0][0][1].content or ""
    # reports are metrics, not parameters: the scan lists flags and TUNESMITH_REPORT keys apart
    assert 'Metrics it reports: ["train_loss","val_acc"]' in prompt
    assert '"step"' not in prompt.split("Parameter names it appears to read:")[1].split("\n")[0]
    assert "does not read the params file" in prompt


def test_a_drafted_param_the_scripts_parser_lacks_goes_back_to_the_model(tmp_path: Path) -> None:
    (tmp_path / "torch_digits.py").write_text(ARGPARSE_SCRIPT)
    good = [{"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True}]
    bad = [*good, {"name": "momentum", "type": "float", "low": 0.0, "high": 0.99}]
    replies = [reply(script="torch_digits.py", max_trials=12, params=p) for p in (bad, good)]
    client = ScriptedClient(replies)
    out = draft_spec("tune lr and momentum of torch_digits.py for val_acc (maximize), 12 trials", client, cwd=tmp_path)
    assert out.spec.space.names == ["lr"] and out.spec.pass_args is True
    retry = client.requests[1][0][1].content or ""
    assert "torch_digits.py has no flag for --momentum" in retry  # the model is told why and redrafts


def test_the_drafts_model_family_and_data_reach_the_task(tmp_path: Path) -> None:
    out, _, _ = _argparse_draft(tmp_path, pass_mode="flags", model_family="PyTorch MLP", data="digits, 1797 samples")
    assert out.spec.pass_args is True and out.warnings == []
    assert out.spec.task is not None and out.spec.task.model_family == "PyTorch MLP"
    assert out.spec.task.data == "digits, 1797 samples"


def test_the_task_context_names_flags_as_the_script_spells_them(tmp_path: Path) -> None:
    from agent.core.spec import load_spec
    from agent.hybrid.context import task_context

    (tmp_path / "train.py").write_text(
        'import argparse\np = argparse.ArgumentParser()\np.add_argument("--learning-rate")\n'
    )
    spec = load_spec(
        {
            "objective": {"metric": "acc", "direction": "maximize"},
            "command": ["python", "train.py"],
            "workdir": str(tmp_path),
            "pass_args": True,
            "space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 0.1, "log": True}},
        }
    )
    text = task_context(spec)
    assert "--name value command-line arguments (pass_args: true), spelled as the script declares them" in text
    assert "(--learning-rate for learning_rate)" in text


def test_a_hydra_app_gets_its_params_as_overrides_and_a_key_its_config_lacks_goes_back(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("optimizer:\n  lr: 0.1\ndepth: 2\n")
    (tmp_path / "train.py").write_text(
        "import hydra, tunesmith\n\n"
        '@hydra.main(version_base=None, config_path="conf", config_name="config")\n'
        "def main(cfg):\n    tunesmith.report(val_acc=cfg.optimizer.lr * cfg.depth)\n\nmain()\n"
    )
    good = [{"name": "optimizer.lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True}]
    bad = [*good, {"name": "dropout", "type": "float", "low": 0.0, "high": 0.5}]
    client = ScriptedClient([reply(script="train.py", max_trials=12, params=p) for p in (bad, good)])
    out = draft_spec("tune the learning rate of train.py for val_acc (maximize), 12 trials", client, cwd=tmp_path)
    assert out.spec.pass_args == "name=value" and out.spec.space.names == ["optimizer.lr"]
    assert any("train.py is a Hydra app: pass_args: name=value set" in w for w in out.warnings)
    first = client.requests[0][0][1].content or ""  # the model is told it is a Hydra app, and its keys
    assert (
        "It is a Hydra app" in first
        and 'Keys of its config (name params exactly so): ["depth","optimizer.lr"]' in first
    )
    retry = client.requests[1][0][1].content or ""
    assert "conf/config.yaml has no key dropout" in retry  # the model is told why and redrafts


def test_a_nanogpt_style_script_gets_python_literal_arguments(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(
        "import tunesmith\nlearning_rate = 6e-4\nexec(open('configurator.py').read())\n"
        "tunesmith.report(val_loss=learning_rate)\n"
    )
    params = [{"name": "learning_rate", "type": "float", "low": 1e-4, "high": 1e-2, "log": True}]
    client = ScriptedClient([reply(script="train.py", metric="val_loss", direction="minimize", params=params)])
    out = draft_spec("tune the learning rate of train.py for val_loss, 8 trials", client, cwd=tmp_path)
    assert out.spec.pass_args == "--name=value"
    assert any("train.py reads --name=value Python literals" in w for w in out.warnings)
