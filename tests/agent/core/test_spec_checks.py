"""Spec mistakes that used to pass silently or get pydantic's own words: each is one line with the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import load_spec
from agent.errors import SpecError

BASE: dict[str, Any] = {
    "objective": {"metric": "y", "direction": "maximize"},
    "command": ["python", "-c", "pass"],
    "space": {
        "kernel": {"type": "categorical", "choices": ["rbf", "poly"]},
        "degree": {"type": "int", "low": 2, "high": 5, "when": {"kernel": ["poly"]}},
    },
}


def error_of(**changes: Any) -> str:
    data = {**BASE, **changes}
    with pytest.raises(SpecError) as exc:
        load_spec(data)
    message = str(exc.value)
    assert "\n" not in message and "Input should" not in message, message
    return message


def test_a_key_written_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        "objective: {metric: y, direction: maximize}\n"
        "command: [python, -c, pass]\n"
        "budget: {max_trials: 5}\n"
        "space: {x: {low: 0.0, high: 1.0}}\n"
        "budget: {max_trials: 50}\n"
    )
    with pytest.raises(SpecError, match=r"^spec\.yaml: key 'budget' appears twice \(lines 3 and 5\)"):
        load_spec(tmp_path / "spec.yaml")
    (tmp_path / "spec.yaml").write_text("objective: {metric: y, direction: maximize}\nspace:\n  x: {low: 0, low: 1}\n")
    with pytest.raises(SpecError, match=r"key 'low' appears twice \(lines 3 and 3\)"):
        load_spec(tmp_path / "spec.yaml")
    (tmp_path / "spec.json").write_text('{"seed": 1, "seed": 2}')
    with pytest.raises(SpecError, match=r"^spec\.json: key 'seed' appears twice"):
        load_spec(tmp_path / "spec.json")


def test_yaml_anchors_and_merges_still_work(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(
        "objective: {metric: y, direction: maximize}\n"
        "command: [python, -c, pass]\n"
        "space:\n"
        "  x: &unit {low: 0.0, high: 1.0}\n"
        "  y: {<<: *unit, high: 2.0}\n"
    )
    spec = load_spec(tmp_path / "spec.yaml")
    assert spec.space.params["y"].high == 2.0  # type: ignore[union-attr]


def test_a_step_that_leaves_one_value_is_warned() -> None:
    spec = load_spec({**BASE, "space": {"lr": {"type": "float", "low": 0.1, "high": 0.2, "step": 0.5}}})
    assert spec.space.warnings() == [
        "space.lr: step 0.5 leaves one value (0.1) in [0.1, 0.2]; use a smaller step, or move lr to fixed"
    ]
    assert (
        load_spec({**BASE, "space": {"lr": {"type": "float", "low": 0, "high": 1, "step": 0.5}}}).space.warnings() == []
    )


@pytest.mark.parametrize(
    ("env", "refused"),
    [
        ({"WANDB_API_KEY": "abc123"}, "WANDB_API_KEY"),
        ({"HF_TOKEN": "x"}, "HF_TOKEN"),
        ({"OPENAI_BASE": "x"}, "OPENAI_BASE"),
        ({"SOME_SETTING": "sk-proj-abcdefghijklmnop"}, "SOME_SETTING"),
    ],
)
def test_secrets_in_env_set_are_refused_like_an_api_key(env: dict[str, str], refused: str) -> None:
    message = error_of(env={"set": env})
    assert f"set.{refused} looks like a secret" in message and f"export {refused}" in message
    assert "env.pass" in message


def test_ordinary_env_values_are_kept() -> None:
    spec = load_spec({**BASE, "env": {"set": {"TOKENIZERS_PARALLELISM": "false", "MODE": "fast"}}})
    assert spec.env.set == {"TOKENIZERS_PARALLELISM": "false", "MODE": "fast"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"space": {"n": {"type": "int", "low": 0.5, "high": 10}}},
            "space.n.low: must be a whole number, got 0.5; an int parameter needs whole-number bounds; round them, "
            "or use type: float for a real range",
        ),
        (
            {"budget": {"max_trials": -3}},
            "budget.max_trials: must be >= 1, got -3; use a value of at least 1 (or null for no limit)",
        ),
        (
            {"objective": {"metric": "y", "direction": "maximise"}},
            "objective.direction: 'maximise' is not allowed; did you mean 'maximize'? (use one of: maximize, minimize)",
        ),
        (
            {"space": {"lr": {"type": "flaot", "low": 0.1, "high": 0.2}}},
            "space.lr: unknown parameter type 'flaot'; did you mean 'float'? (use one of: float, int, categorical)",
        ),
        (
            {"space": {**BASE["space"], "degree": {"type": "int", "low": 2, "high": 5, "when": "kernal"}}},
            "space: degree.when must name a parent parameter and its values, e.g. when: {kernel: [rbf]} "
            "(did you mean 'kernel'?)",
        ),
        (
            {"space": {**BASE["space"], "degree": {"type": "int", "low": 2, "high": 5, "when": {"kernal": ["poly"]}}}},
            "did you mean 'kernel'?",
        ),
        ({"broken_setup_after": 1}, "broken_setup_after must be 0 (never stop) or at least 2, got 1"),
    ],
)
def test_raw_messages_say_the_fix(changes: dict[str, Any], expected: str) -> None:
    assert expected in error_of(**changes)


def test_broken_setup_after_round_trips() -> None:
    assert load_spec(BASE).broken_setup_after == 3
    spec = load_spec({**BASE, "broken_setup_after": 0})
    assert load_spec(spec.to_dict()).broken_setup_after == 0
