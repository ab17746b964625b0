"""The input-warped GP (``agent.strategies.warped_gp``) and ``auto``'s switch to it."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import optuna
import pytest

from agent.core.records import Trial, TrialState
from agent.core.space import SearchSpace
from agent.strategies import warped_gp
from agent.strategies.auto import AutoConfig, AutoStrategy
from agent.strategies.optuna_strategy import OptunaStrategy

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not warped_gp.available(), reason="needs Optuna 5's GPSampler internals")

SPACE = SearchSpace.from_dict(
    {
        "x": {"type": "float", "low": 0.0, "high": 1.0},
        "lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
        "kind": {"type": "categorical", "choices": ["a", "b", "c"]},
    }
)


def _history(n: int, seed: int = 0) -> list[Trial]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        x, lr, kind = float(rng.uniform()), float(10 ** rng.uniform(-5, 0)), "abc"[i % 3]
        params = {"x": x, "lr": lr, "kind": kind}
        value = (x**0.15 - 0.7) ** 2 + 0.1 * (np.log10(lr) + 3) ** 2 + 0.2 * (kind == "a")
        out.append(Trial(number=i, params=params, state=TrialState.COMPLETE, value=float(value)))
    return out


def test_the_identity_warp_is_optunas_kernel_and_a_fit_bends_towards_the_fast_end() -> None:
    from optuna._gp import gp

    rng = np.random.default_rng(1)
    X = rng.uniform(size=(25, 2))
    X[:, 1] = rng.integers(0, 3, size=25)  # a categorical code
    fitted = _fit(warped_gp.make_sampler(seed=0), X, np.sqrt(X[:, 0]) + 0.1 * X[:, 1])
    categorical = fitted._is_categorical
    x_index = int(np.flatnonzero(~categorical.numpy())[0])  # Optuna orders the parameters by name
    kernel_args = {
        "is_categorical": categorical,
        "X_train": fitted._X_train,
        "y_train": fitted._y_train.squeeze(-1),
        "inverse_squared_lengthscales": fitted.inverse_squared_lengthscales,
        "kernel_scale": fitted.kernel_scale,
        "noise_var": fitted.noise_var,
    }
    zeros = torch.zeros(2, dtype=torch.float64)
    identity = type(fitted)(**kernel_args, log_a=zeros, log_b=zeros)
    plain = gp.GPRegressor(**kernel_args)
    assert torch.allclose(identity.kernel(), plain.kernel(), atol=1e-5)
    x = fitted._X_train[:4].clone()
    x[:, x_index] = torch.from_numpy(rng.uniform(size=4))
    assert torch.allclose(identity.kernel(x), plain.kernel(x), atol=1e-5)
    # sqrt changes fastest near 0: the fitted warp stretches that end (a < 1); the categorical is never warped
    a, b = float(fitted.log_a[x_index].exp()), float(fitted.log_b[x_index].exp())
    assert a < 0.8 and b < 1.5, (a, b)
    assert float(fitted.log_a[1 - x_index]) == 0.0 and float(fitted.log_b[1 - x_index]) == 0.0
    assert torch.equal(fitted.warp(x)[:, 1 - x_index], x[:, 1 - x_index])


def _fit(sampler: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """Fit through the sampler's public path: a study told the points, one relative sample."""
    study = optuna.create_study(sampler=sampler)
    dists = {
        "x": optuna.distributions.FloatDistribution(0.0, 1.0),
        "k": optuna.distributions.CategoricalDistribution([0, 1, 2]),
    }
    for row, value in zip(X, y, strict=True):
        params = {"x": float(row[0]), "k": int(row[1])}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=float(value)))
    study.ask(dists)
    return sampler._gprs_cache_list[0]


def test_auto_with_input_warping_proposes_valid_reproducible_configs_alone_and_in_batches() -> None:
    config = AutoConfig(input_warping=True)
    hist = _history(14)
    auto = AutoStrategy(direction="minimize", seed=4, config=config)
    sampler = auto.delegate(SPACE, hist)._sampler(SPACE, hist)
    assert type(sampler).__name__ == "WarpedGPSampler"
    one = auto.ask(SPACE, hist)
    assert one == AutoStrategy(direction="minimize", seed=4, config=config).ask(SPACE, hist)
    batch = auto.ask(SPACE, [*hist, Trial(number=14, params=one[0])], 3)  # a running trial: the q-batch path
    assert len(batch) == 3 and all(SPACE.validate_config(c) == [] for c in [*one, *batch])
    assert len({tuple(sorted(c.items())) for c in batch}) == 3
    # the default auto keeps Optuna's own GPSampler
    plain = AutoStrategy(direction="minimize", seed=4)
    assert type(plain.delegate(SPACE, hist)._sampler(SPACE, hist)).__name__ == "GPSampler"


def test_without_the_internals_gp_falls_back_to_the_plain_sampler_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from agent.strategies import optuna_strategy

    monkeypatch.setattr(warped_gp, "available", lambda: False)
    monkeypatch.setattr(optuna_strategy, "_WARNED", set())
    strategy = OptunaStrategy("gp", direction="minimize", seed=0, options={"input_warping": True})
    with caplog.at_level(logging.WARNING):
        sampler = strategy._sampler(SPACE, [])
    assert type(sampler).__name__ == "GPSampler"
    assert "input warping needs Optuna 5" in caplog.text


def test_batch_mode_warps_only_asks_for_several_points() -> None:
    auto = AutoStrategy(direction="minimize", seed=4, config=AutoConfig(input_warping="batch"))
    hist = _history(14)
    assert not auto.warps_inputs(1) and auto.warps_inputs(8)
    assert type(auto.delegate(SPACE, hist, 1)._sampler(SPACE, hist)).__name__ == "GPSampler"
    assert type(auto.delegate(SPACE, hist, 4)._sampler(SPACE, hist)).__name__ == "WarpedGPSampler"
    assert not AutoStrategy(direction="minimize").warps_inputs(8)  # off by default
