"""Functional hashing (after "Unified Functional Hashing in Automatic Machine Learning", Gillard et al.,
2023): do not pay twice for one function. Used by the engine; pure helpers over records.

- **Duplicates.** A proposal whose canonical configuration hash (``config_key(params, space)``: inactive
  params dropped, ints as ints, floats on their step grid ...) equals a tried trial's is not run again: the
  proposer is asked again (an ``duplicate_proposal`` event records each one). With ``reuse_duplicates:
  true`` (deterministic trials) the earlier result is recorded for it instead, as a trial of its own with
  ``info.duplicate_of``. A configuration a person queues (proposer ``user``) always runs.
- **Functional fingerprints.** A trial may report a hash of its model's outputs on a probe batch early
  (``tunesmith.fingerprint(outputs)``: a report ``{"_fingerprint": N}``). When it equals the fingerprint
  of a finished trial (complete or pruned), the trial computes the same function: it is stopped at once
  and recorded with that trial's result and ``info.equivalent_to``; the proposer is told like any other
  result. Fingerprints are not metrics: they are kept out of curves and results
  (``info.fingerprint`` holds one as hex). A segment of Population Based Training is never matched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from agent.core.records import Trial, TrialState
from agent.core.space import SearchSpace, config_key
from sandbox.base import Report
from sandbox.report import FINGERPRINT_HEX, FINGERPRINT_KEY, PRUNED_KEY

RESERVED = {FINGERPRINT_KEY, PRUNED_KEY}  # report keys that are signals, never metrics

#: How often the proposer is asked again when it proposed only duplicates, before a random untried
#: configuration of the space takes the slot.
DUPLICATE_ROUNDS = 3


def split_fingerprint(metrics: Mapping[str, float]) -> tuple[str | None, dict[str, float]]:
    """(the fingerprint as hex or None, the metrics without it and the other reserved keys)."""
    rest = {k: v for k, v in metrics.items() if k not in RESERVED}
    raw = metrics.get(FINGERPRINT_KEY)
    if raw is None or raw != raw or raw < 0 or raw == float("inf"):
        return None, rest
    return format(int(raw), f"0{FINGERPRINT_HEX}x"), rest


def without_fingerprints(reports: Sequence[Report]) -> tuple[Report, ...]:
    """``reports`` with fingerprints (and the other reserved keys) removed; a report that held only those is
    dropped."""
    out = []
    for r in reports:
        if not RESERVED & r.metrics.keys():
            out.append(r)
        elif rest := split_fingerprint(r.metrics)[1]:
            out.append(dataclasses.replace(r, metrics=rest))
    return tuple(out)


class TriedIndex:
    """The tried configurations of a running study, kept up to date as trials are created and change (the
    engine calls ``note``), so a proposal is checked without a pass over the history: the per-trial cost stays
    flat as the study grows. Rebuilt from the history when the space changes (an approved edit) or a trial
    that held a key is cancelled (rare: an interruption)."""

    def __init__(self) -> None:
        self._space: SearchSpace | None = None
        self._first: dict[str, Trial] = {}  # canonical key -> the first live trial that tried it
        self._key_of: dict[int, str] = {}
        self._dirty = True

    def note(self, trial: Trial) -> None:
        """``trial`` was created or changed."""
        if self._dirty or self._space is None:
            return
        key = self._key_of.get(trial.number)
        if key is None:
            key = self._key_of[trial.number] = config_key(trial.params, self._space)
        holder = self._first.get(key)
        if trial.state is TrialState.CANCELLED or trial.lineage is not None:
            if holder is not None and holder.number == trial.number:
                self._dirty = True  # another trial may hold the key now: rebuild on the next proposal
        elif holder is None:
            self._first[key] = trial
        elif holder.number == trial.number:
            self._first[key] = trial  # the newer record of the same trial

    def tried(self, space: SearchSpace, history: Sequence[Trial]) -> TriedConfigs:
        """The tried configurations for a proposal in ``space`` (rebuilt from ``history`` only when needed)."""
        if self._dirty or space is not self._space:
            self._space, self._first, self._key_of, self._dirty = space, {}, {}, False
            for t in history:
                if t.state is not TrialState.CANCELLED and t.lineage is None:
                    key = self._key_of[t.number] = config_key(t.params, space)
                    self._first.setdefault(key, t)
        return TriedConfigs(space, (), base=self._first)


class TriedConfigs:
    """The canonical keys of a history's tried configurations (every trial but cancelled ones, running
    included: a configuration is not run twice at once either), for ``find``. ``base`` is a maintained
    index (``TriedIndex``) used as is, without a pass over ``history``."""

    def __init__(
        self, space: SearchSpace, history: Sequence[Trial], *, base: Mapping[str, Trial] | None = None
    ) -> None:
        self.space = space
        self._base: Mapping[str, Trial] = base if base is not None else {}
        self._keys: dict[str, Trial | None] = {}
        for t in history:
            if t.state is not TrialState.CANCELLED and t.lineage is None:
                self._keys.setdefault(config_key(t.params, space), t)

    def find(self, params: Mapping[str, Any]) -> tuple[bool, Trial | None]:
        """(whether ``params`` was tried, the trial that tried it: None for one added in this batch)."""
        key = config_key(params, self.space)
        if key in self._keys:
            return True, self._keys[key]
        if key in self._base:
            return True, self._base[key]
        return False, None

    def add(self, params: Mapping[str, Any]) -> None:
        self._keys.setdefault(config_key(params, self.space), None)


def original(trial: Trial, history: Sequence[Trial]) -> Trial:
    """The trial whose result ``trial`` carries (itself unless it is a reused duplicate or an equivalent)."""
    by_number = {t.number: t for t in history}
    seen = set()
    while trial.number not in seen:
        seen.add(trial.number)
        ref = trial.info.get("duplicate_of", trial.info.get("equivalent_to"))
        if not isinstance(ref, int) or ref not in by_number:
            return trial
        trial = by_number[ref]
    return trial


def carried(trial: Trial) -> bool:
    """Whether ``trial``'s result was copied from another trial (a reused duplicate, or an equivalent)."""
    return "duplicate_of" in trial.info or "equivalent_to" in trial.info


def result_fields(source: Trial, note: str) -> dict[str, Any]:
    """The fields that record ``source``'s result on another trial, with ``note`` as its reason."""
    return {
        "state": source.state,
        "value": source.value,
        "metrics": dict(source.metrics),
        "last_step": source.last_step,
        "failure": source.failure,
        "reason": note,
    }


def equivalent_of(fingerprint: str, trial: Trial, history: Sequence[Trial]) -> Trial | None:
    """The first finished trial (complete or pruned, with a value) whose fingerprint is ``fingerprint``."""
    for t in history:
        if (
            t.number != trial.number
            and t.info.get("fingerprint") == fingerprint
            and t.state in (TrialState.COMPLETE, TrialState.PRUNED)
            and t.value is not None
        ):
            return original(t, history)
    return None
