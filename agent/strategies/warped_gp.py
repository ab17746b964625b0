"""``WarpedGPSampler``: Optuna's ``GPSampler`` with a learned input warping per parameter (HEBO's, BoTorch's).

Hyperparameter losses often change fast near one end of a range and hardly at all over the rest (a learning
rate near its divergence edge, a regularisation strength that only matters once it is large). A stationary
Matern kernel must then pick one length scale for both regimes. Input warping passes every non-categorical
coordinate ``x`` in [0, 1] (Optuna's normalised space: log-scaled parameters are already logged) through a
Kumaraswamy CDF ``w(x) = 1 - (1 - x**a)**b`` before the kernel, with ``a`` and ``b`` per parameter fitted with the
kernel's own hyperparameters by maximum a-posteriori (log-normal prior centred on the identity ``a = b = 1``, as in
BoTorch's ``Warp``). HEBO's 2020 winning entry used the same idea; our eval's held-out test scores favour it.

Everything else is Optuna's: the search-space normalisation, the output standardisation, the (q)LogEI acquisition
and its optimiser. Only the kernel-parameter fit and the kernel differ, so this subclass overrides
``_sample_relative_impl``, a private method of Optuna 5.x's sampler. ``available()`` says whether the installed
Optuna has the internals it needs; ``OptunaStrategy`` falls back to the plain ``GPSampler`` (and says so) where not.
Single objective, no constraints: the only way tunesmith uses GP.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

#: prior on log a and log b: Normal(0, WARP_PRIOR_STD), i.e. warps near the identity unless the data insist
WARP_PRIOR_STD = 0.75
#: coordinates are squeezed into [EPS, 1 - EPS] before warping (the CDF's gradient is unbounded at 0 and 1)
EPS = 1e-6


def available() -> bool:
    """True when the installed Optuna has the GPSampler internals this subclass relies on (Optuna 5.x)."""
    try:
        from optuna._gp import gp, prior, search_space  # noqa: F401
        from optuna.samplers import GPSampler
        from optuna.samplers._gp import sampler as gp_sampler_module
    except ImportError:
        return False
    return all(
        hasattr(obj, name)
        for obj, name in (
            (GPSampler, "_sample_relative_impl"),
            (GPSampler, "_get_acqf_and_best_params"),
            (GPSampler, "_optimize_acqf"),
            (gp.GPRegressor, "marginal_log_likelihood"),
            (gp_sampler_module, "_standardize_values"),
            (gp_sampler_module, "_get_params"),
        )
    )


def make_sampler(**kwargs: Any) -> Any:
    """A ``WarpedGPSampler`` built with GPSampler's keyword arguments (defined lazily: it imports torch)."""
    return _sampler_class()(**kwargs)


@functools.cache
def _sampler_class() -> Any:
    import scipy.optimize
    import torch
    from optuna._gp import gp, prior
    from optuna._gp import search_space as gp_search_space
    from optuna._gp.thread_limiting import limit_threads_in_optimization
    from optuna.samplers import GPSampler
    from optuna.samplers._gp.sampler import _get_params, _standardize_values
    from optuna.study import StudyDirection

    class WarpedGPRegressor(gp.GPRegressor):  # type: ignore[misc]
        """A GP regressor whose kernel sees Kumaraswamy-warped continuous coordinates."""

        def __init__(self, *args: Any, log_a: torch.Tensor, log_b: torch.Tensor, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.log_a = log_a
            self.log_b = log_b
            self._warp_mask = ~self._is_categorical

        def warp(self, X: torch.Tensor) -> torch.Tensor:
            x = X.clamp(EPS, 1.0 - EPS)
            a, b = torch.exp(self.log_a), torch.exp(self.log_b)
            warped = 1.0 - (1.0 - x**a).clamp_min(1e-12) ** b
            return torch.where(self._warp_mask, warped, X)

        def kernel(self, X1: torch.Tensor | None = None, X2: torch.Tensor | None = None) -> torch.Tensor:
            if X1 is None:
                X1 = self._X_train
            if X2 is None:
                X2 = self._X_train
            W1, W2 = self.warp(X1), self.warp(X2)
            sqd = (W1 - W2 if W1.ndim == 1 else W1.unsqueeze(-2) - W2.unsqueeze(-3)).square()
            if self._is_categorical.any():
                # Hamming distance on categoricals, as Optuna's kernel (the raw codes, never warped)
                diff = X1 - X2 if X1.ndim == 1 else X1.unsqueeze(-2) - X2.unsqueeze(-3)
                sqd = torch.where(self._is_categorical, (diff != 0).to(sqd.dtype), sqd)
            sqdist = sqd.matmul(self.inverse_squared_lengthscales)
            kernel: torch.Tensor = gp.Matern52Kernel.apply(sqdist)  # type: ignore[no-untyped-call]
            return kernel * self.kernel_scale

        def _cache_matrix(self) -> None:
            self.log_a = self.log_a.detach()
            self.log_b = self.log_b.detach()
            super()._cache_matrix()

        def fit(self, minimum_noise: float, gtol: float) -> WarpedGPRegressor:
            d = self._X_train.shape[1]
            start = np.concatenate(
                [
                    np.log(self.inverse_squared_lengthscales.detach().numpy()),
                    [math.log(self.kernel_scale.item()), math.log(self.noise_var.item() - 0.99 * minimum_noise)],
                    self.log_a.detach().numpy(),
                    self.log_b.detach().numpy(),
                ]
            )

            def assign(raw: torch.Tensor) -> None:
                self.inverse_squared_lengthscales = torch.exp(raw[:d])
                self.kernel_scale = torch.exp(raw[d])
                self.noise_var = torch.exp(raw[d + 1]) + minimum_noise
                self.log_a, self.log_b = raw[d + 2 : 2 * d + 2], raw[2 * d + 2 :]

            def loss(raw: np.ndarray) -> tuple[float, np.ndarray]:
                tensor = torch.from_numpy(raw).requires_grad_(True)
                with torch.enable_grad():
                    assign(tensor)
                    warp_prior = -0.5 * ((self.log_a**2).sum() + (self.log_b**2).sum()) / WARP_PRIOR_STD**2
                    value = -self.marginal_log_likelihood() - prior.default_log_prior(self) - warp_prior
                    value.backward()  # type: ignore[no-untyped-call]
                assert tensor.grad is not None
                return value.item(), tensor.grad.detach().numpy()

            with limit_threads_in_optimization():
                res = scipy.optimize.minimize(loss, start, jac=True, method="l-bfgs-b", options={"gtol": gtol})
            if not res.success:
                raise RuntimeError(f"Optimization failed: {res.message}")
            assign(torch.from_numpy(res.x))
            self._cache_matrix()
            return self

    def fit_warped(
        X: np.ndarray, Y: np.ndarray, is_categorical: np.ndarray, minimum_noise: float, cache: Any
    ) -> WarpedGPRegressor:
        d = X.shape[1]

        def build(source: Any | None) -> WarpedGPRegressor:
            """A regressor starting from ``source``'s parameters (the last fit), or from Optuna's defaults."""
            if source is None:
                ones, zeros = torch.ones(d + 2, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
                start = {"lengthscales": ones[:d], "scale": ones[d], "noise": ones[d + 1], "a": zeros, "b": zeros}
            else:
                start = {
                    "lengthscales": source.inverse_squared_lengthscales,
                    "scale": source.kernel_scale,
                    "noise": source.noise_var,
                    "a": source.log_a,
                    "b": source.log_b,
                }
            return WarpedGPRegressor(
                is_categorical=torch.from_numpy(is_categorical),
                X_train=torch.from_numpy(X),
                y_train=torch.from_numpy(Y),
                inverse_squared_lengthscales=start["lengthscales"].clone(),
                kernel_scale=start["scale"].clone(),
                noise_var=start["noise"].clone(),
                log_a=start["a"].clone(),
                log_b=start["b"].clone(),
            )

        usable = cache if cache is not None and len(cache.log_a) == d else None
        for source in (usable, None) if usable is not None else (None,):
            try:
                return build(source).fit(minimum_noise, gtol=1e-2)
            except RuntimeError:  # as Optuna's fit: retry from the defaults, then keep the defaults unfitted
                continue
        fallback = build(None)
        fallback._cache_matrix()
        return fallback

    class WarpedGPSampler(GPSampler):  # type: ignore[misc]
        """``GPSampler`` whose GP warps its inputs (module docstring); single objective, unconstrained."""

        def _sample_relative_impl(
            self, study: Any, completed_trials: list[Any], running_trials: list[Any], search_space: dict[str, Any]
        ) -> dict[str, Any]:
            internal = gp_search_space.SearchSpace(search_space)
            X = internal.get_normalized_params(completed_trials)
            X_running = (
                internal.get_normalized_params(running_trials, [_get_params(t) for t in running_trials])
                if running_trials
                else None
            )
            sign = -1.0 if study.direction == StudyDirection.MINIMIZE else 1.0
            Y, _, _ = _standardize_values(sign * np.array([[t.value] for t in completed_trials]))
            cache = self._gprs_cache_list[0] if self._gprs_cache_list else None
            gpr = fit_warped(X, Y[:, 0], internal.is_categorical, self._minimum_noise, cache)
            self._gprs_cache_list = [gpr]
            acqf, best = self._get_acqf_and_best_params(completed_trials, [gpr], internal, X, X_running, Y)
            return internal.get_unnormalized_param(self._optimize_acqf(acqf, best))  # type: ignore[no-any-return]

    return WarpedGPSampler
