"""The optimizers a benchmark compares ("contenders"), each built as an ``agent.study.proposers.Proposer``.

A contender is a name, a factory ``ContenderContext -> Proposer`` and whether the harness runs the
problem's default configuration first (as tunesmith's engine does when a spec has a ``default``).
Every contender of a run gets the same problems, seeds and budget.

Built in:

=================  ==============================================================================
``auto``           tunesmith's default: the default configuration first, then ``AutoStrategy``
``tpe`` ``gp``     Optuna's samplers, used as a user of Optuna would (no default configuration)
``cmaes`` ``qmc``
``random``
``default``        control: the default configuration only (one evaluation)
``random+default`` control: the default configuration, then random search
``hebo``           peers (``evals.peers``, the optional ``tunesmith[peers]`` extra): HEBO 0.3.6 with its
``hebo-2020``      defaults, HEBO's 2020 challenge entry, SMAC3's BlackBox (GP) and HPO (random forest)
``smac``           facades; each runs the default configuration first, like ``auto``, and is told it
``smac-hpo``
=================  ==============================================================================

**Hook for the LLM agent** (and any other optimizer): ``register_contender(Contender(name, build, ...))``.
``build`` receives the ``ContenderContext`` and returns any ``Proposer``; the harness asks it with
``propose(ProposalContext, n)`` and tells it every finished trial with ``observe``. A proposer that has
a ``usage`` attribute with ``prompt_tokens``/``completion_tokens`` (``agent.llm.base.Usage``) gets its
tokens reported per unit. The proposer never sees held-out (test) losses: trials carry only the
validation loss. ``agent`` is the LLM agent (``evals.llm_contender``: the hybrid proposer with ``auto`` as its
fallback); it needs an endpoint (``OPENAI_BASE_URL``/``OPENAI_API_KEY``, or the config file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from agent.core.records import TrialDraft
from agent.core.space import SearchSpace
from agent.errors import TunesmithError
from agent.strategies import make_strategy
from agent.strategies.auto import VERSION as AUTO_VERSION
from agent.study.proposers import ProposalContext, Proposer, StrategyProposer
from evals.peers import PEERS, check_peer


@dataclass(frozen=True)
class ContenderContext:
    """What a contender factory may use to build its proposer for one unit."""

    problem: str
    space: SearchSpace
    default: dict[str, Any]
    direction: str
    seed: int
    budget: int
    batch: int
    task: str = ""  # what is tuned, in words (``Problem.task``): the LLM agent's task description


@dataclass(frozen=True)
class Contender:
    name: str
    build: Callable[[ContenderContext], Proposer]
    default_first: bool = False
    description: str = ""
    #: bump when the contender's behaviour changes, so cached results of the old one are recomputed
    version: str = "1"
    #: raises ``TunesmithError`` (one line: what to install) when the contender cannot run here; cheap
    check: Callable[[], None] | None = None


class NothingProposer(Proposer):
    """Proposes nothing: with ``default_first`` the unit is the default configuration alone."""

    name = "default"

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        return []


def _strategy(name: str) -> Callable[[ContenderContext], Proposer]:
    def build(ctx: ContenderContext) -> Proposer:
        return StrategyProposer(make_strategy(name, direction=ctx.direction, seed=ctx.seed, budget=ctx.budget))

    return build


def _agent(ctx: ContenderContext) -> Proposer:
    """The LLM agent (evals/llm_contender.py) behind the same seam; a one-line error says what is missing."""
    from agent.llm.settings import HOW_TO_CONNECT, resolve_settings

    if not resolve_settings().configured:
        raise TunesmithError(
            f"the 'agent' contender needs an LLM endpoint: {HOW_TO_CONNECT}; or leave 'agent' out of --strategies"
        )
    from evals.llm_contender import make_eval_proposer

    return make_eval_proposer(ctx)


def _peer(name: str) -> Callable[[ContenderContext], Proposer]:
    """A peer library's optimizer (evals/peers/); its package is imported only when a unit is built."""

    def build(ctx: ContenderContext) -> Proposer:
        from evals.peers import build_peer

        return build_peer(name, ctx)

    return build


_REGISTRY: dict[str, Contender] = {}


def register_contender(contender: Contender) -> None:
    """Add (or replace) a contender; names are what ``--strategies`` accepts."""
    _REGISTRY[contender.name] = contender


for _name, _desc in (
    ("tpe", "Optuna TPE (multivariate)"),
    ("gp", "Optuna GPSampler"),
    ("cmaes", "Optuna CMA-ES"),
    ("qmc", "scrambled Sobol"),
    ("random", "random search"),
):
    register_contender(Contender(_name, _strategy(_name), description=_desc))
register_contender(
    Contender(
        "auto",
        _strategy("auto"),
        default_first=True,
        version=AUTO_VERSION,
        description="tunesmith's default: default configuration, then AutoStrategy",
    )
)
register_contender(
    Contender(
        "default",
        lambda ctx: NothingProposer(),
        default_first=True,
        description="control: the default configuration only",
    )
)
register_contender(
    Contender(
        "random+default",
        _strategy("random"),
        default_first=True,
        description="control: the default configuration, then random search",
    )
)
register_contender(Contender("agent", _agent, default_first=True, description="the LLM agent (needs an endpoint)"))
for _name, _desc in PEERS.items():
    register_contender(
        Contender(_name, _peer(_name), default_first=True, description=_desc, check=partial(check_peer, _name))
    )

#: what ``tunesmith eval`` compares when ``--strategies`` is not given
DEFAULT_CONTENDERS = ("auto", "tpe", "gp", "cmaes", "qmc", "random", "default", "random+default")


def get_contender(name: str) -> Contender:
    """The contender ``name``; ``TunesmithError`` when it is unknown or cannot run here (its ``check``)."""
    if name not in _REGISTRY:
        raise TunesmithError(f"unknown strategy '{name}'; choose from {', '.join(_REGISTRY)}")
    contender = _REGISTRY[name]
    if contender.check is not None:
        contender.check()
    return contender


def contender_names() -> list[str]:
    return list(_REGISTRY)
