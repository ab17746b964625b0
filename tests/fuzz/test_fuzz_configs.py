"""Fuzzing configuration validation (what the LLM's proposals go through) with arbitrary JSON: a list of
problems or a normalised config, only ``ConfigError`` from ``check_config``, never another exception."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.core.space import SearchSpace
from agent.errors import ConfigError, SpecError
from tests.fuzz.strategies import FUZZ, JSON, KEYS, SCALARS

SPACE = SearchSpace.from_dict(
    {
        "lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
        "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
        "layers": {"type": "int", "low": 1, "high": 8},
        "opt": {"type": "categorical", "choices": ["adam", "sgd", None, 3, True]},
        "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"opt": ["sgd"]}},
    }
)
NAMES = st.sampled_from([*SPACE.names, "lr ", "LR", "momentum"]) | KEYS


def _validate(config: Any) -> None:
    problems = SPACE.validate_config(config)
    assert isinstance(problems, list) and all(isinstance(p, str) and "\n" not in p for p in problems)
    try:
        normalised = SPACE.check_config(config)
    except ConfigError as exc:
        assert problems and exc.problems == problems
        return
    assert not problems and SPACE.validate_config(normalised) == []


@FUZZ
@given(JSON)
def test_any_json_as_a_configuration(config: Any) -> None:
    _validate(config)


@FUZZ
@given(st.dictionaries(NAMES, SCALARS | JSON, max_size=7))
def test_configurations_with_plausible_names(config: dict[str, Any]) -> None:
    _validate(config)


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "lr": st.floats(),
            "dropout": st.floats(),
            "layers": st.integers() | st.floats(),
            "opt": st.sampled_from(["adam", "sgd", None, 3, True, 1, 1.0, "Adam"]),
        },
        optional={"momentum": st.floats() | st.text(max_size=3)},
    )
)
def test_nearly_valid_configurations(config: dict[str, Any]) -> None:
    _validate(config)


@FUZZ
@given(st.dictionaries(KEYS, JSON, max_size=4))
def test_any_json_as_a_search_space(params: dict[str, Any]) -> None:
    try:
        space = SearchSpace.from_dict(params)
    except SpecError as exc:
        assert "\n" not in str(exc)
        return
    _validate({})
    assert isinstance(space.describe(), list)


def test_the_validator_rejects_what_it_should() -> None:
    with pytest.raises(ConfigError, match="missing parameter 'momentum'"):
        SPACE.check_config({"lr": 0.1, "dropout": 0.1, "layers": 2, "opt": "sgd"})
