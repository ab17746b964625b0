from __future__ import annotations

import pytest

from agent.core.space import SearchSpace
from agent.errors import ConfigError, SpecError


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace.from_dict(
        {
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "layers": {"type": "int", "low": 1, "high": 9, "step": 2},
            "opt": {"type": "categorical", "choices": ["sgd", "adam"]},
            "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"opt": ["sgd"]}},
            "nesterov": {"type": "categorical", "choices": [True, False], "when": {"momentum": [0.9]}},
        }
    )


def test_dependency_order_puts_parents_first(space: SearchSpace) -> None:
    order = space.order
    assert order.index("opt") < order.index("momentum") < order.index("nesterov")


def test_valid_config_and_normalisation(space: SearchSpace) -> None:
    cfg = space.check_config({"lr": 0.01, "layers": 3.0, "opt": "adam"})
    assert cfg == {"lr": 0.01, "layers": 3, "opt": "adam"}
    assert isinstance(cfg["layers"], int)


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"lr": 0.5, "layers": 3, "opt": "adam"}, "outside"),
        ({"lr": 0.01, "layers": 4, "opt": "adam"}, "grid"),
        ({"lr": 0.01, "layers": 3, "opt": "rmsprop"}, "not one of"),
        ({"lr": 0.01, "layers": 3}, "missing parameter 'opt'"),
        ({"lr": 0.01, "layers": 3, "opt": "adam", "momentum": 0.5}, "inactive"),
        ({"lr": 0.01, "layers": 3, "opt": "sgd"}, "missing parameter 'momentum'"),
        ({"lr": 0.01, "layers": 3, "opt": "adam", "lrr": 1}, "did you mean 'lr'"),
        ({"lr": "0.01", "layers": 3, "opt": "adam"}, "must be a number"),
        ({"lr": 0.01, "layers": True, "opt": "adam"}, "must be an integer"),
        ({"lr": float("nan"), "layers": 3, "opt": "adam"}, "finite"),
    ],
)
def test_invalid_configs_are_explained(space: SearchSpace, config: dict, fragment: str) -> None:
    problems = space.validate_config(config)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(ConfigError):
        space.check_config(config)


def test_nested_condition_activity(space: SearchSpace) -> None:
    assert space.active_names({"opt": "sgd", "momentum": 0.9}) == ["lr", "layers", "opt", "momentum", "nesterov"]
    assert "nesterov" not in space.active_names({"opt": "adam", "momentum": 0.9})


def test_bool_and_int_choices_are_distinct() -> None:
    s = SearchSpace.from_dict({"x": {"choices": [1, True]}})
    assert s.validate_config({"x": True}) == []
    assert s.validate_config({"x": 1}) == []
    assert s.validate_config({"x": 1.0}) == []
    assert s.validate_config({"x": False})


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"a": {"type": "float", "low": 1, "high": 1}}, "must be < high"),
        ({"a": {"type": "float", "low": 0, "high": 1, "log": True}}, "low > 0"),
        ({"a": {"type": "int", "low": 0, "high": 10, "log": True}}, "low > 0"),
        ({"a": {"type": "int", "low": 0, "high": 10, "step": 3}}, "multiple of step"),
        ({"a": {"type": "categorical", "choices": []}}, "choices is empty"),
        ({"a": {"type": "float", "low": 0, "high": 1, "when": {"b": [1]}}}, "not in the space"),
        ({"a": {"choices": [1, 2], "when": {"b": [1]}}, "b": {"choices": [1, 2], "when": {"a": [1]}}}, "cycle"),
        ({"a": {"choices": [1, 2]}, "b": {"choices": [1], "when": {"a": [3]}}}, "not one of"),
        ({}, "empty"),
    ],
)
def test_impossible_spaces_fail_with_one_line(params: dict, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        SearchSpace.from_dict(params)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_wandb_style_shorthand() -> None:
    s = SearchSpace.from_dict({"bs": {"values": [16, 32]}, "n": {"min": 1, "max": 4}, "x": {"min": 0.0, "max": 1}})
    assert [p.type for p in s.params.values()] == ["categorical", "int", "float"]
