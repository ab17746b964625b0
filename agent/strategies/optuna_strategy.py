"""``OptunaStrategy``: the classical strategies, each one of Optuna's samplers driven through ask/tell.

Every ``ask`` is a pure function of ``(name, direction, seed, space, history, n)``:

1. build a fresh in-memory Optuna study whose sampler is seeded from ``(seed, own_trials(history))``
   (a seed of None counts as 0, so proposals are reproducible by default);
2. hand it the history (see ``optuna_bridge`` for how each trial state is told);
3. ask ``n`` trials define-by-run: each parameter of ``space.order`` is suggested only when active,
   and the asked trials stay RUNNING, so the later ones of a batch spread away from the earlier ones.

Nothing survives between calls, so a strategy rebuilt from the store continues exactly as the
original would, in any process. Per sampler:

* ``random``: ``RandomSampler``; ignores history (only its length seeds it), so ``ask`` is O(1).
* ``qmc``: scrambled Sobol (``QMCSampler``). The point index is ``own_trials(history)`` and the scramble
  seed is the strategy's seed, so successive asks walk one low-discrepancy sequence; every parameter,
  conditional ones included, owns one coordinate.
* ``tpe``: ``TPESampler(multivariate=True, constant_liar=True)``, plus ``group=True`` on
  conditional spaces so each sub-space gets its own joint model.
* ``gp``: ``GPSampler`` (imports torch on first use).
* ``cmaes``: ``CmaEsSampler`` with a univariate TPE for categorical parameters. CMA-ES keeps a
  state (mean, covariance, step size, evolution paths) that Optuna stores in trial attributes we do
  not persist, so the history is *replayed*: each trial, by number, is asked as if CMA-ES had proposed
  it and told its result. Optuna's bookkeeping makes a replay quadratic in its length, so only the
  last ``CMAES_REPLAY_WINDOW`` usable trials are replayed (CMA-ES restarts there and, fed the recent,
  concentrated trials, re-converges within a few generations): about 0.5 s an ask at most.
  ``with_margin`` stays off: CMAwM tells its own internal sample rather than the trial's actual
  params, which would be wrong for replayed trials proposed by someone else.

In spaces where every parameter is discrete, a proposal equal to an earlier trial or to another
of the batch is asked again, a few times; if the sampler keeps repeating itself and the space is
small enough to list, an untried configuration is drawn at random (seeded) instead; once every
configuration has been tried, repeats are accepted. A repeat rarely teaches anything.
"""

from __future__ import annotations

import logging
import random
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, CmaEsSampler, QMCSampler, RandomSampler, TPESampler
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from agent.core.grid import all_configs, is_finite
from agent.core.records import Trial
from agent.core.space import SearchSpace, config_key
from agent.strategies import optuna_bridge as bridge
from agent.strategies.base import Strategy, foreign_complete, own_trials

#: the samplers this class implements (``auto`` lives in ``agent.strategies.auto``)
SAMPLER_NAMES = ("random", "qmc", "tpe", "gp", "cmaes")

#: how many of the latest usable trials CMA-ES replays (bounds the cost of an ask)
CMAES_REPLAY_WINDOW = 300

#: asks per slot before giving up on the sampler avoiding a repeat (finite spaces only)
_DUPLICATE_TRIES = 8
#: the same for GP, whose every ask refits the model (a repeat is told as pending, so a second ask usually
#: moves away; past that, drawing an untried configuration is far cheaper than six more fits)
_GP_DUPLICATE_TRIES = 2
#: finite spaces up to this many configurations are listed to find an untried one
_ENUMERATE_LIMIT = 10_000

# Logging levels and warning filters are process-global; asks take this lock so that two threads
# asking at once cannot restore each other's settings wrongly. Asks are CPU-bound anyway.
_QUIET = threading.RLock()


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Silence Optuna's per-trial INFO logs and experimental/independent-sampling warnings."""
    with _QUIET:
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                warnings.simplefilter("ignore", UserWarning)  # e.g. scipy's Sobol balance notice
                warnings.simplefilter("ignore", FutureWarning)
                yield
        finally:
            optuna.logging.set_verbosity(level)


def derive_seed(seed: int | None, *salt: int) -> int:
    """A 32-bit seed from the strategy seed and ``salt``; equal in every process and platform."""
    entropy = [(seed or 0) % 2**64, *(s % 2**64 for s in salt)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint32)[0])


class _IndexedQMCSampler(QMCSampler):
    """QMC whose point index is given (the history length), not counted in study attributes.

    Optuna's ``QMCSampler`` counts points in the study's system attributes, which a fresh study per
    ask would reset to 0. The relative search space is the whole space, so a conditional parameter
    keeps its own coordinate whether or not earlier trials used it.
    """

    def __init__(self, space: Mapping[str, BaseDistribution], first_index: int, seed: int) -> None:
        super().__init__(scramble=True, seed=seed, warn_independent_sampling=False, warn_asynchronous_seeding=False)
        self._full_space = dict(space)
        self._next_index = first_index

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return dict(self._full_space)

    def _find_sample_id(self, study: optuna.Study, search_space: dict[str, BaseDistribution]) -> int:
        index, self._next_index = self._next_index, self._next_index + 1
        return index


if not hasattr(QMCSampler, "_find_sample_id"):  # pragma: no cover - guards an Optuna upgrade
    raise ImportError(
        "this Optuna has no QMCSampler._find_sample_id; pin optuna<6 or update agent/strategies/optuna_strategy.py"
    )


class OptunaStrategy(Strategy):
    """One Optuna sampler (``name`` in ``SAMPLER_NAMES``) behind the ``Strategy`` seam."""

    def __init__(
        self,
        name: str,
        *,
        direction: str,
        seed: int | None = None,
        budget: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """``options`` are extra keyword arguments of the sampler (e.g. ``{"n_startup_trials": 4}`` for gp)."""
        if name not in SAMPLER_NAMES:
            raise ValueError(f"unknown sampler '{name}'; choose one of {', '.join(SAMPLER_NAMES)}")
        super().__init__(direction=direction, seed=seed, budget=budget)
        self.name = name
        self.options = dict(options or {})

    def __repr__(self) -> str:
        return f"OptunaStrategy({self.name!r}, direction={self.direction!r}, seed={self.seed!r})"

    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return []
        with _quiet_optuna():
            direction = StudyDirection.MAXIMIZE if self.direction == "maximize" else StudyDirection.MINIMIZE
            study = optuna.create_study(direction=direction, sampler=self._sampler(space, history))
            if self.name == "cmaes":
                usable = bridge.frozen_history(history, space, self.direction)
                _replay(study, space, usable[-CMAES_REPLAY_WINDOW:])
            elif self.name in ("tpe", "gp"):
                study.add_trials([f for _, f in bridge.frozen_history(history, space, self.direction)])
            # random and qmc learn nothing from history beyond its length (their seed and index).
            return self._propose(study, space, history, n)

    # ----------------------------------------------------------------- helpers
    def _sampler(self, space: SearchSpace, history: Sequence[Trial]) -> BaseSampler:
        own = own_trials(history)  # LLM and user trials do not take the strategy's draws (strategies.base)
        seed = derive_seed(self.seed, own)
        opts = self.options
        foreign = foreign_complete(history) if self.name in ("tpe", "gp") else 0
        if foreign:
            # Both count every complete trial towards their random start-up (10 by default); LLM and user
            # trials add to that design instead of replacing it.
            opts = {**opts, "n_startup_trials": int(opts.get("n_startup_trials", 10)) + foreign}
        if self.name == "random":
            return RandomSampler(seed=seed)
        if self.name == "qmc":
            # The fixed strategy seed (not ``seed``) keeps every ask on one scrambled sequence.
            return _IndexedQMCSampler(bridge.distributions(space), own, derive_seed(self.seed))
        if self.name == "tpe":
            return TPESampler(
                **{"seed": seed, "multivariate": True, "group": space.is_conditional(), "constant_liar": True, **opts}
            )
        if self.name == "gp":
            # Imported here: GPSampler pulls in torch, which costs seconds and is only needed by gp.
            from optuna.samplers import GPSampler

            gp_opts = {"seed": seed, "warn_independent_sampling": False, **opts}
            if gp_opts.pop("input_warping", False):
                from agent.strategies import warped_gp

                if warped_gp.available():
                    return warped_gp.make_sampler(**gp_opts)  # type: ignore[no-any-return]
                _warn_no_warping()
            return GPSampler(**gp_opts)
        return CmaEsSampler(
            **{
                "seed": seed,
                "warn_independent_sampling": False,
                "independent_sampler": TPESampler(seed=seed, multivariate=False),
                **opts,
            }
        )

    def _propose(
        self, study: optuna.Study, space: SearchSpace, history: Sequence[Trial], n: int
    ) -> list[dict[str, Any]]:
        dedupe = is_finite(space)
        seen = bridge.tried_keys(space, history) if dedupe else set()
        configs: list[dict[str, Any]] = []
        for slot in range(n):
            for _ in range(_GP_DUPLICATE_TRIES if self.name == "gp" else _DUPLICATE_TRIES):
                config = _ask_one(study, space)
                # A rejected repeat stays RUNNING in the study, so liar-aware samplers move away.
                if not dedupe or config_key(config) not in seen:
                    break
            else:
                untried = [c for c in all_configs(space, _ENUMERATE_LIMIT) or [] if config_key(c) not in seen]
                if untried:
                    rng = random.Random(derive_seed(self.seed, own_trials(history), slot))
                    config = _ask_one(study, space, fixed=untried[rng.randrange(len(untried))])
            seen.add(config_key(config))
            configs.append(space.check_config(config))
        return configs


_WARNED: set[str] = set()


def _warn_no_warping() -> None:
    if "warping" not in _WARNED:
        _WARNED.add("warping")
        logging.getLogger(__name__).warning(
            "input warping needs Optuna 5's GPSampler internals; using the plain GPSampler (pip install -U optuna)"
        )


def _ask_one(study: optuna.Study, space: SearchSpace, fixed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Ask ``study`` for one configuration, define-by-run; ``fixed`` forces its values."""
    if fixed is not None:
        dists = bridge.distributions(space)
        params = {k: bridge.to_optuna(space.params[k], dists[k], v) for k, v in fixed.items()}
        study.enqueue_trial(params, skip_if_exists=False)
    trial = study.ask()
    config: dict[str, Any] = {}
    for name in space.order:
        if space.is_active(name, config):
            config[name] = bridge.suggest(trial, name, space.params[name])
    return config


def _replay(study: optuna.Study, space: SearchSpace, trials: Sequence[tuple[Trial, FrozenTrial]]) -> None:
    """Re-run the history through ``study``'s sampler in trial order, as if it had proposed each trial."""
    for _, frozen in trials:
        study.enqueue_trial(frozen.params, skip_if_exists=False)
        trial = study.ask()
        # The params are fixed, so no suggest below samples; reading relative_params makes CMA-ES
        # take this trial into its current generation exactly as for one it proposed.
        _ = trial.relative_params
        for name in frozen.params:
            bridge.suggest(trial, name, space.params[name])
        if frozen.state is OptunaState.COMPLETE:
            study.tell(trial, frozen.value)
        elif frozen.state is OptunaState.PRUNED:
            for step, value in frozen.intermediate_values.items():
                trial.report(value, step)
            study.tell(trial, state=OptunaState.PRUNED)
        elif frozen.state is OptunaState.FAIL:
            study.tell(trial, state=OptunaState.FAIL)
        # RUNNING trials stay pending, as they are.
