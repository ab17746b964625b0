"""Changes to a study wait for a person's explicit approval; a chat model can only propose them.

Two kinds of proposal wait in the study's event log, and ``/approve`` (terminal, web chat or the web page's
button, which names the proposal it shows: ``/approve ID``) applies the latest of either:

* ``change_proposed`` — a budget change or a whole new space from a slash-command or the chat's
  ``propose_budget`` tool, or stop / pause / resume from the chat's ``steer`` tool (``by: model`` when a
  model proposed it); decided by ``change_approved`` / ``change_rejected``. A newer one replaces it.
* ``space_edit_proposed`` — an ``edit_space`` call of the agent's tools (from the chat, or from an LLM-driven
  study running elsewhere); decided through ``agent.hybrid.space_edit.decide_pending`` (``space_edit_decided``).

Approved changes go through the study's command channel, so they apply wherever the study runs. Living in
the event log, a proposal made in one face can be approved in another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from agent.core.events import ChangeApproved, ChangeDecision, ChangeProposed, ChangeRejected, SpaceEditProposed, payload
from agent.core.records import EventKind
from agent.faces.handle import StudyHandle
from agent.hybrid.space_edit import decide_pending, describe, pending_edits
from agent.study.steering import Reply

DECISIONS: tuple[type[ChangeDecision], ...] = (ChangeApproved, ChangeRejected)


@dataclass(frozen=True)
class Pending:
    id: int
    kind: Literal["change", "space_edit"]
    summary: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "summary": self.summary, "source": self.source}


def propose(
    handle: StudyHandle, op: str, args: dict[str, Any], summary: str, *, by: Literal["person", "model"] = "person"
) -> str:
    """Record a change (a steering ``op`` with its ``args``) for approval; the text to show the person."""
    handle.store.record(ChangeProposed(op=op, args=args, summary=summary, source=handle.source, by=by))
    return f"proposed: {summary}\nsend /approve to apply it or /reject to drop it"


def _pending_change(handle: StudyHandle) -> Pending | None:
    proposals = handle.store.events(EventKind.CHANGE_PROPOSED)
    if not proposals:
        return None
    last = proposals[-1]
    for kind in DECISIONS:
        if any(payload(e, kind).proposal == last.id for e in handle.store.events(kind.KIND, after=last.id)):
            return None
    change = payload(last, ChangeProposed)
    who = f"{change.source}'s chat model" if change.by == "model" else change.source
    return Pending(last.id, "change", change.summary, who)


def pending(handle: StudyHandle) -> Pending | None:
    """The latest proposal still waiting, of either kind."""
    found = [p for p in (_pending_change(handle),) if p is not None]
    edits = pending_edits(handle.store)
    if edits:
        event_id, edit = edits[-1]
        source = next(
            (
                payload(e, SpaceEditProposed).source
                for e in handle.store.events(EventKind.SPACE_EDIT_PROPOSED)
                if e.id == event_id
            ),
            "llm",
        )
        found.append(Pending(event_id, "space_edit", f"search space: {describe(edit)}", source))
    return max(found, key=lambda p: p.id, default=None)


def _decide(handle: StudyHandle, *, approve: bool, proposal: int | None) -> Reply:
    from agent.faces.chat.agent_tools import space_editor

    p = pending(handle)
    verb = "approve" if approve else "reject"
    if p is None:
        return Reply(ok=False, message=f"nothing to {verb}: no change is waiting")
    if proposal is not None and p.id != proposal:
        return Reply(ok=False, message=f"that proposal is no longer waiting; the one waiting now is: {p.summary}")
    if p.kind == "space_edit":
        result = decide_pending(space_editor(handle), handle.store, p.id, approve=approve)
        ok = result.status == "applied" if approve else True
        head = "approved" if approve else "dropped"
        return Reply(ok=ok, message=f"{head}: {p.summary}\n{result.message}" if approve else f"{head}: {p.summary}")
    if not approve:
        handle.store.record(ChangeRejected(proposal=p.id, source=handle.source))
        return Reply(ok=True, message=f"dropped: {p.summary}")
    event = next(e for e in handle.store.events(EventKind.CHANGE_PROPOSED) if e.id == p.id)
    handle.store.record(ChangeApproved(proposal=p.id, source=handle.source))
    change = payload(event, ChangeProposed)
    reply = handle.send(change.op, dict(change.args))
    return reply.model_copy(update={"message": f"approved: {p.summary}\n{reply.message}"})


def approve(handle: StudyHandle, proposal: int | None = None) -> Reply:
    """Apply the waiting proposal (only if it is ``proposal``, when given: a button names what it shows)."""
    return _decide(handle, approve=True, proposal=proposal)


def reject(handle: StudyHandle, proposal: int | None = None) -> Reply:
    return _decide(handle, approve=False, proposal=proposal)
