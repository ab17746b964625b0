"""The canonical configuration hash (``config_key(config, space)``) and sampling from a space."""

from __future__ import annotations

import random

import pytest

from agent.core.space import SearchSpace, config_key


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace.from_dict(
        {
            "kernel": {"choices": ["rbf", "poly"]},
            "degree": {"type": "int", "low": 2, "high": 5, "when": {"kernel": ["poly"]}},
            "dropout": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.1},
            "lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
            "batch": {"choices": [16, 32]},
            "hidden": {"type": "int", "low": 8, "high": 512, "log": True},
        }
    )


def test_equivalent_encodings_have_one_key(space: SearchSpace) -> None:
    a = {"kernel": "rbf", "dropout": 0.3, "lr": 0.1, "batch": 16, "hidden": 64}
    b = {
        "kernel": "rbf",
        "degree": 3,  # inactive with rbf: dropped
        "dropout": 0.1 * 3,  # 0.30000000000000004, snapped to its step
        "lr": 0.1000000000000001,  # float noise
        "batch": 16.0,  # the choice 16
        "hidden": 64.0,  # an int
    }
    assert config_key(a, space) == config_key(b, space)
    assert config_key(a) != config_key(b)  # without the space, the config as written
    canonical = space.canonical(b)
    assert canonical == {"kernel": "rbf", "dropout": 0.3, "lr": 0.1, "batch": 16, "hidden": 64}
    assert type(canonical["hidden"]) is int and type(canonical["batch"]) is int


def test_different_configurations_keep_different_keys(space: SearchSpace) -> None:
    base = {"kernel": "poly", "degree": 2, "dropout": 0.2, "lr": 0.01, "batch": 32, "hidden": 10}
    for name, other in (("degree", 3), ("dropout", 0.3), ("lr", 0.0100001), ("batch", 16), ("kernel", "rbf")):
        assert config_key({**base, name: other}, space) != config_key(base, space), name
    assert config_key({**base, "dropout": -0.0 + 0.0}, space) == config_key({**base, "dropout": 0.0}, space)


def test_a_bad_value_is_kept_not_raised(space: SearchSpace) -> None:
    assert space.canonical({"kernel": "rbf", "hidden": "many"})["hidden"] == "many"


def test_normalise_puts_a_float_on_its_grid_and_a_choice_as_written(space: SearchSpace) -> None:
    out = space.normalise({"dropout": 0.1 * 3, "batch": 32.0})
    assert out == {"dropout": 0.3, "batch": 32} and type(out["batch"]) is int


def test_samples_are_valid_and_reproducible(space: SearchSpace) -> None:
    for seed in range(50):
        config = space.sample(random.Random(seed))
        assert space.validate_config(config) == [], config
        assert config == space.sample(random.Random(seed))
    lrs = [space.sample(random.Random(s))["lr"] for s in range(200)]
    assert 55 < sum(lr < 1e-3 for lr in lrs) < 105  # log-uniform: 2 of 5 decades, about 80 of 200
