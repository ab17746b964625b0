"""Warm-start priors: configurations that did well across the *dev* problems of a well-known model family.

``auto`` proposes them right after the default configuration, before its sampler's own start-up (see
``agent.strategies.auto``). The data (``priors.json`` next to this module) is written by
``scripts/build_priors.py`` from random-search evaluations of the benchmark's dev split only: for each
family of scikit-learn models that shares one search space (bayesmark's spaces: kNN, SVM, trees, the
linear models; since auto v9 the MLPs trained by Adam and by SGD; v10 rebuilt the trees' one), the few
configurations that, added to the default, most raised the mean over the family's dev data sets of the
score of "the best of the default and these" (a greedy portfolio, as auto-sklearn 2.0 builds one). Each
prior records the ``auto`` version that introduced it (``since``), so ``prior_configs(space, upto=8)``
replays what v8 proposed; a family rebuilt by a later version keeps its older prior in the file, and the
newest prior the version allows applies. ``auto`` itself asks for the priors of its own ``VERSION``, so a
candidate built for the next version changes nothing until that version is adopted.

Contract of ``prior_configs(space)``: a prior applies to a space whose parameter names are exactly the
prior's and that has no conditional parameters; each value is projected into the space (numbers clipped to
the range and rounded for ints, a categorical value kept only if it is one of the choices), and a
configuration that still does not fit is dropped. Everything returned is a valid configuration of
``space``; a space that matches no prior gets ``[]`` and ``auto`` behaves as without priors.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace
from agent.errors import ConfigError

PRIORS_PATH = Path(__file__).resolve().with_name("priors.json")


@functools.cache
def load_priors(path: Path = PRIORS_PATH) -> tuple[tuple[frozenset[str], tuple[dict[str, Any], ...], int], ...]:
    """``(parameter names, configurations, since)`` per prior; no file means no priors. ``since``: the ``auto``
    version that introduced the prior (0 where the file does not say)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    return tuple((frozenset(p["params"]), tuple(p["configs"]), int(p.get("since", 0))) for p in data["priors"])


def _project(space: SearchSpace, config: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for name, p in space.params.items():
        v = config[name]
        if isinstance(p, CategoricalParam):
            if v not in p.choices:
                return None
        elif isinstance(p, IntParam | FloatParam):
            if isinstance(v, bool) or not isinstance(v, int | float):
                return None
            v = min(max(v, p.low), p.high)
            if isinstance(p, IntParam):
                v = round(v)
        out[name] = v
    try:
        return space.check_config(out)
    except ConfigError:
        return None  # e.g. off a stepped grid


def prior_configs(space: SearchSpace, path: Path = PRIORS_PATH, *, upto: int | None = None) -> list[dict[str, Any]]:
    """The prior configurations for ``space``, best first (contract in the module docstring); ``upto``: only
    priors that ``auto`` version had (so an older version's proposals can be re-run beside a newer one)."""
    if space.is_conditional():
        return []
    names = frozenset(space.params)
    found: tuple[int, tuple[dict[str, Any], ...]] | None = None
    for params, configs, since in load_priors(path):
        # a rebuilt family keeps its older prior (for replays): the newest one ``upto`` allows applies
        if params == names and (upto is None or since <= upto) and (found is None or since > found[0]):
            found = (since, configs)
    if found is None:
        return []
    return [c for c in (_project(space, dict(cfg)) for cfg in found[1]) if c is not None]
