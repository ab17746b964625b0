"""The engine's intake of new trials: fresh configurations (the spec's default, then the proposer's) with
duplicates handled by canonical hash, and trials found equivalent by their functional fingerprint
(agent/study/dedupe.py has the rules). A mixin of ``StudyEngine``, kept apart so each file reads in one
sitting; it uses only what ``IntakeHost`` declares, which the engine provides.
"""

from __future__ import annotations

import random
import time
from typing import Any

from agent.core.events import DuplicateProposal, EquivalentTrial, EventData, InvalidProposal, StopRequest
from agent.core.records import Event, History, ProposerKind, Trial, TrialDraft
from agent.core.space import SearchSpace
from agent.core.spec import StudySpec
from agent.errors import ConfigError
from agent.study.dedupe import DUPLICATE_ROUNDS, TriedConfigs, TriedIndex, equivalent_of, result_fields
from agent.study.pbt import PopulationScheduler
from agent.study.proposers import ProposalContext, Proposer


class ProposalIntake:
    """Where the engine's new trials come from, and duplicates of tried ones go (module docstring)."""

    proposer: Proposer
    population: PopulationScheduler | None
    seed: int | None
    _history: list[Trial]
    _foreign: int
    _tried: TriedIndex
    _default_done: bool
    _stopping: set[str]

    # provided by the engine
    @property
    def spec(self) -> StudySpec:
        raise NotImplementedError

    @property
    def space(self) -> SearchSpace:
        raise NotImplementedError

    def emit(self, data: EventData, *, trial: int | None = None) -> Event:
        raise NotImplementedError

    def _create(self, draft: TrialDraft) -> Trial:
        raise NotImplementedError

    def _replace(self, trial: Trial) -> None:
        raise NotImplementedError

    def _finished_event(self, done: Trial) -> None:
        raise NotImplementedError

    def _annotate(self, trial_id: str, trial: Trial, **info: Any) -> Trial:
        raise NotImplementedError

    def _request_stop(self, trial_id: str, trial: Trial, request: StopRequest) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ fresh configurations
    def _fresh(self, n: int, left: int | None = None) -> list[TrialDraft]:
        """Up to ``n`` new configurations: the spec's default (once per study), then the proposer's."""
        drafts: list[TrialDraft] = []
        if not self._default_done and self.spec.default is not None and n > 0:
            drafts.append(
                TrialDraft(
                    params=dict(self.spec.default),
                    proposer=ProposerKind.DEFAULT,
                    rationale="the spec's default configuration, run first",
                )
            )
            self._default_done = True
        if len(drafts) < n:
            drafts.extend(self._propose(n - len(drafts), left))
        return drafts

    def _propose(self, n: int, left: int | None) -> list[TrialDraft]:
        """Up to ``n`` valid, untried drafts from the proposer (dedupe.py: duplicates are asked again,
        reused, or replaced by a random untried configuration after ``DUPLICATE_ROUNDS``)."""
        out: list[TrialDraft] = []
        tried = self._tried.tried(self.space, self._history)
        refused = reused = 0
        for _ in range(DUPLICATE_ROUNDS):
            want = n - len(out)
            if left is not None:
                want = min(want, left - reused - len(out))
            if want <= 0:
                break
            ctx = ProposalContext(
                space=self.space,
                history=History(self._history, self._foreign),
                direction=self.spec.direction,
                metric=self.spec.metric,
                remaining=None if left is None else left - reused,
            )
            duplicates = reused_now = 0
            for draft in self.proposer.propose(ctx, want)[:want]:
                params = self._valid(draft)
                if params is None:
                    continue
                seen, earlier = tried.find(params) if draft.proposer is not ProposerKind.USER else (False, None)
                if not seen:
                    tried.add(params)
                    out.append(draft.model_copy(update={"params": params}))
                elif self.spec.reuse_duplicates and earlier is not None and earlier.state.finished:
                    self._reuse(draft.model_copy(update={"params": params}), earlier)
                    reused_now += 1
                else:
                    duplicates += 1
                    self.emit(
                        DuplicateProposal(
                            proposer=draft.proposer.value,
                            params=params,
                            duplicate_of=earlier.number if earlier is not None else None,
                        )
                    )
            refused += duplicates
            reused += reused_now
            if not duplicates and not reused_now:
                break  # the proposer gave what it had: nothing to ask again for
        room = n - len(out) if left is None else min(n - len(out), left - reused - len(out))
        if refused and room > 0:
            out.extend(self._untried(room, tried))
        return out

    def _valid(self, draft: TrialDraft) -> dict[str, Any] | None:
        try:
            return self.space.check_config(draft.params)
        except ConfigError as exc:  # defence in depth: proposers validate too; nothing invalid runs
            self.emit(InvalidProposal(proposer=draft.proposer.value, problems=exc.problems, params=draft.params))
            return None

    def _untried(self, n: int, tried: TriedConfigs) -> list[TrialDraft]:
        """Random configurations of the space not tried yet (after a proposer kept repeating itself)."""
        rng = random.Random(f"{self.seed}-untried-{len(self._history)}")
        out: list[TrialDraft] = []
        for _ in range(50 * n):
            if len(out) >= n:
                break
            params = self.space.sample(rng)
            if not tried.find(params)[0]:
                tried.add(params)
                out.append(
                    TrialDraft(
                        params=self.space.normalise(params),
                        proposer=ProposerKind.STRATEGY,
                        strategy="random",
                        rationale="the proposer repeated tried configurations; a random untried one instead",
                    )
                )
        return out

    def _reuse(self, draft: TrialDraft, earlier: Trial) -> None:
        """Record ``earlier``'s result for duplicate ``draft`` without running it (``reuse_duplicates``)."""
        trial = self._create(draft)
        now = time.time()
        note = f"duplicate of #{earlier.number} (the same configuration): its result is recorded, nothing ran"
        done = trial.model_copy(
            update={
                **result_fields(earlier, note),
                "started_at": now,
                "finished_at": now,
                "info": {"duplicate_of": earlier.number},
            }
        )
        self._replace(done)
        self.emit(
            DuplicateProposal(
                proposer=draft.proposer.value, params=draft.params, duplicate_of=earlier.number, reused=True
            ),
            trial=done.number,
        )
        self._finished_event(done)
        self.proposer.observe(done, self._history)

    def _record_rejected_explores(self) -> None:
        """Explore steps a proposer gave that were invalid (perturbation took their place): recorded."""
        if self.population is None:
            return
        for draft, problems in self.population.rejected:
            self.emit(InvalidProposal(proposer=draft.proposer.value, problems=problems, params=draft.params, pbt=True))
        self.population.rejected.clear()

    # ------------------------------------------------------------------ fingerprints
    def _on_fingerprint(self, trial_id: str, trial: Trial, fingerprint: str) -> Trial:
        """Record a trial's functional fingerprint; stop it when a finished trial has the same (dedupe.py)."""
        if trial.lineage is not None or "fingerprint" in trial.info:
            return trial  # a PBT segment shares its parent's function; the first fingerprint counts
        earlier = equivalent_of(fingerprint, trial, self._history)
        if earlier is None:
            return self._annotate(trial_id, trial, fingerprint=fingerprint)
        trial = self._annotate(trial_id, trial, fingerprint=fingerprint, equivalent_to=earlier.number)
        if trial_id not in self._stopping:
            reason = f"equivalent to #{earlier.number}: the same functional fingerprint ({fingerprint})"
            self._request_stop(trial_id, trial, EquivalentTrial(reason=reason, equivalent_to=earlier.number))
        return trial
