"""Population Based Training (Jaderberg et al., 2017): the engine's scheduler for ``scheduler: {type: pbt}``.

A population of ``population`` members trains at once. Each *segment* of a member's training is one trial
record with a ``Lineage`` (agent/core/records.py): the member, how the segment began (``start`` from
scratch, ``continue`` its own training, ``retry`` after an interruption, ``exploit`` a better member's
checkpoint), the trial whose checkpoint it loaded and that checkpoint's step. The scheduler keeps no state
of its own: every decision is read from the history and the checkpoint folders, so a study killed at any
moment resumes with nothing lost (an interrupted segment continues from its member's latest checkpoint).

Decisions, at a member's reports of the objective at steps that are multiples of ``interval``:

- **pause**: other members that have trained less are waiting for a slot (a population larger than
  ``workers`` trains in turns, least trained first, like Ray Tune's PBT): the segment stops, and the
  member's next step is decided when it gets a slot again, when the members behind it have caught up;
- **exploit**: the member ranks in the bottom ``quantile`` of the members still training, compared at the
  same step (at least half of them must have reached it): it stops and continues from a top member's
  latest checkpoint with that member's params, explored (``explore``). Non-mutable params (e.g. a hidden
  size) come from the donor with its checkpoint;
- otherwise it keeps training.

Explore: each mutable param is, with ``resample_probability``, drawn anew from the space; otherwise a
number is multiplied by one of the ``perturb`` factors (clipped to its range, on its grid) and a choice
moves to a neighbouring choice. A proposer may explore instead (``Proposer.explore``: the LLM hybrid);
its answer is validated (in the space, non-mutable params unchanged) and perturbation is the fallback.

The study ends when every member has finished its training (a segment completed) or ended (failed, or
stopped by a person).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.core.records import EventKind, Lineage, MetricPoint, ProposerKind, Trial, TrialDraft, TrialState
from agent.core.space import SearchSpace, same_value
from agent.core.spec import SchedulerSpec
from agent.errors import ConfigError
from agent.study.doctor import Finding
from agent.study.folder import trial_dir
from agent.study.pbt_explore import ExploreContext, Explorer, explore
from sandbox.checkpoint import CHECKPOINT_DIR_ENV, RESTORE_FROM_ENV, copy_checkpoint, latest_checkpoint

Status = Literal["running", "waiting", "done", "ended"]
Curves = Callable[[int], Sequence[MetricPoint]]


@dataclass(frozen=True)
class CheckpointPaths:
    """Where trial ``number`` writes checkpoints and finds the one it restores: its trial folder, or
    ``root/<study folder name>/NNNN`` when a shared ``checkpoint_root`` is set (Ray)."""

    study_dir: Path
    root: Path | None = None

    def folder(self, number: int) -> Path:
        return self.root / self.study_dir.name / f"{number:04d}" if self.root else trial_dir(self.study_dir, number)

    def checkpoints(self, number: int) -> Path:
        return self.folder(number) / "checkpoints"

    def restore(self, number: int) -> Path:
        return self.folder(number) / "restore"

    def latest(self, trial: Trial) -> tuple[int, str, int] | None:
        """The newest checkpoint a trial's training reached, as (step, path, trial that wrote it): its own,
        else the one it started from (its copy in ``restore/``, else the original), else None."""
        own = latest_checkpoint(str(self.checkpoints(trial.number)))
        if own is not None:
            return own[0], own[1], trial.number
        lin = trial.lineage
        if lin is None or lin.start_step is None or lin.checkpoint is None:
            return None
        copy = latest_checkpoint(str(self.restore(trial.number)))
        path = copy[1] if copy is not None else lin.checkpoint
        if not Path(path).exists():
            return None
        return lin.start_step, path, lin.parent if lin.parent is not None else trial.number

    def env(self, trial: Trial, resume_from: Trial | None = None) -> dict[str, str]:
        """The checkpoint part of a trial's environment: its folder, and the checkpoint to load (copied into
        its own ``restore/`` first, so it outlives the donor's clean-up): the lineage's checkpoint, or the
        latest of ``resume_from`` (an interrupted trial re-run)."""
        env = {CHECKPOINT_DIR_ENV: str(self.checkpoints(trial.number))}
        source: tuple[int, str] | None = None
        if trial.lineage is not None and trial.lineage.checkpoint is not None:
            source = (trial.lineage.start_step or 0, trial.lineage.checkpoint)
        elif resume_from is not None and (found := self.latest(resume_from)) is not None:
            source = (found[0], found[1])
        if source is not None:
            env[RESTORE_FROM_ENV] = copy_checkpoint(source[1], str(self.restore(trial.number)), source[0])
        return env


@dataclass(frozen=True)
class Decision:
    """Stop a running segment at ``step``: ``pause`` (its member waits its turn) or ``exploit``."""

    action: Literal["pause", "exploit"]
    step: int
    reason: str


@dataclass
class _Member:
    index: int
    segments: list[Trial] = field(default_factory=list)

    @property
    def last(self) -> Trial:
        return self.segments[-1]


class PopulationScheduler:
    """Population Based Training over a study's history (module docstring). ``curves(n)`` reads a trial's
    reports; ``explorer`` (optional) proposes the explore step before perturbation does."""

    def __init__(
        self,
        spec: SchedulerSpec,
        *,
        metric: str,
        direction: str,
        curves: Curves,
        paths: CheckpointPaths,
        seed: int | None = None,
        explorer: Explorer | None = None,
    ) -> None:
        self.spec = spec
        self.metric = metric
        self.direction = direction
        self.curves = curves
        self.paths = paths
        self.seed = seed or 0
        self.explorer = explorer
        self.rejected: list[tuple[TrialDraft, list[str]]] = []  # explorer answers refused (the engine records)
        self._steps: dict[int, dict[int, float]] = {}  # finished segment -> {step: objective value}
        self._no_fresh = False  # the proposer had no new member to give

    # ------------------------------------------------------------------ the history, read
    def _members(self, history: Sequence[Trial]) -> dict[int, _Member]:
        members: dict[int, _Member] = {}
        for t in sorted(history, key=lambda t: t.number):
            if t.lineage is not None:
                members.setdefault(t.lineage.member, _Member(t.lineage.member)).segments.append(t)
        return members

    def _values(self, trial: Trial) -> dict[int, float]:
        """{step: objective} of one segment (cached once it is finished)."""
        found = self._steps.get(trial.number)
        if found is not None:
            return found
        values = {
            p.step: p.values[self.metric]
            for p in self.curves(trial.number)
            if p.step is not None and not p.final and self.metric in p.values and math.isfinite(p.values[self.metric])
        }
        if trial.state.finished:
            self._steps[trial.number] = values
        return values

    def _value_at(self, member: _Member, step: int) -> float | None:
        for seg in reversed(member.segments):
            value = self._values(seg).get(step)
            if value is not None:
                return value
        return None

    def _progress(self, member: _Member) -> int:
        steps = self._values(member.last)
        return max(steps) if steps else (member.last.lineage.start_step or 0) if member.last.lineage else 0

    @staticmethod
    def status(member: _Member) -> Status:
        last = member.last
        if last.state is TrialState.RUNNING:
            return "running"
        if last.state is TrialState.CANCELLED:
            return "waiting"
        if last.state is TrialState.PRUNED and last.info.get("pbt", {}).get("action") in ("pause", "exploit"):
            return "waiting"
        return "done" if last.state is TrialState.COMPLETE else "ended"

    def _unstarted(self, members: Mapping[int, _Member]) -> list[int]:
        return [] if self._no_fresh else [i for i in range(self.spec.population) if i not in members]

    def done(self, history: Sequence[Trial]) -> bool:
        """Every member has finished or ended, and no member is left to start."""
        members = self._members(history)
        return not self._unstarted(members) and all(self.status(m) in ("done", "ended") for m in members.values())

    # ------------------------------------------------------------------ decisions
    def on_report(self, trial: Trial, step: int | None, history: Sequence[Trial], free: int) -> Decision | None:
        """After running segment ``trial`` reported the objective at ``step``: stop it now, or None.
        ``free``: executor slots not in use."""
        lin = trial.lineage
        if lin is None or step is None or step % self.spec.interval or step <= (lin.start_step or 0):
            return None
        members = self._members(history)
        end = self._end(members)
        if end is not None and step >= end:
            return None  # a member has finished its training at this step: nothing is left to decide
        behind = len(self._unstarted(members)) + sum(
            1 for m in members.values() if self.status(m) == "waiting" and self._progress(m) < step
        )
        if behind > free:
            return Decision("pause", step, f"PBT: paused at step {step}, member {lin.member} waits its turn")
        ranking = self._ranking(members, step)
        if ranking is not None and self._bottom(lin.member, ranking):
            return Decision(
                "exploit",
                step,
                f"PBT: member {lin.member} is in the bottom {self.spec.quantile:g} at step {step}; it continues "
                "from a top member's checkpoint",
            )
        return None

    def _end(self, members: Mapping[int, _Member]) -> int | None:
        """The step a training ends at: ``max_step``, or once a member has finished, its last step."""
        if self.spec.max_step is not None:
            return self.spec.max_step
        ends = [t.last_step for m in members.values() for t in m.segments if t.ok and t.last_step is not None]
        return max(ends) if ends else None

    def _ranking(self, members: Mapping[int, _Member], step: int) -> list[tuple[int, float]] | None:
        """Members still training with a value at ``step``, best first; None when fewer than half have one."""
        alive = [m for m in members.values() if self.status(m) in ("running", "waiting")]
        scored = [(m.index, v) for m in alive if (v := self._value_at(m, step)) is not None]
        if len(scored) < max(2, math.ceil(len(alive) / 2)):
            return None
        return sorted(scored, key=lambda mv: -mv[1] if self.direction == "maximize" else mv[1])

    def _quantile(self, n: int) -> int:
        k = math.ceil(n * self.spec.quantile)
        return math.floor(n / 2) if k > n / 2 else k

    def _bottom(self, member: int, ranking: Sequence[tuple[int, float]]) -> bool:
        k = self._quantile(len(ranking))
        return k > 0 and member in [m for m, _ in ranking[-k:]]

    def settle(self, trial: Trial, fields: dict[str, Any]) -> dict[str, Any]:
        """The final fields of a segment that continued from a checkpoint at the end of its training: it
        exited cleanly without reporting anything (nothing was left to train), so it is complete with the
        value its checkpoint had. Any other outcome is returned unchanged."""
        lin = trial.lineage
        if (
            lin is None
            or lin.start_step is None
            or lin.parent is None
            or fields.get("metrics")
            or fields.get("exit_code") != 0
            or fields.get("state") is not TrialState.FAILED
        ):
            return fields
        value = next(  # its value at that step (or the last before it, when the report was lost to a kill)
            (
                p.values[self.metric]
                for p in sorted(self.curves(lin.parent), key=lambda p: p.step or 0, reverse=True)
                if p.step is not None and p.step <= lin.start_step and self.metric in p.values and not p.final
            ),
            None,
        )
        if value is None:
            return fields
        return {
            **fields,
            "state": TrialState.COMPLETE,
            "value": value,
            "metrics": {self.metric: value},
            "last_step": lin.start_step,
            "failure": None,
            "reason": None,
            "info": {**fields.get("info", {}), "pbt_ended_at_checkpoint": lin.start_step},
        }

    # ------------------------------------------------------------------ what runs next
    def next(
        self, history: Sequence[Trial], n: int, fresh: Callable[[int], list[TrialDraft]], space: SearchSpace
    ) -> list[TrialDraft] | Finding:
        """Up to ``n`` segments to launch, least trained members first: new members (params from ``fresh``),
        then waiting ones (continued, or exploiting a top member); a ``Finding`` when a member that must
        continue has no checkpoint."""
        members = self._members(history)
        out: list[TrialDraft] = []
        unstarted = self._unstarted(members)[:n]
        if unstarted:
            got = fresh(len(unstarted))
            self._no_fresh = not got  # the proposer has nothing more: the population is what started
            for index, draft in zip(unstarted, got, strict=False):
                out.append(draft.model_copy(update={"lineage": Lineage(member=index, kind="start")}))
        waiting = sorted(
            (m for m in members.values() if self.status(m) == "waiting"), key=lambda m: (self._progress(m), m.index)
        )
        for member in waiting[: n - len(out)]:
            segment = self._segment(member, members, space)
            if isinstance(segment, Finding):
                return segment
            out.append(segment)
        return out

    def _segment(self, member: _Member, members: Mapping[int, _Member], space: SearchSpace) -> TrialDraft | Finding:
        last = member.last
        pbt = last.info.get("pbt", {})
        step = int(pbt.get("step", self._progress(member)))
        action = pbt.get("action") if last.state is TrialState.PRUNED else "retry"
        end = self._end(members)
        if action in ("pause", "exploit") and (end is None or step < end):  # an exploit was decided at its report
            ranking = self._ranking(members, step)
            if ranking is not None and (action == "exploit" or self._bottom(member.index, ranking)):
                donor = self._donor(member, ranking, members, step)
                if donor is not None:
                    return self._exploit(member, donor, members, ranking, step, space)
        found = self.paths.latest(last)
        if found is None and action != "retry" and self._progress(member) > 0:
            return Finding(
                EventKind.NO_CHECKPOINT,
                f"stopped: scheduler pbt needs checkpoints, and trial #{last.number} trained to step "
                f"{self._progress(member)} without saving one; save with tunesmith.save_checkpoint(step) (written "
                f"to $TUNESMITH_CHECKPOINT_DIR) and load tunesmith.restore_from() at the start, then resume",
                (last.number,),
            )
        kind = "continue" if action != "retry" else "retry"
        owner = {t.number: m.index for m in members.values() for t in m.segments}
        lineage = Lineage(
            member=member.index,
            kind=kind,
            parent=found[2] if found else None,
            parent_member=owner.get(found[2]) if found else None,
            start_step=found[0] if found else None,
            checkpoint=found[1] if found else None,
        )
        return TrialDraft(
            params=dict(last.params),
            proposer=last.proposer,
            rationale=last.rationale,
            model=last.model,
            strategy=last.strategy,
            retry_of=last.number if last.state is TrialState.CANCELLED else None,
            lineage=lineage,
        )

    def _donor(
        self, member: _Member, ranking: Sequence[tuple[int, float]], members: Mapping[int, _Member], step: int
    ) -> tuple[_Member, tuple[int, str, int]] | None:
        top = [members[m] for m, _ in ranking[: self._quantile(len(ranking))] if m != member.index]
        with_checkpoint = [(m, found) for m in top if (found := self.paths.latest(m.last)) is not None]
        if not with_checkpoint:
            return None
        return self._rng(member.index, step, len(member.segments)).choice(with_checkpoint)

    def _rng(self, *parts: int) -> random.Random:
        return random.Random("-".join(str(p) for p in (self.seed, *parts)))

    def _exploit(
        self,
        member: _Member,
        donor: tuple[_Member, tuple[int, str, int]],
        members: Mapping[int, _Member],
        ranking: Sequence[tuple[int, float]],
        step: int,
        space: SearchSpace,
    ) -> TrialDraft:
        source, (at, path, written_by) = donor
        base = dict(source.last.params)
        draft = self._explored_by_proposer(member, source, base, members, ranking, step, space)
        if draft is None:
            params, ops = explore(base, space, self.spec, self._rng(member.index, step, len(member.segments), 1))
            note = ", ".join(f"{k} {v}" for k, v in ops.items())
            draft = TrialDraft(
                params=params,
                proposer=ProposerKind.STRATEGY,
                strategy="pbt",
                rationale=f"PBT exploit: member {source.index}'s checkpoint at step {at}, explored: {note}",
            )
        else:
            ops = {k: "llm" for k in self.spec.mutable if not same_value(draft.params.get(k), base.get(k))}
        lineage = Lineage(
            member=member.index,
            kind="exploit",
            parent=written_by,
            parent_member=source.index,
            start_step=at,
            checkpoint=path,
            explore=ops,
        )
        return draft.model_copy(update={"lineage": lineage})

    def _explored_by_proposer(
        self,
        member: _Member,
        source: _Member,
        base: dict[str, Any],
        members: Mapping[int, _Member],
        ranking: Sequence[tuple[int, float]],
        step: int,
        space: SearchSpace,
    ) -> TrialDraft | None:
        """The explorer's draft when it gives a valid one (in the space, only mutable params changed)."""
        if self.explorer is None:
            return None
        ctx = ExploreContext(
            member=member.index,
            donor=source.index,
            step=step,
            donor_params=base,
            mutable=list(self.spec.mutable),
            space=space,
            metric=self.metric,
            direction=self.direction,
            population=[(m, dict(members[m].last.params), v) for m, v in ranking],
        )
        draft = self.explorer(ctx)
        if draft is None:
            return None
        try:
            params = space.check_config(draft.params)
        except ConfigError as exc:
            self.rejected.append((draft, exc.problems))
            return None
        fixed = [k for k in params if k not in self.spec.mutable and not same_value(params[k], base.get(k))]
        if fixed:
            problem = f"'{fixed[0]}' is not mutable: it must stay {base.get(fixed[0])!r} (the checkpoint's)"
            self.rejected.append((draft, [problem]))
            return None
        return draft.model_copy(update={"params": params})
