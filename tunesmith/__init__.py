"""tunesmith's public Python API (a facade: no logic lives here).

``report``/``should_stop``/``params``/``fingerprint`` and the checkpoint helpers (``checkpoint_dir``,
``save_checkpoint``, ``restore_from``) are the trial-side helpers and import only the standard library,
so training scripts stay light; everything else is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.checkpoint import checkpoint_dir, restore_from, save_checkpoint
from sandbox.report import fingerprint, params, report, should_stop

if TYPE_CHECKING:
    from agent.core.records import ProposerKind, Trial, TrialDraft
    from agent.core.space import SearchSpace
    from agent.core.spec import StudySpec, load_spec
    from agent.faces.api import Study, langchain_tools, load, resume, tune
    from agent.study.proposers import ProposalContext, Proposer

__all__ = [
    "ProposalContext",
    "Proposer",
    "ProposerKind",
    "SearchSpace",
    "Study",
    "StudySpec",
    "Trial",
    "TrialDraft",
    "checkpoint_dir",
    "fingerprint",
    "langchain_tools",
    "load",
    "load_spec",
    "params",
    "report",
    "restore_from",
    "resume",
    "save_checkpoint",
    "should_stop",
    "tune",
]
__version__ = "0.1.0"

_LAZY = {
    "tune": "agent.faces.api",
    "load": "agent.faces.api",
    "resume": "agent.faces.api",
    "Study": "agent.faces.api",
    "langchain_tools": "agent.faces.api",
    "Proposer": "agent.study.proposers",
    "ProposalContext": "agent.study.proposers",
    "ProposerKind": "agent.core.records",
    "Trial": "agent.core.records",
    "TrialDraft": "agent.core.records",
    "SearchSpace": "agent.core.space",
    "StudySpec": "agent.core.spec",
    "load_spec": "agent.core.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tunesmith' has no attribute {name!r}")
