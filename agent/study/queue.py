"""Proposals queued from outside the engine's loop (chat, the web page, tools) for a running study.

``Session.run`` wraps its proposer in a ``QueuedProposer``: queued drafts go first, the wrapped
proposer fills the remaining slots. The engine validates every draft again before it runs (the space
may have changed since it was queued).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from agent.core.records import Trial, TrialDraft
from agent.study.proposers import ProposalContext, Proposer, ProposerHost

if TYPE_CHECKING:
    from agent.study.pbt_explore import ExploreContext


class ProposalQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drafts: list[TrialDraft] = []

    def put(self, drafts: Sequence[TrialDraft]) -> None:
        with self._lock:
            self._drafts.extend(drafts)

    def take(self, n: int) -> list[TrialDraft]:
        with self._lock:
            out, self._drafts = self._drafts[:n], self._drafts[n:]
            return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._drafts)


class QueuedProposer(Proposer):
    def __init__(self, inner: Proposer, queue: ProposalQueue) -> None:
        self.inner = inner
        self.queue = queue
        self.name = inner.name

    def attach(self, host: ProposerHost) -> None:
        self.inner.attach(host)

    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        drafts = self.queue.take(n)
        if len(drafts) < n:
            drafts.extend(self.inner.propose(ctx, n - len(drafts)))
        return drafts

    def observe(self, trial: Trial, history: Sequence[Trial]) -> None:
        self.inner.observe(trial, history)

    def explore(self, ctx: ExploreContext) -> TrialDraft | None:
        return self.inner.explore(ctx)

    def close(self) -> None:
        self.inner.close()
