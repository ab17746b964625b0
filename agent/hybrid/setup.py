"""Wiring for LLM studies (CLI, Python API, chat and web): settings → client stack → hybrid proposer for a session.

stack = open_stack(settings, spec)                 # or replay=load_recording(OLD_DIR)
session = Session.create(spec, dir, request=text)
stack.cache.record_to(session.dir)                 # every answer is recorded for --replay
session.run(proposer=make_hybrid(session, stack, approve=approver(yes=...)))
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from agent.core.events import LlmMissing
from agent.core.spec import StudySpec
from agent.errors import LLMError, StudyError
from agent.hybrid.proposer import HybridConfig, HybridProposer
from agent.hybrid.space_edit import Approver, approve_all, leave_pending
from agent.llm.factory import ClientStack, build_stack
from agent.llm.settings import HOW_TO_CONNECT, LLMSettings, resolve_settings
from agent.llm.usage import UsageMeter
from agent.study.proposers import Proposer, StrategyProposer
from agent.study.session import Session


def interactive() -> bool:
    """Whether a person can answer questions in this terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def approver(*, yes: bool, ask: Callable[[str], bool] | None = None) -> Approver:
    """``--yes`` approves every edit; with a terminal, a person decides; otherwise edits stay pending."""
    if yes:
        return approve_all
    if ask is None:
        return leave_pending
    return lambda text: ask(f"The model proposes a search-space edit: {text}\nApply it?")


def open_stack(
    settings: LLMSettings,
    spec: StudySpec | None = None,
    *,
    replay: list[dict[str, Any]] | None = None,
    adapter: Any = None,
) -> ClientStack:
    """The client stack with the spec's token/cost budget and prices."""
    llm = spec.llm if spec is not None else None
    meter = UsageMeter(
        prices=settings.prices, max_tokens=llm.max_tokens if llm else None, max_cost=llm.max_cost if llm else None
    )
    return build_stack(settings, meter=meter, adapter=adapter, replay=replay)


def make_hybrid(session: Session, stack: ClientStack, *, approve: Approver = leave_pending) -> HybridProposer:
    fallback = session.default_proposer()
    if not isinstance(fallback, StrategyProposer):  # our wiring's bug, not the user's
        raise TypeError(f"the hybrid needs a classical strategy to fall back to, got {fallback!r}")
    return HybridProposer(
        client=stack.client,
        fallback=fallback,
        config=HybridConfig.from_spec(session.spec.llm),
        approve=approve,
        meter=stack.meter,
    )


def python_stack(spec: Any, llm: Any, *, request: str | None, trials: int | None) -> tuple[ClientStack, StudySpec]:
    """For ``tunesmith.tune(..., llm=...)``: the client stack and the spec (drafted when ``spec`` is a request)."""
    from agent.core.spec import load_spec
    from agent.errors import TunesmithError
    from agent.hybrid.request import draft_spec
    from agent.llm.base import LLMClient
    from agent.llm.langchain_client import LangChainClient
    from agent.llm.settings import HOW_TO_CONNECT, resolve_settings

    loaded = None if request is not None else load_spec(spec)
    adapter: LLMClient | None = None
    if isinstance(llm, LLMClient):
        adapter = llm
    elif llm is not None and hasattr(llm, "bind_tools"):
        adapter = LangChainClient(llm)
    elif llm is not None and not isinstance(llm, str):
        raise TypeError(f"llm must be a model name, a LangChain chat model or an LLMClient, not {type(llm).__name__}")
    settings = resolve_settings(model=llm if isinstance(llm, str) else None, spec_llm=loaded.llm if loaded else None)
    if adapter is None and not settings.configured:
        raise TunesmithError(f"no LLM is configured; {HOW_TO_CONNECT}")
    if adapter is not None:
        settings = settings.model_copy(update={"model": adapter.model})
    stack = open_stack(settings, loaded, adapter=adapter)
    if loaded is None:
        assert request is not None
        loaded = draft_spec(request, stack.client, trials=trials, llm=settings.public()).spec
    elif loaded.llm is None:
        data = loaded.to_dict()
        data["llm"] = {k: v for k, v in settings.public().items() if v is not None}
        loaded = load_spec(data)
    return stack, loaded


def proposer_for(session: Session) -> Proposer | None:
    """The hybrid for an LLM study run from the chat or the web page (None: the session's classical proposer).

    A study whose spec has an ``llm`` section resumes with the hybrid when an endpoint is configured, as
    ``tunesmith resume`` does; its space edits then wait for a person's /approve in any face. Without an
    endpoint the classical strategy carries on, and an ``llm_missing`` event says how to connect one.
    """
    if session.spec.llm is None:
        return None
    settings = resolve_settings(spec_llm=session.spec.llm)
    if not settings.configured:
        session.store.record(LlmMissing(message=f"the classical strategy continues; to use the LLM, {HOW_TO_CONNECT}"))
        return None
    try:
        stack = open_stack(settings, session.spec)
    except LLMError as exc:
        session.store.record(LlmMissing(message=f"the classical strategy continues ({exc})"))
        return None
    try:
        stack.cache.record_to(session.dir)
    except OSError as exc:
        raise StudyError(f"cannot write the LLM recording in {session.dir}: {exc}") from None
    return make_hybrid(session, stack, approve=leave_pending)
