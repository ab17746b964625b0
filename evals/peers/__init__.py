"""Other libraries' optimizers as eval contenders ("peers"), each behind the ``Proposer`` seam.

=============  =================================================================================
``hebo``       HEBO 0.3.6 with its defaults (``hebo.py``)
``hebo-2020``  HEBO's NeurIPS 2020 black-box challenge entry: input-warped GPy GP (``hebo.py``)
``smac``       SMAC3's BlackBox facade: a Gaussian process (``smac.py``)
``smac-hpo``   SMAC3's HyperparameterOptimization facade: a random forest (``smac.py``)
=============  =================================================================================

They are an optional extra: ``pip install 'tunesmith[peers]'`` installs SMAC3 and HEBO's runtime
dependencies; HEBO itself pins ``numpy<1.25``, which pip cannot resolve beside numpy 2, so it is installed
without its pins as a second step, ``pip install --no-deps HEBO==0.3.6`` (both steps: ``make peers``). The
peer packages are imported only when a peer contender is built; a missing one stops with one line that says
what to install. Nothing in ``agent/`` imports this package.

What every adapter keeps the same as our own strategies (``common.py``): the search space translated to the
peer's (conditional parameters: natively for SMAC3, flattened for HEBO), finished trials told as they are,
failed ones as an infeasible loss (worse than any seen, as ``agent.strategies.optuna_bridge`` does),
proposals seeded from the unit's seed, and a batch of ``n`` asked at once in the peer's own way.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from agent.errors import TunesmithError

if TYPE_CHECKING:  # evals.contenders imports this package's builders lazily; no import cycle at run time
    from agent.study.proposers import Proposer
    from evals.contenders import ContenderContext

INSTALL_PEERS = "pip install 'tunesmith[peers]'"
INSTALL_HEBO = f"{INSTALL_PEERS} && pip install --no-deps HEBO==0.3.6"

#: the top-level modules each peer imports, and the command that installs them
_NEEDS = {
    "hebo": (("hebo", "GPy", "gpytorch", "pymoo", "disjoint_set"), INSTALL_HEBO),
    "smac": (("smac", "ConfigSpace"), INSTALL_PEERS),
}

#: contender name -> what it is (the contender's description)
PEERS = {
    "hebo": "HEBO 0.3.6, its defaults (peer: pip install 'tunesmith[peers]' + HEBO, see make peers)",
    "hebo-2020": "HEBO's 2020 challenge entry: input-warped GPy GP, Sobol until 4 x batch points (peer)",
    "smac": "SMAC3 BlackBox facade, Gaussian process (peer: pip install 'tunesmith[peers]')",
    "smac-hpo": "SMAC3 HPO facade, random forest (peer: pip install 'tunesmith[peers]')",
}


def build_peer(name: str, ctx: ContenderContext) -> Proposer:
    """The proposer of peer ``name`` for one unit; ``TunesmithError`` (one line) when its package is missing."""
    if name in ("hebo", "hebo-2020"):
        from evals.peers.hebo import HeboProposer

        return HeboProposer(ctx, variant=name)
    if name in ("smac", "smac-hpo"):
        from evals.peers.smac import SmacProposer

        return SmacProposer(ctx, variant=name)
    raise ValueError(f"unknown peer '{name}'; choose from {', '.join(PEERS)}")


def check_peer(name: str) -> None:
    """Raise ``TunesmithError`` (one line: what to install) unless peer ``name``'s packages are installed.

    Cheap (nothing is imported), so ``tunesmith eval`` can refuse before its first unit."""
    modules, install = _NEEDS[name.split("-")[0]]
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (tests do)
            found = False
        if not found:
            raise TunesmithError(missing(name, module, install))


def missing(contender: str, module: str, install: str) -> str:
    """The one-line message for a peer whose ``module`` is not installed."""
    return (
        f"the '{contender}' contender needs {module}, which is not installed: {install} "
        "(or leave it out of --strategies)"
    )
