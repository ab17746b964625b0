"""The proposer for a study run from the chat or the web page: the LLM hybrid when the study uses an LLM.

A study whose spec has an ``llm`` section (e.g. one drafted from a request) resumes with the hybrid
proposer when an endpoint is configured, as ``tunesmith resume`` does; its space edits then wait for a
person's /approve in any face. Without an endpoint the classical strategy carries on, and an ``llm_missing``
event says how to connect one.
"""

from __future__ import annotations

from agent.errors import LLMError, StudyError
from agent.llm.settings import HOW_TO_CONNECT, resolve_settings
from agent.llm_setup import make_hybrid, open_stack
from agent.proposers import Proposer
from agent.session import Session
from agent.space_edit import leave_pending


def proposer_for(session: Session) -> Proposer | None:
    """The hybrid for an LLM study (None: the session's default, classical proposer)."""
    if session.spec.llm is None:
        return None
    settings = resolve_settings(spec_llm=session.spec.llm)
    if not settings.configured:
        session.store.add_event("llm_missing", {"message": f"the classical strategy continues; to use the LLM, "
                                                           f"{HOW_TO_CONNECT}"})
        return None
    try:
        stack = open_stack(settings, session.spec)
    except LLMError as exc:
        session.store.add_event("llm_missing", {"message": f"the classical strategy continues ({exc})"})
        return None
    try:
        stack.cache.record_to(session.dir)
    except OSError as exc:
        raise StudyError(f"cannot write the LLM recording in {session.dir}: {exc}") from None
    return make_hybrid(session, stack, approve=leave_pending)
