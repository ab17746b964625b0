"""What only the SQLite store promises: durability, WAL, other processes, kill -9, clear errors."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from agent.core.records import MetricPoint, ProposerKind, TrialDraft, TrialState
from agent.errors import StudyError
from agent.study.store import SQLiteStore
from agent.study.store import sqlite as sqlite_mod
from agent.study.store.sqlite_errors import study_error

ROOT = Path(__file__).resolve().parents[3]


def draft(**params: object) -> TrialDraft:
    return TrialDraft(params=dict(params), proposer=ProposerKind.STRATEGY)


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def test_wal_mode_and_pragmas(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path) as store:
        store.create_trial(draft())
        raw = sqlite3.connect(store.db_path)
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA user_version").fetchone()[0] == sqlite_mod.SCHEMA_VERSION
        assert raw.execute("PRAGMA application_id").fetchone()[0] == sqlite_mod.APPLICATION_ID
        raw.close()
        assert store.db_path == tmp_path / "study.db"
        assert store.integrity_check() == "ok"


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s")
    t = store.create_trial(draft(lr=0.01))
    done = t.model_copy(update={"state": TrialState.COMPLETE, "value": float("nan"), "metrics": {"a": 1.0}})
    store.update_trial(done)
    store.add_metrics(0, [MetricPoint(step=1, values={"a": 1.0})])
    event = store.add_event("note", {"text": "hi"}, trial=0)
    store.set_meta("seed", 7)
    store.close()

    again = SQLiteStore(tmp_path / "s")
    [back] = again.trials()
    assert back.model_dump(exclude={"value"}) == done.model_dump(exclude={"value"})
    assert back.value is not None and back.value != back.value  # NaN kept, not turned into None
    assert again.metrics(0)[0].values == {"a": 1.0}
    assert again.events() == [event]
    assert again.get_meta("seed") == 7
    assert again.create_trial(draft()).number == 1
    again.close()


def test_another_process_sees_writes_and_numbers_continue(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    store.create_trial(draft(x=0))
    assert len(store.trials()) == 1  # the cache is warm now
    run_python(
        """
        import sys
        from agent.core.records import ProposerKind, TrialDraft, TrialState
        from agent.study.store import SQLiteStore
        s = SQLiteStore(sys.argv[1])
        t = s.create_trial(TrialDraft(params={"x": 1}, proposer=ProposerKind.USER))
        s.update_trial(s.trial(0).model_copy(update={"state": TrialState.COMPLETE, "value": 2.0}))
        s.add_event("from_child")
        s.close()
        """,
        str(tmp_path),
    )
    trials = store.trials()
    assert [t.number for t in trials] == [0, 1]
    assert trials[0].state is TrialState.COMPLETE and trials[0].value == 2.0
    assert trials[1].proposer is ProposerKind.USER
    assert store.create_trial(draft()).number == 2
    assert [e.kind for e in store.events()] == ["from_child"]
    store.close()


def test_two_processes_racing_get_distinct_numbers(tmp_path: Path) -> None:
    SQLiteStore(tmp_path).close()
    code = """
        import sys
        from agent.core.records import ProposerKind, TrialDraft
        from agent.study.store import SQLiteStore
        s = SQLiteStore(sys.argv[1])
        print([s.create_trial(TrialDraft(params={}, proposer=ProposerKind.STRATEGY)).number for _ in range(50)])
        """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sorted(outs[0] + outs[1]) == list(range(100))
    with SQLiteStore(tmp_path, readonly=True) as store:
        assert [t.number for t in store.trials()] == list(range(100))


def test_readonly_reads_while_a_writer_is_open(tmp_path: Path) -> None:
    writer = SQLiteStore(tmp_path)
    writer.create_trial(draft(a=1))
    writer.set_meta("status", "running")
    reader = SQLiteStore(tmp_path, readonly=True)
    assert len(reader.trials()) == 1 and reader.get_meta("status") == "running"
    writer.create_trial(draft(a=2))
    assert [t.params for t in reader.trials()] == [{"a": 1}, {"a": 2}]
    with pytest.raises(StudyError, match="read-only"):
        reader.create_trial(draft())
    with pytest.raises(StudyError, match="read-only"):
        reader.set_meta("x", 1)
    writer.close()
    reader.close()


def test_readonly_falls_back_to_immutable_in_a_read_only_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SQLiteStore(tmp_path) as writer:
        writer.create_trial(draft(a=1))
    real_connect = SQLiteStore._connect
    queries: list[str] = []

    def connect(self: SQLiteStore, query: str) -> sqlite3.Connection:
        queries.append(query)
        if query == "mode=ro":  # what a read-only folder does to a WAL database (we run as root here)
            raise sqlite3.OperationalError("unable to open database file")
        return real_connect(self, query)

    monkeypatch.setattr(SQLiteStore, "_connect", connect)
    with SQLiteStore(tmp_path, readonly=True) as reader:
        assert [t.params for t in reader.trials()] == [{"a": 1}]
    assert queries == ["mode=ro", "mode=ro&immutable=1"]


def test_readonly_missing_study_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="does not exist"):
        SQLiteStore(tmp_path / "nope", readonly=True)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (sqlite3.OperationalError("attempt to write a readonly database"), "is read-only"),
        (sqlite3.OperationalError("database or disk is full"), "disk full"),
        (sqlite3.OperationalError("database is locked"), "locked by another process"),
        (sqlite3.DatabaseError("file is not a database"), "not a tunesmith database"),
        (sqlite3.DatabaseError("database disk image is malformed"), "damaged"),
        (sqlite3.OperationalError("disk I/O error"), "I/O error"),
    ],
)
def test_sqlite_errors_become_one_line_study_errors(exc: sqlite3.Error, expected: str) -> None:
    err = study_error(exc, Path("/studies/s1/study.db"))
    assert isinstance(err, StudyError)
    assert expected in str(err) and "\n" not in str(err)
    assert "/studies/s1" in str(err)


def test_our_own_sql_mistakes_are_not_translated() -> None:
    db = Path("/x/study.db")
    assert study_error(sqlite3.IntegrityError("UNIQUE constraint failed"), db) is None
    assert study_error(sqlite3.ProgrammingError("closed"), db) is None
    assert study_error(sqlite3.OperationalError("no such column: foo"), db) is None


def test_garbage_file_named_study_db(tmp_path: Path) -> None:
    (tmp_path / "study.db").write_bytes(b"this is not sqlite at all\n" * 100)
    with pytest.raises(StudyError, match="not a tunesmith database"):
        SQLiteStore(tmp_path)
    with pytest.raises(StudyError, match="not a tunesmith database"):
        SQLiteStore(tmp_path, readonly=True)


def test_foreign_or_newer_database_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    raw = sqlite3.connect(other / "study.db")
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    with pytest.raises(StudyError, match="not a tunesmith database"):
        SQLiteStore(other)

    SQLiteStore(tmp_path / "new").close()
    raw = sqlite3.connect(tmp_path / "new" / "study.db")
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(StudyError, match="newer tunesmith"):
        SQLiteStore(tmp_path / "new")


def test_lock_held_too_long_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_mod, "BUSY_TIMEOUT_S", 0.2)
    store = SQLiteStore(tmp_path)
    blocker = sqlite3.connect(store.db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StudyError, match="locked"):
            store.create_trial(draft())
        assert store.trials() == []  # readers are not blocked by a writer in WAL mode
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.create_trial(draft()).number == 0
    store.close()


def test_trials_stays_cheap_for_a_large_study(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path)
    for i in range(1000):
        t = store.create_trial(draft(i=i))
        store.update_trial(t.model_copy(update={"state": TrialState.COMPLETE, "value": float(i)}))
    start = time.perf_counter()
    for _ in range(200):
        trials = store.trials()
    assert len(trials) == 1000
    assert time.perf_counter() - start < 0.5  # ~15 µs a call here; parsing 1000 records would be ~10 ms
    store.close()


WRITER = """
import sys, time
from agent.core.records import MetricPoint, ProposerKind, TrialDraft, TrialState
from agent.study.store import SQLiteStore
s = SQLiteStore(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    t = s.create_trial(TrialDraft(params={"i": i, "pad": "x" * 2000}, proposer=ProposerKind.STRATEGY))
    s.add_metrics(t.number, [MetricPoint(step=k, values={"loss": 1.0 / (k + 1)}) for k in range(3)])
    s.add_event("trial_started", {"pad": "y" * 1000}, trial=t.number)
    s.update_trial(t.model_copy(update={"state": TrialState.COMPLETE, "value": float(i)}))
    s.set_meta("last", i)
    i += 1
"""


def test_kill_9_at_random_moments_leaves_a_sound_database(tmp_path: Path) -> None:
    rng = random.Random(1234)
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()

        with SQLiteStore(tmp_path) as store:
            assert store.integrity_check() == "ok"
            trials = store.trials()
            assert [t.number for t in trials] == list(range(len(trials)))
            for t in trials:
                # add_metrics wrote its three points in one transaction: all or none.
                assert len(store.metrics(t.number)) in (0, 3)
                if t.state is TrialState.COMPLETE:
                    assert len(store.metrics(t.number)) == 3
            store.events()
            store.get_meta("last")
        raw = sqlite3.connect(tmp_path / "study.db")
        for table, column in [("trials", "record"), ("metrics", '"values"'), ("events", "data"), ("meta", "value")]:
            for (text,) in raw.execute(f"SELECT {column} FROM {table}"):
                json.loads(text)
        raw.close()
    with SQLiteStore(tmp_path) as store:
        assert len(store.trials()) > 0
