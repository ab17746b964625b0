"""The agent's own tools (tools/: ``query_history``, ``inspect_trial``, ``edit_space``) over a study handle.

Chat and the web page use the very tools the hybrid loop gives the model, through ``agent.hybrid.actions.Actions``.
What differs is where a change goes: a search-space edit waits for approval (``leave_pending``), and an
approved one reaches the study through its command channel, so it applies in whichever process runs it.
"""

from __future__ import annotations

from agent.core.records import ProposerKind
from agent.core.space import SearchSpace
from agent.errors import SpecError
from agent.faces.handle import StudyHandle
from agent.hybrid.actions import Actions
from agent.hybrid.space_edit import SpaceEditor, leave_pending
from tools.toolbox import Toolbox, build_toolbox

AGENT_TOOLS = ("query_history", "inspect_trial", "edit_space")


def space_editor(handle: StudyHandle) -> SpaceEditor:
    """Checks edits against the study's current space; applies approved ones through the command channel."""

    def apply(new: SearchSpace, *, rationale: str, source: str) -> None:
        reply = handle.send("set_space", {"space": new.model_dump(mode="json"), "rationale": rationale})
        if not reply.ok:
            raise SpecError(reply.message)

    def current() -> SearchSpace:
        return handle.space

    return SpaceEditor(
        current=current, apply=apply, emit=handle.store.record, approve=leave_pending, fixed=handle.spec.fixed
    )


def agent_toolbox(handle: StudyHandle, *, model: str | None = None) -> Toolbox:
    def current() -> SearchSpace:
        return handle.space

    actions = Actions(
        spec=handle.spec,
        store=handle.store,
        study_dir=handle.dir,
        space=current,
        history=handle.trials,
        editor=space_editor(handle) if handle.writable else None,
        proposer=ProposerKind.LLM,
        model=model,
    )
    return build_toolbox(actions, only=AGENT_TOOLS)
