"""``HybridProposer``: the LLM proposes a share of the trials, a classical strategy the rest, and it never
lets the study stall.

The classical strategy owns the search state (it reads the whole history, including the LLM's trials).
On each request for ``n`` trials:

1. ``llm_slots`` (agent/hybrid/share.py) decides how many go to the LLM: its first proposals right after the
   default, then a share that adapts to which proposer has been improving the incumbent, with a floor
   for each.
2. If the LLM may be asked (not finished, budget not spent, circuit breaker closed), it first writes a
   short reflection on the trials finished since its last decision (event ``reflection``; the latest few
   are fed back in later prompts), then runs a decision (agent/hybrid/decision.py): a bounded summary of the
   study, tool calls, and ``run_trials`` with exactly its number of configurations. Every configuration
   is validated against the space before it is accepted; nothing invalid ever reaches the engine.
3. Whatever the LLM did not fill — mistakes in a row, endpoint failure, budget spent, or the model
   called ``finish`` — the strategy fills. A failure records a ``fallback`` event and opens the breaker;
   the LLM is asked again after a cooldown.

Every trial records who proposed it (``llm`` or ``strategy``), the model, and the rationale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from agent.core.events import (
    EventData,
    Fallback,
    LlmBudgetExhausted,
    LlmDecision,
    LlmFinished,
    LlmRetry,
    Reflection,
    payload,
)
from agent.core.records import Event, EventKind, ProposerKind, Trial, TrialDraft, TrialState, best_trial
from agent.core.spec import LLMSpec
from agent.errors import LLMBudgetExhausted, LLMError
from agent.hybrid.actions import Actions, trial_view
from agent.hybrid.breaker import CircuitBreaker
from agent.hybrid.context import task_context
from agent.hybrid.decision import BatchSink, Limits, Outcome, run_decision
from agent.hybrid.explore import explore_prompt, explore_tool, read_explore
from agent.hybrid.prompting import render
from agent.hybrid.share import ShareConfig, hybrid_slots_used, llm_share, llm_slots
from agent.hybrid.space_edit import Approver, SpaceEditor, describe, leave_pending, pending_edits
from agent.llm.base import LLMClient, Message
from agent.llm.usage import UsageMeter
from agent.study.proposers import ProposalContext, Proposer, ProposerHost, StrategyProposer
from tools.protocol import FinishKind

if TYPE_CHECKING:
    from agent.study.pbt_explore import ExploreContext
from tools.summary import RATIONALE_CHARS, compact, summarize
from tools.toolbox import build_toolbox
from tools.untrusted import words

NOTES_SHOWN = 3
#: The longest reflection kept (the request states it); shown whole in later prompts.
REFLECTION_CHARS = 600
REFLECT_TRIALS = 10


@dataclass(frozen=True)
class HybridConfig:
    share: ShareConfig = field(default_factory=ShareConfig)
    limits: Limits = field(default_factory=Limits)
    top_k: int = 5
    recent: int = 5
    stop_on_finish: bool = False
    reflect: bool = True

    @classmethod
    def from_spec(cls, llm: LLMSpec | None) -> HybridConfig:
        if llm is None:
            return cls()
        return cls(
            share=ShareConfig(
                base=llm.share, floor=llm.min_share, first=llm.first_trials, min_improvement=llm.min_improvement
            ),
            limits=Limits(max_steps=llm.max_steps, max_mistakes=llm.max_mistakes, temperature=llm.temperature),
            top_k=llm.top_k,
            recent=llm.recent,
            stop_on_finish=llm.stop_on_finish,
        )


class HybridProposer(Proposer):
    name = "hybrid"

    def __init__(
        self,
        *,
        client: LLMClient,
        fallback: StrategyProposer,
        config: HybridConfig | None = None,
        approve: Approver = leave_pending,
        meter: UsageMeter | None = None,
    ) -> None:
        self.client = client
        self.fallback = fallback
        self.config = config or HybridConfig()
        self.approve = approve
        self.meter = meter
        self.breaker = CircuitBreaker()
        self.host: ProposerHost | None = None
        self.notes: list[str] = []
        self.reflected: set[int] = set()
        self.finished = False  # the model called finish
        self.finish_kind: FinishKind = "done"
        self.disabled: str | None = None  # why the LLM is no longer asked (budget spent)
        self.consecutive = 0
        self.decisions = 0
        self.explores = 0  # PBT explore steps seen (the LLM takes its share of them)

    # ------------------------------------------------------------------ wiring
    def attach(self, host: ProposerHost) -> None:
        """Bind to the engine; restore notes, finish and budget state from its event log (resume)."""
        self.host = host
        store = host.store
        for e in store.events(EventKind.REFLECTION):
            note = payload(e, Reflection)
            self.notes.append(note.text)
            self.reflected.update(note.trials)
        decisions = [payload(e, LlmDecision) for e in store.events(EventKind.LLM_DECISION)]
        self.decisions = sum(1 for d in decisions if not d.explore)
        self.explores = sum(1 for d in decisions if d.explore)
        self.finished = bool(store.events(EventKind.LLM_FINISHED))
        if store.events(EventKind.LLM_BUDGET_EXHAUSTED):
            self.disabled = "the LLM budget was spent earlier in this study"
        if self.meter is not None:
            saved = store.get_meta("usage")
            if saved and self.meter.totals["calls"] == 0:
                self.meter.totals.update(saved)
            self.meter.on_change = lambda totals: store.set_meta("usage", totals)
            store.set_meta("usage", self.meter.snapshot())

    def emit(self, data: EventData) -> Event | None:
        return self.host.emit(data) if self.host is not None else None

    def _attached(self) -> ProposerHost:
        if self.host is None:  # our bug, not the model's: the engine attaches before it asks
            raise RuntimeError("HybridProposer.propose called before attach(host)")
        return self.host

    def close(self) -> None:
        self.client.close()
        self.fallback.close()

    # ------------------------------------------------------------ PBT explore
    def explore(self, ctx: ExploreContext) -> TrialDraft | None:
        """PBT's explore step for ``ctx.member`` from the model, on the LLM's share of explore steps (spread as
        ``llm_slots`` spreads trials); None leaves the step to perturbation (agent/hybrid/explore.py)."""
        if self.finished or self.disabled is not None or self.host is None:
            return None
        host = self.host
        history = host.store.trials()
        share = llm_share(history, ctx.direction, self.config.share)
        turn = self.explores
        self.explores += 1
        if math.ceil((turn + 1) * share) <= math.ceil(turn * share):
            return None
        pctx = ProposalContext(
            space=ctx.space, history=history, direction=ctx.direction, metric=ctx.metric, remaining=None
        )
        mutable = [p for p in ctx.space.describe() if p["name"] in ctx.mutable]
        population = [
            {"member": m, "params": dict(params), ctx.metric: value} for m, params, value in ctx.population[:8]
        ]
        user = explore_prompt(
            member=ctx.member,
            donor=ctx.donor,
            step=ctx.step,
            donor_params=ctx.donor_params,
            mutable=mutable,
            population=population,
            metric=ctx.metric,
            direction=ctx.direction,
        )
        try:
            completion = self.client.complete(
                [self._system(pctx), Message(role="user", content=user)],
                [explore_tool()],
                temperature=self.config.limits.temperature,
            )
        except LLMBudgetExhausted as exc:
            self.disabled = str(exc)
            self.emit(LlmBudgetExhausted(reason=str(exc)))
            return None
        except LLMError as exc:
            self.breaker.failure(turn)
            self.emit(Fallback(kind="endpoint", reason=str(exc), model=self.client.model, explore=True))
            return None
        draft, why = read_explore(
            completion,
            donor_params=ctx.donor_params,
            mutable=list(ctx.mutable),
            space=ctx.space,
            model=self.client.model,
        )
        self.emit(
            LlmDecision(
                model=self.client.model, explore=True, member=ctx.member, accepted=int(draft is not None), problem=why
            )
        )
        return draft

    # --------------------------------------------------------------- proposing
    def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
        slot = hybrid_slots_used(ctx.history)
        k = 0
        if not self.finished and self.disabled is None:
            share = llm_share(ctx.history, ctx.direction, self.config.share)
            k = llm_slots(ctx.history, n, share, self.config.share)
        drafts: list[TrialDraft] = []
        note = None
        if k and not self.breaker.allows(slot):
            note = "the LLM's slot; the LLM is paused after a failure"
        elif k:
            if self.breaker.open:
                self.emit(LlmRetry(after_failures=self.breaker.failures, model=self.client.model))
            drafts, note = self._ask_llm(ctx, k, slot)
        rest = self._strategy(ctx, n - len(drafts), drafts, note if k else None, k - len(drafts))
        return drafts + rest

    def _strategy(
        self, ctx: ProposalContext, m: int, pending: list[TrialDraft], note: str | None, fill: int
    ) -> list[TrialDraft]:
        if m <= 0:
            return []
        # The LLM's drafts of this batch count as running trials, so the strategy spreads away from them.
        ghosts = [
            Trial(number=-1 - i, params=d.params, state=TrialState.RUNNING, proposer=d.proposer)
            for i, d in enumerate(pending)
        ]
        space = self.host.space if self.host is not None else ctx.space
        out = self.fallback.propose(replace(ctx, space=space, history=[*ctx.history, *ghosts]), m)
        if note and fill > 0:
            out = [
                d.model_copy(update={"rationale": f"{note}: proposed by the strategy"}) if i < fill else d
                for i, d in enumerate(out)
            ]
        return out

    def _ask_llm(self, ctx: ProposalContext, k: int, slot: int) -> tuple[list[TrialDraft], str | None]:
        """The LLM's drafts (possibly fewer than ``k``) and, when it fell short, a note for the rest."""
        failure = self._reflect(ctx)
        outcome: Outcome | None = None
        if failure is None:
            sink = BatchSink(k)
            outcome = run_decision(
                self.client,
                build_toolbox(self._actions(ctx, sink)),
                sink,
                self._prompt(ctx, k),
                emit=self.emit,
                limits=self.config.limits,
                consecutive=self.consecutive,
            )
            self.consecutive = outcome.consecutive
            self.decisions += 1
            self.emit(
                LlmDecision(
                    model=self.client.model,
                    asked=k,
                    accepted=len(outcome.drafts),
                    steps=outcome.steps,
                    mistakes=outcome.mistakes,
                    trials_so_far=len(ctx.history),
                )
            )
            if outcome.finished is not None:
                self._finish(outcome.finished)
            failure = (outcome.failure_kind or "endpoint", outcome.failure) if outcome.failure else None
        drafts = outcome.drafts if outcome else []
        if failure is None:
            self.breaker.success()
            return drafts, ("the LLM finished" if self.finished and len(drafts) < k else None)
        kind, reason = failure
        if kind == "budget":
            self.disabled = reason
            usage = self.meter.snapshot() if self.meter else None
            self.emit(LlmBudgetExhausted(reason=reason, usage=usage))
        else:
            self.breaker.failure(slot)
        if kind == "mistakes":
            self.consecutive = 0  # the next attempt after the cooldown starts with a clean slate
        self.emit(
            Fallback(
                kind=kind,
                reason=reason,
                slots=k - len(drafts),
                model=self.client.model,
                retry_after_slots=None if kind == "budget" else self.breaker.wait(),
            )
        )
        return drafts, f"the LLM's slot; the LLM fell back ({kind})"

    # ---------------------------------------------------------------- pieces
    def _actions(self, ctx: ProposalContext, sink: BatchSink) -> Actions:
        host = self._attached()
        editor = SpaceEditor(
            current=lambda: host.space,
            apply=host.set_space,
            emit=host.emit,
            approve=self.approve,
            fixed=host.spec.fixed,
        )
        return Actions(
            spec=host.spec,
            store=host.store,
            study_dir=host.study_dir,
            space=lambda: host.space,
            history=lambda: ctx.history,
            strategy=self.fallback.strategy,
            sink=sink,
            editor=editor,
            finish=self._finish_note,
            model=self.client.model,
            proposer=ProposerKind.LLM,
            stop=lambda number, reason: host.stop_trial(number, reason, source="llm"),
        )

    def _finish_note(self, text: str, trial: int | None, kind: FinishKind = "done") -> str:
        self.finish_kind = kind
        self.emit(LlmFinished(recommendation=text, trial=trial, model=self.client.model, kind=kind))
        if kind == "setup_broken":
            return "noted; the study pauses now and the person sees your recommendation"
        if self.config.stop_on_finish:
            return "noted; the study stops when the running trials end"
        return "noted; the classical strategy finishes the remaining budget"

    def _finish(self, recommendation: str) -> None:
        self.finished = True
        if self.host is None:
            return
        if self.finish_kind == "setup_broken":
            # The person decides what happens next: nothing more runs until they fix the setup and resume.
            self.host.control.stop(f"paused: the model says the setup is broken: {recommendation}")
        elif self.config.stop_on_finish:
            self.host.control.stop(f"the model finished: {recommendation}")

    def _system(self, ctx: ProposalContext) -> Message:
        host = self._attached()
        space, spec = host.space, host.spec
        metrics = {name for t in ctx.history for name in t.metrics}
        return Message(
            role="system",
            content=render(
                "hybrid_system",
                strategy=self.fallback.strategy.label(space, ctx.history),
                name=spec.name,
                direction=ctx.direction,
                metric=ctx.metric,
                space=space.describe(),
                task=task_context(spec, metrics=metrics),
                rationale_chars=RATIONALE_CHARS,
                seed=host.seed,
            ),
        )

    def _prompt(self, ctx: ProposalContext, k: int) -> list[Message]:
        host = self._attached()
        space = host.space
        spec = host.spec
        views = [trial_view(t) for t in ctx.history]
        summary = summarize(
            views,
            direction=ctx.direction,
            space=space.describe(),
            top_k=self.config.top_k,
            recent=self.config.recent,
            curve=lambda number: self._curve(host, number, ctx.metric),
        )
        notes = [words(n, REFLECTION_CHARS) for n in self.notes[-NOTES_SHOWN:]]
        pending = [describe(e) for _, e in pending_edits(host.store)][-3:]
        user = render(
            "hybrid_decision",
            done=sum(t.state.counts for t in ctx.history),
            budget=spec.budget.max_trials,
            running=sum(t.state is TrialState.RUNNING for t in ctx.history),
            summary=summary,
            notes=notes,
            omitted=max(0, len(self.notes) - NOTES_SHOWN),
            pending_edits=pending,
            k=k,
        )
        return [self._system(ctx), Message(role="user", content=user)]

    @staticmethod
    def _curve(host: ProposerHost, number: int, metric: str) -> list[float] | None:
        if number < 0:
            return None
        return [p.values[metric] for p in host.store.metrics(number) if metric in p.values]

    def _reflect(self, ctx: ProposalContext) -> tuple[str, str] | None:
        """Write a note on the trials finished since the last one; (kind, reason) if the endpoint failed."""
        if not self.config.reflect or self.decisions == 0:
            return None
        new = [
            t
            for t in ctx.history
            if t.state.finished and t.state is not TrialState.CANCELLED and t.number not in self.reflected
        ]
        if not new:
            return None
        best = best_trial(list(ctx.history), ctx.direction)
        # A reflection needs the task and the goal, not the tool rules or the script: a short system prompt.
        host = self._attached()
        system = Message(
            role="system",
            content=render(
                "hybrid_reflect_system",
                task=host.spec.task.description if host.spec.task else None,
                direction=ctx.direction,
                metric=ctx.metric,
                space=host.space.describe(),
            ),
        )
        user = render(
            "hybrid_reflect",
            trials=[
                compact(trial_view(t), rationale=True, curve=self._curve(host, t.number, ctx.metric))
                for t in new[-REFLECT_TRIALS:]
            ],
            best=compact(trial_view(best)) if best else None,
            limit=REFLECTION_CHARS,
        )
        try:
            completion = self.client.complete(
                [system, Message(role="user", content=user)], temperature=self.config.limits.temperature
            )
        except LLMBudgetExhausted as exc:
            return "budget", str(exc)
        except LLMError as exc:
            return "endpoint", str(exc)
        text = words(completion.text, REFLECTION_CHARS) or ""
        self.reflected.update(t.number for t in new)
        if text:
            self.notes.append(text)
            self.emit(Reflection(text=text, trials=[t.number for t in new], model=self.client.model))
        return None
