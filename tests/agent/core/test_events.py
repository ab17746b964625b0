"""Typed event payloads (agent/core/events.py): one model per kind, stored as written, read back typed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from agent.core.events import (
    PAYLOADS,
    SETUP_BROKEN,
    CommandDone,
    DuplicateProposal,
    NoCheckpoint,
    Reflection,
    TrialStarted,
    payload,
    setup_broken,
)
from agent.core.records import Event, EventKind
from agent.study.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[3]


def test_every_kind_has_exactly_one_payload_model() -> None:
    assert set(PAYLOADS) == set(EventKind)
    for kind, model in PAYLOADS.items():
        assert model.KIND is kind, model.__name__


def test_stored_data_is_what_the_writer_set_and_reads_back_typed() -> None:
    store = MemoryStore()
    event = store.record(Reflection(text="adam leads", trials=[1, 2]), trial=2)
    assert event.kind == "reflection" and event.trial == 2
    assert event.data == {"text": "adam leads", "trials": [1, 2]}  # no unset field (model) stored
    back = payload(store.events(EventKind.REFLECTION)[0], Reflection)
    assert back.text == "adam leads" and back.trials == [1, 2] and back.model is None


def test_reading_tolerates_older_and_newer_writers() -> None:
    old = Event(id=7, kind="duplicate_proposal", data={"params": {"x": 1}, "from_a_newer_version": True})
    read = payload(old, DuplicateProposal)
    assert read.params == {"x": 1} and read.reused is False and read.duplicate_of is None


def test_reading_an_event_as_another_kind_fails_loudly() -> None:
    with pytest.raises(ValueError, match="trial_started"):
        payload(Event(id=3, kind="trial_started"), CommandDone)


def test_the_lineage_of_a_plain_trial_is_stored_as_null() -> None:
    started = TrialStarted(params={"lr": 0.1}, proposer="strategy", strategy="tpe", retry_of=None, lineage=None)
    assert started.as_data()["lineage"] is None


def test_setup_broken_picks_the_model_of_the_finding() -> None:
    found = setup_broken(EventKind.NO_CHECKPOINT, "save a checkpoint", [4])
    assert isinstance(found, NoCheckpoint) and found.as_data() == {"message": "save a checkpoint", "trials": [4]}
    assert {m.KIND for m in SETUP_BROKEN} == {
        EventKind.IDENTICAL_FAILURES,
        EventKind.IDENTICAL_METRICS,
        EventKind.NO_CHECKPOINT,
    }
    with pytest.raises(ValueError):
        setup_broken(EventKind.CHAT, "x", [])


def _raw_writes(path: Path) -> list[int]:
    """Lines of ``path`` that call ``add_event`` (the store's untyped primitive)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_event"
    ]


def test_nothing_outside_the_store_writes_an_untyped_event() -> None:
    """Every writer goes through ``store.record(Payload(...))`` / ``emit(Payload(...))``, so a misspelt
    field fails mypy; only the store package itself calls its ``add_event`` primitive."""
    offenders = []
    for package in ("agent", "tools", "evals", "tunesmith", "scripts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel.parts[:3] == ("agent", "study", "store"):
                continue
            offenders += [f"{rel}:{line}" for line in _raw_writes(path)]
    assert not offenders, "write events through store.record(<payload>) (agent/core/events.py): " + ", ".join(offenders)


def test_the_checker_finds_a_planted_raw_write(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text("def f(store):\n    store.add_event('chat', {'txt': 'hi'})\n", encoding="utf-8")
    assert _raw_writes(planted) == [2]
