"""Search-space edits proposed by the model (or a person in chat): check, approve, apply, with provenance.

An edit changes parameter ranges only: ``widen`` or ``narrow`` a range or a choice list, ``add`` a new
parameter, or ``freeze`` one to a single value (it becomes a one-choice categorical). Nothing else of
the spec (command, workdir, environment, fixed values) can be edited. Every outcome is an event:

* ``space_edited`` (by the engine's ``set_space``) when applied, with the rationale and source;
* ``space_edit_proposed`` when it waits for approval (``tunesmith chat``'s ``/approve`` or
  ``approve_pending`` applies it later);
* ``space_edit_rejected`` when it is invalid or a person declined it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from agent.core.events import EventData, SpaceEditDecided, SpaceEditProposed, SpaceEditRejected, payload
from agent.core.records import EventKind
from agent.core.space import CategoricalParam, FloatParam, IntParam, SearchSpace
from agent.errors import SpecError
from agent.study.store.base import TrialStore
from tools.protocol import EditResult, SpaceEdit

#: decides on an edit described in one line: True apply, False decline, None leave it pending
Approver = Callable[[str], bool | None]
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def approve_all(_: str) -> bool:
    return True


def leave_pending(_: str) -> None:
    return None


def describe(edit: SpaceEdit) -> str:
    parts = [f"{edit.action} {edit.param}"]
    for key in ("type", "low", "high", "log", "choices", "value"):
        v = getattr(edit, key)
        if v is not None:
            parts.append(f"{key}={v}")
    return " ".join(parts) + f" — {edit.rationale}"


def _bounds(old: FloatParam | IntParam, edit: SpaceEdit) -> tuple[float, float]:
    low = old.low if edit.low is None else edit.low
    high = old.high if edit.high is None else edit.high
    if isinstance(old, IntParam) and not (float(low).is_integer() and float(high).is_integer()):
        raise SpecError(f"{edit.param} is an integer parameter; give integer bounds")
    return low, high


def _prune_conditions(params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Drop condition values a narrowed parent can no longer take; a child left with none is never active
    again and is removed (repeatedly, for grandchildren)."""
    changed = True
    while changed:
        changed = False
        for name, p in list(params.items()):
            when = p.get("when")
            if not when:
                continue
            kept: dict[str, list[Any]] = {}
            for parent, values in when.items():
                choices = params.get(parent, {}).get("choices")
                ok = [v for v in values if choices is None or any(repr(v) == repr(c) for c in choices)]
                kept[parent] = ok if parent in params else []
            if any(not v for v in kept.values()):
                del params[name]
                changed = True
            elif kept != when:
                params[name] = {**p, "when": kept}
                changed = True
    return params


def apply_edit(space: SearchSpace, edit: SpaceEdit, *, fixed: Mapping[str, Any] | None = None) -> SearchSpace:
    """The space after ``edit``; ``SpecError`` (one line, says why) when the edit is invalid."""
    params = {n: p.model_dump(exclude_none=True) for n, p in space.params.items()}
    name = edit.param
    if edit.action == "add":
        if not NAME.match(name):
            raise SpecError(f"'{name}' is not a valid parameter name; use letters, digits and _")
        if name in params or name in (fixed or {}):
            raise SpecError(f"'{name}' already exists; widen or narrow it instead")
        new: dict[str, Any] = {"type": edit.type}
        if edit.type == "categorical":
            new["choices"] = edit.choices
        else:
            new.update(low=edit.low, high=edit.high, log=bool(edit.log))
        params[name] = new
        return SearchSpace.from_dict(params)
    if name not in space.params:
        raise SpecError(f"there is no parameter '{name}'; the space has {', '.join(space.names)}")
    old = space.params[name]
    if edit.action == "freeze":
        if (err := old.contains(edit.value)) is not None:
            raise SpecError(f"cannot freeze {name}: {err}")
        value = (
            int(edit.value)
            if isinstance(old, IntParam)
            else float(edit.value)
            if isinstance(old, FloatParam)
            else edit.value
        )
        params[name] = {"type": "categorical", "choices": [value], **({"when": old.when} if old.when else {})}
        return SearchSpace.from_dict(_prune_conditions(params))
    if isinstance(old, CategoricalParam):
        if edit.choices is None:
            raise SpecError(f"{name} is categorical; give choices to {edit.action} it")
        before = {repr(c) for c in old.choices}
        after = {repr(c) for c in edit.choices}
        if edit.action == "widen" and not before < after:
            raise SpecError(f"widen {name}: the new choices must include all of {old.choices} and add some")
        if edit.action == "narrow" and not (after < before and after):
            raise SpecError(f"narrow {name}: give a non-empty strict subset of {old.choices}")
        params[name] = {**params[name], "choices": list(edit.choices)}
        return SearchSpace.from_dict(_prune_conditions(params))
    low, high = _bounds(old, edit)
    if edit.action == "widen" and not (low <= old.low and high >= old.high and (low, high) != (old.low, old.high)):
        raise SpecError(f"widen {name}: [{low:g}, {high:g}] must contain [{old.low:g}, {old.high:g}] and be larger")
    if edit.action == "narrow" and not (low >= old.low and high <= old.high and (low, high) != (old.low, old.high)):
        raise SpecError(
            f"narrow {name}: [{low:g}, {high:g}] must lie inside [{old.low:g}, {old.high:g}] and be smaller"
        )
    update: dict[str, Any] = {
        "low": int(low) if isinstance(old, IntParam) else low,
        "high": int(high) if isinstance(old, IntParam) else high,
    }
    if edit.log is not None:
        update["log"] = edit.log
    params[name] = {**params[name], **update}
    return SearchSpace.from_dict(params)


class SpaceEditor:
    """Checks an edit, asks ``approve``, and applies it through ``apply(space, rationale=, source=)``."""

    def __init__(
        self,
        *,
        current: Callable[[], SearchSpace],
        apply: Callable[..., None],
        emit: Callable[[EventData], Any],
        approve: Approver = leave_pending,
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        self.current = current
        self.apply = apply
        self.emit = emit
        self.approve = approve
        self.fixed = dict(fixed or {})

    def propose(self, edit: SpaceEdit, *, source: str = "llm") -> EditResult:
        record = asdict(edit)
        try:
            new = apply_edit(self.current(), edit, fixed=self.fixed)
        except SpecError as exc:
            self.emit(SpaceEditRejected(**record, source=source, why=str(exc)))
            return EditResult("rejected", f"{exc}")
        decision = self.approve(describe(edit))
        if decision is None:
            self.emit(SpaceEditProposed(**record, source=source))
            return EditResult(
                "pending", "waiting for approval (tunesmith chat: /approve); keep proposing within the current space"
            )
        if not decision:
            self.emit(SpaceEditRejected(**record, source=source, why="declined by the user"))
            return EditResult("rejected", "the user declined this edit; keep the current space")
        self.apply(new, rationale=f"{describe(edit)}", source=source)
        return EditResult("applied", "applied; new proposals must fit the new space", new.describe())


def pending_edits(store: TrialStore) -> list[tuple[int, SpaceEdit]]:
    """Edits still waiting for approval: (event id, edit), oldest first."""
    decided = {payload(e, SpaceEditDecided).proposal for e in store.events(EventKind.SPACE_EDIT_DECIDED)}
    out = []
    for e in store.events(EventKind.SPACE_EDIT_PROPOSED):
        if e.id not in decided:
            fields = {k: v for k, v in e.data.items() if k in SpaceEdit.__dataclass_fields__}
            out.append((e.id, SpaceEdit(**fields)))
    return out


def decide_pending(editor: SpaceEditor, store: TrialStore, proposal: int, *, approve: bool) -> EditResult:
    """Approve (apply, re-checked against the space as it is now) or decline a pending edit."""
    waiting = dict(pending_edits(store))
    if proposal not in waiting:
        raise SpecError(
            f"no space edit #{proposal} is waiting for approval"
            + (f"; pending: {', '.join(f'#{i}' for i in waiting)}" if waiting else "")
        )
    edit = waiting[proposal]
    result = EditResult("rejected", "declined")
    if approve:
        result = SpaceEditor(
            current=editor.current, apply=editor.apply, emit=editor.emit, approve=approve_all, fixed=editor.fixed
        ).propose(edit, source="user")
    editor.emit(SpaceEditDecided(proposal=proposal, approved=approve, status=result.status))
    return result
