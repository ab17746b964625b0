"""``hebo`` and ``hebo-2020``: HEBO 0.3.6 (Huawei's heteroscedastic evolutionary BO) behind the ``Proposer`` seam.

**Variants.** ``hebo`` is ``HEBO(space)`` with its defaults: a gpytorch GP on power-transformed losses, ``1 + d``
scrambled Sobol start points, the MACE acquisition ensemble (UCB, EI, PI) optimised by NSGA-II (100 x 100).
``hebo-2020`` is the configuration of HEBO's winning entry to the NeurIPS 2020 black-box optimization
challenge (``archived_submissions/hebo/optimizer_mace.py`` in huawei-noah/HEBO): model ``gpy`` (a GPy GP
with Kumaraswamy input warping, linear + Matern-3/2 kernel, 10 restarts) and Sobol start points while fewer
than ``4 x batch`` points are known (32 at the challenge's 16 x 8; 4 at 30 x 1). It runs on HEBO 0.3.6's
code, which differs from the entry in two details: its Sobol sequence is scrambled (seeded; the entry's was
not), and when the output transform fails it refits on all losses (the entry dropped outliers first).

**Batches.** ``suggest(n)`` returns ``n`` points of the Pareto front of the MACE objectives (with ``n > 2``,
one of them the most uncertain and one the best predicted), from one model fit.

**Stateless.** Every ask builds a new HEBO from the space, tells it the history (``common.told_losses``;
failed trials as an infeasible loss), moves its Sobol sequence past the points this contender proposed
before, and asks under generators seeded from ``(seed, len(history))``: the same history gives the same
proposals, in any process. The default configuration is told like any trial (``default_first``).

**Space.** float -> ``num``, log float -> ``pow`` (base 10), int -> ``int``, log int -> ``pow_int``, a
gridded float or int -> ``int`` on the grid index, categorical -> ``cat`` on the choice index. HEBO has no
conditional parameters, so a conditional space is flattened: every parameter is in HEBO's space, a trial's
inactive parameters are told at a fixed placeholder (``low``, index 0) and a proposal's inactive ones dropped.

**On numpy 2** (HEBO pins numpy<1.25, pymoo==0.6.0; ``_load`` adapts 0.3.6 without patching files): pymoo
0.6.2 seeds each run from fresh OS entropy, so ``_load`` passes its ``minimize`` a seed drawn from numpy's
(seeded) global generator, as pymoo 0.6.0 did; HEBO 0.3.6 describes a ``gpy`` model but does not register
it, so ``_load`` does; importing HEBO sets torch to one thread, so ``_load`` restores the count (other
contenders in the process keep theirs; the harness's workers run one thread each anyway).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from agent.core.records import ProposerKind, Trial, TrialDraft
from agent.core.space import CategoricalParam, SearchSpace
from agent.strategies.optuna_strategy import derive_seed
from agent.study.proposers import ProposalContext, Proposer
from evals.peers import INSTALL_HEBO
from evals.peers.common import (
    choice_index,
    clip,
    from_index,
    grid_size,
    require,
    seeded,
    to_index,
    told_losses,
)

if TYPE_CHECKING:
    from evals.contenders import ContenderContext

_LOADED = threading.Lock()
_loaded = False


def _load(contender: str) -> type[Any]:
    """Import HEBO (one-line error when missing), adapted to today's stack (module docstring); its class."""
    global _loaded
    import torch

    threads = torch.get_num_threads()
    require("hebo.optimizers.hebo", contender=contender, install=INSTALL_HEBO)
    require("GPy", contender=contender, install=INSTALL_HEBO)
    from hebo.acq_optimizers import evolution_optimizer
    from hebo.models import model_factory
    from hebo.models.gp.gpy_wgp import GPyGP
    from hebo.optimizers.hebo import HEBO

    with _LOADED:
        if not _loaded:
            torch.set_num_threads(threads)
            model_factory.model_dict.setdefault("gpy", GPyGP)
            pymoo_minimize = evolution_optimizer.minimize

            def minimize(*args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("seed", int(np.random.randint(2**31)))
                return pymoo_minimize(*args, **kwargs)

            evolution_optimizer.minimize = minimize
            _loaded = True
    hebo_class: type[Any] = HEBO
    return hebo_class


class HeboProposer(Proposer):
    """One unit's HEBO (``variant``: ``hebo`` or ``hebo-2020``); stateless between asks."""

    def __init__(self, ctx: ContenderContext, *, variant: str) -> None:
        if variant not in ("hebo", "hebo-2020"):
            raise ValueError(f"unknown HEBO variant '{variant}'; choose hebo or hebo-2020")
        self._hebo = _load(variant)
        self.name = variant
        self._seed = ctx.seed
        self._batch = ctx.batch

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        if n <= 0:
            return []
        space = ctx.space
        told = told_losses(ctx.history, space, ctx.direction)
        design, sobol_seed = _design(space), derive_seed(self._seed)
        if self.name == "hebo-2020":
            opt = self._hebo(design, model_name="gpy", rand_sample=4 * self._batch, scramble_seed=sobol_seed)
        else:
            opt = self._hebo(design, scramble_seed=sobol_seed)
        # Skip the Sobol points this contender proposed before (its trials carry its name), so a stateless
        # HEBO does not repeat its start design.
        opt.sobol.fast_forward(sum(1 for t in ctx.history if t.strategy == self.name))
        with warnings.catch_warnings(), seeded(derive_seed(self._seed, len(ctx.history))):
            warnings.simplefilter("ignore")  # pandas, sklearn and GPy notices; nothing we act on
            if told:
                opt.observe(_frame(space, [t for t, _ in told]), np.array([[loss] for _, loss in told]))
            rec = opt.suggest(n_suggestions=n)
        rows = [rec.iloc[i].to_dict() for i in range(min(n, len(rec)))]
        return [
            TrialDraft(params=_params(space, row), proposer=ProposerKind.STRATEGY, strategy=self.name) for row in rows
        ]


def _design(space: SearchSpace) -> Any:
    """HEBO's ``DesignSpace`` for ``space`` (every parameter, conditional ones included; module docstring)."""
    from hebo.design_space.design_space import DesignSpace

    rec: list[dict[str, Any]] = []
    for name in space.order:
        p = space.params[name]
        if isinstance(p, CategoricalParam):
            rec.append({"name": name, "type": "cat", "categories": [str(i) for i in range(len(p.choices))]})
        elif (size := grid_size(p)) is not None:
            rec.append({"name": name, "type": "int", "lb": 0, "ub": size})
        elif p.type == "int":
            rec.append({"name": name, "type": "pow_int" if p.log else "int", "lb": p.low, "ub": p.high})
        else:
            rec.append({"name": name, "type": "pow" if p.log else "num", "lb": p.low, "ub": p.high})
    return DesignSpace().parse(rec)


def _frame(space: SearchSpace, trials: Sequence[Trial]) -> Any:
    """The trials as HEBO's input frame: one column per parameter, inactive ones at their placeholder."""
    import pandas as pd

    rows = []
    for t in trials:
        row: dict[str, Any] = {}
        for name in space.order:
            p, active = space.params[name], name in t.params
            if isinstance(p, CategoricalParam):
                row[name] = str(choice_index(p, t.params[name]) if active else 0)
            elif grid_size(p) is not None:
                row[name] = to_index(p, t.params[name]) if active else 0
            elif p.type == "int":
                row[name] = int(t.params[name]) if active else p.low
            else:
                row[name] = float(t.params[name]) if active else p.low
        rows.append(row)
    return pd.DataFrame(rows, columns=space.order)


def _params(space: SearchSpace, row: dict[str, Any]) -> dict[str, Any]:
    """A HEBO suggestion as a configuration of ``space``: active parameters only, in range."""
    params: dict[str, Any] = {}
    for name in space.order:
        if not space.is_active(name, params):
            continue
        p, value = space.params[name], row[name]
        if isinstance(p, CategoricalParam):
            params[name] = p.choices[int(value)]
        elif grid_size(p) is not None:
            params[name] = from_index(p, value)
        else:
            params[name] = clip(p, value)
    return params
