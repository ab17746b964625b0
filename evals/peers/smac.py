"""``smac`` and ``smac-hpo``: SMAC3 2.4 behind the ``Proposer`` seam, through its ask/tell interface.

**Variants**, each a SMAC3 facade with its defaults: ``smac`` is ``BlackBoxFacade`` (a Gaussian process,
EI, a Sobol initial design of 8 configurations per parameter, the model retrained after every new result);
``smac-hpo`` is ``HyperparameterOptimizationFacade`` (a random forest on log-scaled costs, log EI,
interleaved random configurations, a Sobol initial design of 10 per parameter, retrained every 8
configurations). Both cap the initial design at a quarter of the budget (``Scenario.n_trials`` is the
unit's budget); the scenario is deterministic (one evaluation per configuration) and seeded with the unit's seed.

**Stateful.** SMAC3 keeps its run history, initial design and intensifier inside the facade, which cannot
be rebuilt from a history without replaying it, so one facade lives in the proposer for the unit (built at
the first ask, so its cost counts as ask time). Each ask first tells the facade every finished trial not
told yet (``common.told_losses``: a failed trial as ``CRASHED`` with an infeasible loss, worse than any seen
by then; one that failed before any real result is told once a real result exists), then asks ``n`` times.

**Batches**: SMAC3's own parallel mode: ``ask()`` again before the results are told; an asked configuration
is RUNNING in the run history and never returned twice, and the surrogate is retrained only when new
results came in, so a batch is the next ``n`` configurations of one model's ranking (after the initial design).

**A small space runs out.** SMAC3 never proposes a configuration twice; once it finds no new one
(``ConfigurationSpaceExhaustedException``: a kNN space of a few dozen configurations at 16x8) the proposer
returns what it has, possibly nothing, and the harness ends the unit there (its score keeps its last state).

**Space.** float / int (with ``log``) -> ``Float`` / ``Integer``, a gridded float or int -> ``Integer`` on the
grid index, categorical -> ``Categorical`` on the choice index; ``when`` conditions -> ``InCondition`` (an
``AndConjunction`` over several parents): SMAC3 models conditional spaces natively. A trial SMAC3 did not
propose (the default, run first by the harness) is told as a trial of the intensifier's seed.

Run files go to a temporary directory, removed by ``close``.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.core.records import ProposerKind, TrialDraft, TrialState
from agent.core.space import CategoricalParam, SearchSpace, config_key
from agent.study.proposers import ProposalContext, Proposer
from evals.peers import INSTALL_PEERS
from evals.peers.common import choice_index, clip, from_index, grid_size, require, to_index, told_losses

if TYPE_CHECKING:
    from evals.contenders import ContenderContext

FACADES = {"smac": "BlackBoxFacade", "smac-hpo": "HyperparameterOptimizationFacade"}


class SmacProposer(Proposer):
    """One unit's SMAC3 facade (``variant``: ``smac`` or ``smac-hpo``); tells finished trials at each ask."""

    def __init__(self, ctx: ContenderContext, *, variant: str) -> None:
        if variant not in FACADES:
            raise ValueError(f"unknown SMAC3 variant '{variant}'; choose {' or '.join(FACADES)}")
        self._smac_module = require("smac", contender=variant, install=INSTALL_PEERS)
        require("ConfigSpace", contender=variant, install=INSTALL_PEERS)
        logging.getLogger("smac").setLevel(logging.ERROR)  # its INFO/WARNING lines would flood the progress bar
        self.name = variant
        self._ctx = ctx
        self._space: SearchSpace = ctx.space
        self._cs = config_space(ctx.space, ctx.seed)
        self._facade: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._asked: dict[str, Any] = {}  # config_key of a proposal -> its TrialInfo, until told
        self._told: set[int] = set()
        self._exhausted = False  # SMAC3 found no configuration it had not asked: it proposes nothing more
        # The seed a trial SMAC3 did not propose is told with: the intensifier's (deterministic: one seed). Before
        # the first ask it adopts the seeds in its run history, so 0 is as good as any; after, it is the asked one.
        self._seed = 0

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        if ctx.space != self._space:
            raise ValueError("SMAC3 cannot change its search space within a study; rerun the unit")
        smac = self._smac()
        self._tell(ctx)
        from smac.main.exceptions import ConfigurationSpaceExhaustedException

        drafts = []
        for _ in range(0 if self._exhausted else max(n, 0)):
            try:
                info = smac.ask()
            except (ConfigurationSpaceExhaustedException, StopIteration):  # StopIteration: asked again after it
                self._exhausted = True  # every configuration of a small discrete space is asked: search complete
                break
            self._seed = info.seed
            params = to_params(self._space, info.config)
            self._asked[config_key(self._space.normalise(params))] = info
            drafts.append(TrialDraft(params=params, proposer=ProposerKind.STRATEGY, strategy=self.name))
        return drafts

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _smac(self) -> Any:
        if self._facade is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tunesmith-smac-")
            scenario = self._smac_module.Scenario(
                self._cs,
                name=self.name,
                output_directory=Path(self._tmp.name),
                deterministic=True,
                n_trials=max(self._ctx.budget, 1),
                seed=self._ctx.seed,
            )
            facade = getattr(self._smac_module, FACADES[self.name])
            self._facade = facade(scenario, _not_called, overwrite=True, logging_level=False)
        return self._facade

    def _tell(self, ctx: ProposalContext) -> None:
        from ConfigSpace import Configuration
        from smac.runhistory import StatusType, TrialInfo, TrialValue

        for trial, loss in told_losses(ctx.history, self._space, ctx.direction):
            if trial.number in self._told:
                continue
            params = self._space.normalise({k: v for k, v in trial.params.items() if k in self._space.params})
            info = self._asked.pop(config_key(params), None)
            if info is None:  # not SMAC3's proposal: the default, or a repeat of one told already
                info = TrialInfo(Configuration(self._cs, values=to_smac(self._space, params)), seed=self._seed)
            ok = trial.ok or trial.state is TrialState.PRUNED
            status = StatusType.SUCCESS if ok else StatusType.CRASHED  # CRASHED: told the infeasible loss
            self._facade.tell(info, TrialValue(cost=loss, status=status), save=False)
            self._told.add(trial.number)


def _not_called(config: Any, seed: int = 0) -> float:
    raise RuntimeError("the eval harness evaluates SMAC3's proposals itself (ask/tell)")


def config_space(space: SearchSpace, seed: int) -> Any:
    """``space`` as a ConfigSpace ``ConfigurationSpace`` (module docstring)."""
    from ConfigSpace import AndConjunction, Categorical, ConfigurationSpace, Float, InCondition, Integer

    cs = ConfigurationSpace(seed=seed)
    hps: dict[str, Any] = {}
    for name in space.order:
        p = space.params[name]
        if isinstance(p, CategoricalParam):
            hps[name] = Categorical(name, [str(i) for i in range(len(p.choices))])
        elif (size := grid_size(p)) is not None:
            hps[name] = Integer(name, (0, size))
        elif p.type == "int":
            hps[name] = Integer(name, (int(p.low), int(p.high)), log=p.log)
        else:
            hps[name] = Float(name, (float(p.low), float(p.high)), log=p.log)
    cs.add(list(hps.values()))
    for name in space.order:
        when = space.params[name].when or {}
        conditions = [
            InCondition(hps[name], hps[parent], [_value(space, parent, v) for v in values])
            for parent, values in when.items()
        ]
        if len(conditions) == 1:
            cs.add(conditions[0])
        elif conditions:
            cs.add(AndConjunction(*conditions))
    return cs


def _value(space: SearchSpace, name: str, value: Any) -> Any:
    """One parameter's value as ConfigSpace holds it."""
    p = space.params[name]
    if isinstance(p, CategoricalParam):
        return str(choice_index(p, value))
    if grid_size(p) is not None:
        return to_index(p, value)
    return int(value) if p.type == "int" else float(clip(p, value))


def to_smac(space: SearchSpace, params: dict[str, Any]) -> dict[str, Any]:
    """A valid configuration of ``space`` as ConfigSpace values."""
    return {name: _value(space, name, v) for name, v in params.items()}


def to_params(space: SearchSpace, config: Any) -> dict[str, Any]:
    """A ConfigSpace configuration (active values only) as a configuration of ``space``."""
    values = dict(config)
    params: dict[str, Any] = {}
    for name in space.order:
        if name not in values:
            continue
        p, v = space.params[name], values[name]
        if isinstance(p, CategoricalParam):
            params[name] = p.choices[int(v)]
        elif grid_size(p) is not None:
            params[name] = from_index(p, v)
        else:
            params[name] = clip(p, v)
    return params
