"""``AutoStrategy``: the default. Picks one of the Optuna samplers per ask, by space and progress.

The choice is a pure function of ``(space, history, budget)`` (``choose``), re-made on every ask;
since every sampler rebuilds its state from the history, switching mid-study loses nothing. The
rules, first match wins (designed and tuned on the *dev* split of the benchmark problems only; see
``scripts/tune_auto_dev.py`` and the "auto" section of BENCHMARKS.md):

=====================================================  ========  =========================================
when                                                   sampler   why
=====================================================  ========  =========================================
a warm-start prior matches the space and has           prior     configurations that did well across the
configurations the history has not tried                         dev data sets of the same model family
                                                                 (``agent.strategies.priors``; v5)
the space has conditional parameters                   tpe       GP and CMA-ES model only the parameters
                                                                 that are always active; TPE (group)
                                                                 models each sub-space
more than ``GP_MAX_DIMS`` parameters                   tpe       GP fits slowly and poorly in high dims
fewer than ``GP_MAX_TRIALS`` trials so far             gp        clearly the best at small budgets on
                                                                 bayesmark-type problems; TPE ties with
                                                                 random there. GPSampler draws its first
                                                                 10 trials at random (a batch too: v3
                                                                 modelled from round 2 of 16x8, see
                                                                 ``batch_startup``; v4 dropped that)
later, every parameter continuous, 2+ of them          cmaes     cheap per trial, keeps converging where
                                                                 GP's cost grows cubically
later, otherwise                                       tpe       scales to many trials, any space
=====================================================  ========  =========================================

"Trials so far" counts every trial in the history but cancelled ones (running ones included: a
batch proposed now will be evaluated alongside them). A parameter is continuous when it is a float,
or an int with at least ``CONTINUOUS_INT_VALUES`` values (CMA-ES rounds ints; few-valued ones stall it).

The engine runs the spec's default configuration first, so ``auto`` starts from the known-good
point, then (v5) the untried configurations of a matching prior: a space with exactly the parameter names of
a well-known scikit-learn family's search space (bayesmark's kNN, SVM, trees, linear models) gets the few
configurations that, with the default, did best across that family's *dev* problems. Since v6 the default and
the priors *add to* GPSampler's 10 random start-up trials instead of taking their place (in v5 they did), so a
weak default or prior never costs GP its initial design; after them the rules below apply as before. v8 keeps
that rule one at a time and, when a batch of n > 1 is asked, ends the added start-up at a round boundary
(``round_startup``): in v6 a default and 7 priors in round 1 of 16x8 pushed the start-up to 18 and cost a whole
third round of random points where v5 (and GP alone) modelled. v8's proposals are v6's at 30x1 and v5's at 16x8
(checked unit by unit on dev problems; BENCHMARKS.md, "auto v8"). v9 is v8 with priors for two more families,
scikit-learn's MLPs trained by Adam and by SGD (built from their 9 dev problems the same way; leave-one-data-set-out
on dev their three configurations score 67.6 against 55.6 for as many random ones); its proposals differ from
v8's only on those spaces (BENCHMARKS.md, "auto v9"). v10 is v9 with the tree prior (decision trees and random
forests share one space) rebuilt from all 10 tree dev problems: 3 configurations where v5's had 1 from 4 problems
(held out by data set on dev: 113.3 against 98.7 for as many random configurations; BENCHMARKS.md, "auto v10").
Priors are first in the table because they apply to the first few trials only; ``AutoConfig(priors=False)`` is
v4, ``AutoConfig(priors=8)`` is v8 and ``AutoConfig(priors=9)`` is v9.
On the default: on the dev split that prior was worth more than any start-up design we tried (a Sobol
start-up, output warping). Dev-split results of every variant, and why this one was kept, are in
BENCHMARKS.md ("auto: design on the dev split"); the variants stay selectable through ``AutoConfig``.

Output warping (off by default; ``AutoConfig(warp="yeo-johnson")`` is the "v7" that was measured and not kept):
losses of ML models are skewed (a few diverged configurations score orders of magnitude worse than the rest),
which flattens a GP's standardised targets exactly where the good configurations are. Before each GP ask the
complete values are ranked and mapped to normal quantiles blended with their Yeo-Johnson transform
(``warp_values``; HEBO's output power transform is the same idea); the order of the values, and so the best trial,
is unchanged; failed trials are told as infeasible relative to the warped values. On the dev split it was worth
+3.2 points on the 8-9-d MLP and random forest problems (5 seeds) and tied v6 on the 23 older ones, but on the
test split (27 problems x 5 seeds, 30x1) it scored 1.3 points *below* v6 (36/46/53 paired, p 0.04; better on
held-out test, +3.5, p 0.5): the default stays v6 (BENCHMARKS.md, "auto v7: output warping, measured and not
kept").

Input warping (off by default; ``AutoConfig(input_warping=True | "batch")``, ``agent.strategies.warped_gp``): GP
with a Kumaraswamy CDF per parameter fitted by MAP, HEBO's idea. On all 32 dev problems it tied v8 at 30x1
(+0.1, p 0.82) and at 16x8 helped the 8-9-d MLPs (+5.7) but cost the others (-1.1), winning fewer units than it
lost (18/24/22): not kept. A rule formed on dev, warping only spaces with 6+ continuous parameters, was run
once on the test problems it changes and lost at 30x1 (-4.4, p 0.037; a tie at 16x8): not kept either
(BENCHMARKS.md, "Input warping").

GP/TPE hedges (off by default, measured on dev and not kept; ``AutoConfig``): ``tpe_min_dims`` (TPE from that many
parameters), ``tpe_every`` (every k-th model trial from TPE) and ``portfolio`` (GP and TPE take turns, then the
one whose proposals rank better serves).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agent.core.records import ProposerKind, Trial, TrialState
from agent.core.space import FloatParam, IntParam, SearchSpace, config_key
from agent.strategies import optuna_bridge as bridge
from agent.strategies.base import Strategy
from agent.strategies.optuna_strategy import OptunaStrategy
from agent.strategies.priors import prior_configs

#: bumped whenever the rules change (the eval harness recomputes cached ``auto`` results of older versions)
VERSION = "10"  # v8 (v6's rules, the start-up ending at a round boundary in batches), v9's MLP priors, v10's tree
# prior; "7": not kept

GP_MAX_TRIALS = 200
GP_MAX_DIMS = 20
CONTINUOUS_INT_VALUES = 16


@dataclass(frozen=True)
class AutoConfig:
    """The knobs of the rule table (the defaults are the tuned ones)."""

    startup: str = "gp"  # sampler of the start-up trials ("qmc": a Sobol design first)
    min_startup: int = 0  # start-up trials: clamp(dims + 1, min_startup, max_startup); 0: none
    max_startup: int = 0
    warp: str | None = None  # None | "copula" | "yeo-johnson" ("yeo-johnson": v7, measured on test, not kept)
    gp_max_trials: int = GP_MAX_TRIALS
    gp_startup: int = 10  # GPSampler's own random start-up (counts complete trials)
    #: when a *batch* (n > 1) is asked and at least this many trials are complete, GP models right away
    #: (its batch acquisition spreads the points); None: the start-up rules above only. v3 had 8; v4 has
    #: None: it tied on the dev split at 16x8 and lost to plain GP on the test split (BENCHMARKS.md).
    batch_startup: int | None = None
    #: portfolio hedge: in a batch (n > 1) that GP serves, this many of the n points come from TPE instead
    #: (told GP's points as running, so they spread away from them); 0: GP proposes the whole batch
    batch_tpe: int = 0
    #: warm start: propose the untried configurations of a matching prior (``agent.strategies.priors``)
    #: before any sampler (v5); True: the priors of this ``VERSION``; False: v4's behaviour; a version number n:
    #: only the priors auto vn had
    priors: bool | int = True
    #: the default and the priors *add to* GPSampler's random start-up instead of taking its slots (v6: a weak
    #: default must not cost GP its initial design; tied v5 on the dev split, 104.2 vs 104.1 at 30x1); False: v5
    startup_adds: bool = True
    #: v8: when a batch of n > 1 is asked, the added start-up ends at a round boundary: GP models once the
    #: complete trials reach ``max(gp_startup, n * (startup // n))`` instead of ``startup``. Without it, a default
    #: and 7 priors in round 1 made v6 spend a third whole round of 8 on random points (start-up 18 > 16 complete)
    #: where v5 modelled; with it a batch study models from the same round as v5 and keeps v6's rule at n = 1
    round_startup: bool = True
    #: from this many parameters, TPE serves where GP would (in addition to ``GP_MAX_DIMS``); None: no such rule
    tpe_min_dims: int | None = None
    #: sequential hedge: where GP would serve after its start-up, every k-th trial comes from TPE; 0: never
    tpe_every: int = 0
    #: portfolio: after GP's start-up, GP and TPE take turns, then each ask goes to the one whose proposals
    #: rank better among the complete trials (the other keeps one turn in four, so its evidence stays fresh)
    portfolio: bool = False
    #: GP with a learned Kumaraswamy input warping per parameter (``agent.strategies.warped_gp``; HEBO's idea):
    #: True: every GP ask; "batch": only asks for n > 1 points; False: never
    input_warping: bool | str = False


DEFAULT_CONFIG = AutoConfig()


def _continuous(space: SearchSpace) -> bool:
    for p in space.params.values():
        if isinstance(p, IntParam) and (p.high - p.low) // p.step + 1 >= CONTINUOUS_INT_VALUES:
            continue
        if not isinstance(p, FloatParam):
            return False
    return True


def startup_trials(space: SearchSpace, config: AutoConfig = DEFAULT_CONFIG) -> int:
    return min(max(len(space) + 1, config.min_startup), config.max_startup)


def choose(
    space: SearchSpace, history: Sequence[Trial], budget: int | None = None, config: AutoConfig = DEFAULT_CONFIG
) -> str:
    """The sampler ``auto`` uses for the next proposals (see the module's rule table).

    ``budget`` is accepted so rules may use it; today's rules need only the trials so far.
    """
    done = sum(t.state is not TrialState.CANCELLED for t in history)
    if space.is_conditional() or len(space) > GP_MAX_DIMS:
        return "tpe"
    if done < startup_trials(space, config):
        return config.startup
    if done < config.gp_max_trials:
        return "gp"
    if _continuous(space) and len(space) >= 2:
        return "cmaes"
    return "tpe"


def warp_values(values: Sequence[float], method: str) -> list[float]:
    """A strictly increasing transform of ``values`` (to minimise or maximise alike) that tames skew.

    ``copula``: rank -> normal quantile (ties share a rank). ``yeo-johnson``: standardise, then the
    Yeo-Johnson power transform with its maximum-likelihood exponent, averaged with the copula so a
    single extreme value cannot dominate either way.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.size < 3 or np.ptp(x) == 0:
        return [float(v) for v in x]
    ranks = stats.rankdata(x, method="average")
    copula = stats.norm.ppf((ranks - 0.5) / x.size)
    if method == "copula":
        return [float(v) for v in copula]
    z = (x - x.mean()) / x.std()
    try:
        yj, _ = stats.yeojohnson(z)
    except (ValueError, FloatingPointError, OverflowError):
        return [float(v) for v in copula]
    yj = np.asarray(yj, dtype=float)
    if not np.all(np.isfinite(yj)) or np.ptp(yj) == 0:
        return [float(v) for v in copula]
    yj = (yj - yj.mean()) / yj.std()
    return [float(v) for v in 0.5 * (yj + copula)]


def _warped(history: Sequence[Trial], method: str | None) -> list[Trial]:
    if method is None:
        return list(history)
    ok = [i for i, t in enumerate(history) if t.ok]
    if len(ok) < 3:
        return list(history)
    new = warp_values([history[i].value for i in ok], method)  # type: ignore[misc]
    out = list(history)
    for i, v in zip(ok, new, strict=True):
        out[i] = history[i].model_copy(update={"value": v})
    return out


class AutoStrategy(Strategy):
    """Delegates each ask to the sampler ``choose`` picks; ``label`` says which ("auto:gp")."""

    name = "auto"

    def __init__(
        self, *, direction: str, seed: int | None = None, budget: int | None = None, config: AutoConfig = DEFAULT_CONFIG
    ) -> None:
        super().__init__(direction=direction, seed=seed, budget=budget)
        self.config = config
        # One instance per sampler; all are stateless, this only saves re-building them.
        self._delegates: dict[str, OptunaStrategy] = {}

    def delegate(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> OptunaStrategy:
        """The strategy that the next ``ask`` with these arguments will use."""
        name, startup = self.pick(space, history), self.gp_startup(history, n)
        complete = sum(t.ok for t in history)
        batch = self.config.batch_startup
        if (
            n > 1
            and batch is not None
            and complete >= batch
            and not space.is_conditional()
            and len(space) <= GP_MAX_DIMS
            and name in (self.config.startup, "gp")
        ):
            name, startup = "gp", 2  # it needs two results to standardise
        return self._sampler(name, startup, warped=self.warps_inputs(n))

    def warps_inputs(self, n: int = 1) -> bool:
        """Whether GP asks for ``n`` points use the input-warped GP (``AutoConfig.input_warping``)."""
        mode = self.config.input_warping
        return mode is True or (mode == "batch" and n > 1)

    def gp_startup(self, history: Sequence[Trial], n: int = 1) -> int:
        """GPSampler's random start-up: ``gp_startup``, plus the default and priors tried (``startup_adds``),
        ending at a round boundary when a batch of ``n > 1`` is asked (``round_startup``)."""
        config = self.config
        startup = config.gp_startup
        if config.startup_adds:
            startup += sum(
                1 for t in history if t.ok and (t.proposer is ProposerKind.DEFAULT or t.strategy == "auto:prior")
            )
            if config.round_startup and n > 1:
                startup = max(config.gp_startup, n * (startup // n))
        return startup

    def pick(self, space: SearchSpace, history: Sequence[Trial]) -> str:
        """The sampler of the next ask: ``choose``, then the GP/TPE hedges of the config where GP would serve."""
        name = choose(space, history, self.budget, self.config)
        config = self.config
        if name != "gp":
            return name
        if config.tpe_min_dims is not None and len(space) >= config.tpe_min_dims:
            return "tpe"
        if not (config.tpe_every or config.portfolio):
            return name
        live = [t for t in history if t.state is not TrialState.CANCELLED]
        startup = self.gp_startup(history)
        if sum(t.ok for t in live) < startup:
            return name
        model = [t for t in live[startup:] if t.strategy in ("auto:gp", "auto:tpe")]
        if config.tpe_every:
            return "tpe" if len(model) % config.tpe_every == config.tpe_every - 1 else "gp"
        return _portfolio_pick(model, [t for t in live if t.ok], self.direction)

    def _sampler(self, name: str, startup: int, *, warped: bool = False) -> OptunaStrategy:
        """The (cached) Optuna strategy ``name``; ``startup`` is GP's random start-up; ``warped``: GP warps inputs."""
        key = f"{name}:{startup}:{'w' if warped else ''}" if name == "gp" else name
        if key not in self._delegates:
            options: dict[str, Any] = {}
            if name == "gp":
                options = {"n_startup_trials": startup}
                if warped:
                    options["input_warping"] = True
            self._delegates[key] = OptunaStrategy(
                name, direction=self.direction, seed=self.seed, budget=self.budget, options=options
            )
        return self._delegates[key]

    def untried_priors(self, space: SearchSpace, history: Sequence[Trial]) -> list[dict[str, Any]]:
        """The prior configurations for ``space`` that ``history`` has not tried (any state but cancelled)."""
        wanted = self.config.priors
        if wanted is False:
            return []
        # True: this version's priors only, so a candidate built for a later one (``build_priors.py --since``)
        # can sit in priors.json, measured beside today's auto, without changing what auto proposes
        priors = prior_configs(space, upto=int(VERSION) if wanted is True else wanted)
        if not priors:  # most spaces: skip the pass over the history
            return []
        tried = bridge.tried_keys(space, history)
        return [c for c in priors if config_key(c) not in tried]

    def ask(self, space: SearchSpace, history: Sequence[Trial], n: int = 1) -> list[dict[str, Any]]:
        warm = self.untried_priors(space, history)[:n]
        if not warm:
            return self._ask(space, history, n)
        if len(warm) == n:
            return warm
        # The rest of the batch is proposed with the priors as running trials, so samplers spread from them.
        return warm + self._ask(space, [*history, *_pending(history, warm)], n - len(warm))

    def _ask(self, space: SearchSpace, history: Sequence[Trial], n: int) -> list[dict[str, Any]]:
        strategy = self.delegate(space, history, n)
        if strategy.name != "gp":
            return strategy.ask(space, history, n)
        hedge = min(self.config.batch_tpe, n - 1) if n > 1 and sum(t.ok for t in history) >= 2 else 0
        configs = strategy.ask(space, _warped(history, self.config.warp), n - hedge)
        if hedge:
            # GP's picks join the history as running trials: TPE's constant liar spreads away from them.
            configs += self._sampler("tpe", 0).ask(space, [*history, *_pending(history, configs)], hedge)
        return configs

    def label(self, space: SearchSpace, history: Sequence[Trial]) -> str:
        if self.untried_priors(space, history):
            return "auto:prior"
        return f"auto:{self.pick(space, history)}"


def _pending(history: Sequence[Trial], configs: Sequence[dict[str, Any]]) -> list[Trial]:
    """``configs`` as running trials numbered after ``history``."""
    first = max((t.number for t in history), default=-1) + 1
    return [Trial(number=first + i, params=c) for i, c in enumerate(configs)]


def _portfolio_pick(model: Sequence[Trial], complete: Sequence[Trial], direction: str) -> str:
    """GP or TPE, by how their model-phase proposals ranked among ``complete`` (see ``AutoConfig.portfolio``)."""
    labels = [t.strategy for t in model]
    counts = {name: labels.count(f"auto:{name}") for name in ("gp", "tpe")}
    if min(counts.values()) < 2:  # turns first: each needs evidence
        return "gp" if counts["gp"] <= counts["tpe"] else "tpe"
    if "auto:tpe" not in labels[-3:] and len(labels) >= 3:
        return "tpe"
    if "auto:gp" not in labels[-3:] and len(labels) >= 3:
        return "gp"
    sign = 1.0 if direction == "minimize" else -1.0
    scored = {t.number: sign * t.value for t in complete if t.value is not None}
    values = np.array(list(scored.values()), dtype=float)
    order = {number: float(np.mean(values < v)) for number, v in scored.items()}  # the share better than it
    mean = {}
    for name in ("gp", "tpe"):
        ranks = [order[t.number] for t in model if t.strategy == f"auto:{name}" and t.number in order]
        mean[name] = float(np.mean(ranks)) if ranks else 1.0
    return "tpe" if mean["tpe"] < mean["gp"] else "gp"
