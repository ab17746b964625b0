"""Budget and search-space changes wait for a person's explicit approval.

A change (from a slash-command or from the LLM) is first recorded as a ``change_proposed`` event; it is
applied only when someone sends ``/approve`` (terminal, web chat or the web page's button), which records
``change_approved`` and sends the change through the study's command channel. Only the latest proposal
is pending: a newer one replaces it, ``/reject`` drops it. Living in the event log, a proposal made in
one face can be approved in another.
"""

from __future__ import annotations

from typing import Any

from agent.handle import StudyHandle
from agent.records import Event
from agent.steering import Reply

DECISIONS = ("change_approved", "change_rejected")


def propose(handle: StudyHandle, op: str, args: dict[str, Any], summary: str) -> str:
    """Record a change for approval; the text to show the person."""
    handle.store.add_event("change_proposed", {"op": op, "args": args, "summary": summary,
                                               "source": handle.source})
    return f"proposed: {summary}\nsend /approve to apply it or /reject to drop it"


def pending(handle: StudyHandle) -> Event | None:
    """The latest proposal, unless it was already approved or rejected."""
    proposals = handle.store.events("change_proposed")
    if not proposals:
        return None
    last = proposals[-1]
    for kind in DECISIONS:
        if any(e.data.get("proposal") == last.id for e in handle.store.events(kind, after=last.id)):
            return None
    return last


def approve(handle: StudyHandle) -> Reply:
    proposal = pending(handle)
    if proposal is None:
        return Reply(ok=False, message="nothing to approve: no change is waiting")
    handle.store.add_event("change_approved", {"proposal": proposal.id, "source": handle.source})
    reply = handle.send(str(proposal.data["op"]), dict(proposal.data["args"]))
    return reply.model_copy(update={"message": f"approved: {proposal.data['summary']}\n{reply.message}"})


def reject(handle: StudyHandle) -> Reply:
    proposal = pending(handle)
    if proposal is None:
        return Reply(ok=False, message="nothing to reject: no change is waiting")
    handle.store.add_event("change_rejected", {"proposal": proposal.id, "source": handle.source})
    return Reply(ok=True, message=f"dropped: {proposal.data['summary']}")
