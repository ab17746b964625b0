"""``SQLiteStore``: a study's durable memory, one ``study.db`` (SQLite, WAL) per study folder.

Contract, beyond ``TrialStore``'s:

* Every public call is one transaction: a process killed at any moment (kill -9 included) leaves
  the whole write or none of it. Writes take ``BEGIN IMMEDIATE``, so trial numbers are assigned
  atomically even when several processes write to one study.
* ``trials()`` is cheap however large the study: parsed ``Trial`` objects are cached, kept current by
  this connection's own writes, and refreshed (only the changed rows) when another connection has
  committed (``PRAGMA data_version`` tells).
* Safe to share between threads (one connection, one lock).
* ``readonly=True`` opens with ``mode=ro`` so ``status``/``best``/``export`` can read while another
  process runs the study; when the folder itself is read-only (no ``-shm`` file can be made) it falls
  back to ``immutable=1``, which is only sound because then nobody can be writing.
* SQLite's errors are translated here, at the boundary, into ``StudyError`` with one line that says
  how to fix the problem (disk full, read-only, locked too long, not a tunesmith database; see
  ``sqlite_errors``). Other SQLite errors are bugs of ours and propagate unchanged.

Layout (schema version in ``PRAGMA user_version``, ``PRAGMA application_id`` marks our files)::

    meta(key, value JSON)
    trials(number PK, state, value, proposer, created_at, finished_at, rev, record JSON)
    metrics(id, trial -> trials.number, step, "values" JSON, time, final)
    events(id, time, kind, trial, data JSON)

``trials.record`` is the authoritative full ``Trial``; the other trial columns are copies for SQL
readers (export, dashboards). ``rev`` is a study-wide write counter that lets a connection reload
only the rows that changed since it last looked.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agent.core.records import Event, EventKind, MetricPoint, Trial, TrialDraft, TrialState
from agent.errors import StudyError
from agent.study.store._codec import dumps, loads, point_values_to_json, trial_from_json, trial_to_json
from agent.study.store.base import TrialStore
from agent.study.store.sqlite_errors import (
    APPLICATION_ID,
    BUSY_TIMEOUT_S,
    START_AGAIN,
    study_error,
    unusable_reason,
)

DB_NAME = "study.db"
SCHEMA_VERSION = 1

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE trials (
        number INTEGER PRIMARY KEY, state TEXT NOT NULL, value REAL, proposer TEXT NOT NULL,
        created_at REAL NOT NULL, finished_at REAL, rev INTEGER NOT NULL, record TEXT NOT NULL)""",
    "CREATE INDEX trials_rev ON trials(rev)",
    """CREATE TABLE metrics (
        id INTEGER PRIMARY KEY AUTOINCREMENT, trial INTEGER NOT NULL REFERENCES trials(number),
        step INTEGER, "values" TEXT NOT NULL, time REAL NOT NULL, final INTEGER NOT NULL)""",
    "CREATE INDEX metrics_trial ON metrics(trial, id)",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL,
        trial INTEGER, data TEXT NOT NULL)""",
    "CREATE INDEX events_kind ON events(kind, id)",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


def _rollback(conn: sqlite3.Connection) -> None:
    # The error that made us roll back is the one worth reporting; a failing ROLLBACK (the
    # connection is already broken) adds nothing, and SQLite discards the open transaction anyway.
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _db_path(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix == ".db" else p / DB_NAME


class SQLiteStore(TrialStore):
    """A ``TrialStore`` in ``<folder>/study.db``.

    ``path`` is the study folder (created if missing, unless ``readonly``) or, when it ends in
    ``.db``, the database file itself. ``create=False`` opens an existing study only: a missing or empty
    database is refused (``StudyError``), never created or given a schema.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, create: bool = True) -> None:
        self.db_path = _db_path(path).absolute()
        self.folder = self.db_path.parent
        self.readonly = readonly
        self.create = create and not readonly
        self._lock = threading.RLock()
        self._cache: dict[int, Trial] = {}
        self._ordered: list[Trial] | None = None  # sorted view of _cache, rebuilt lazily
        self._rev = 0  # highest trials.rev loaded into the cache
        self._data_version: int | None = None
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = self._open()
            self._prepare(self._conn)
            self._sync(self._conn)
        except sqlite3.Error as exc:
            self.close()
            raise (study_error(exc, self.db_path) or exc) from exc
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ opening
    def _connect(self, query: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            f"{self.db_path.as_uri()}?{query}",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_S,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _open(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.db_path.is_file():
                raise StudyError(f"no study at {self.folder}: {self.db_path} does not exist; check the path")
            conn: sqlite3.Connection | None = None
            try:
                conn = self._connect("mode=ro")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                # A WAL database needs a writable -shm file even to read; in a read-only folder no
                # one can be writing, so reading the file as immutable is sound.
                if conn is not None:
                    conn.close()
                return self._connect("mode=ro&immutable=1")
        if not self.create:
            problem = unusable_reason(self.db_path)
            if problem is not None:
                raise StudyError(f"{self.folder} holds no usable study ({problem}); {START_AGAIN.format(self.folder)}")
            conn = self._connect("mode=rw")
        else:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StudyError(
                    f"cannot create study folder {self.folder} ({exc.strerror}); check the path and its permissions"
                ) from exc
            conn = self._connect("mode=rwc")
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            # NORMAL in WAL mode survives a killed process; only a power cut may lose the last commit.
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the schema in a new database, or check that an existing one is ours and current."""
        if not self.readonly:
            conn.execute("BEGIN IMMEDIATE")
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app == 0 and version == 0 and tables == 0:
                if self.readonly or not self.create:
                    raise StudyError(f"{self.db_path} holds no tunesmith study yet; check the path")
                for statement in _SCHEMA:
                    conn.execute(statement)
            elif app != APPLICATION_ID:
                raise StudyError(
                    f"{self.db_path} is not a tunesmith database; move it aside or use another study folder"
                )
            elif version > SCHEMA_VERSION:
                raise StudyError(
                    f"{self.db_path} was written by a newer tunesmith (schema {version}, "
                    f"this one reads {SCHEMA_VERSION}); upgrade tunesmith to open it"
                )
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    # ------------------------------------------------------------- transactions
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise RuntimeError(f"the store for {self.folder} is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise (study_error(exc, self.db_path) or exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the caller holds ``self._lock`` across it and its cache update."""
        if self.readonly:
            raise StudyError(f"study folder {self.folder} was opened read-only; open it without readonly to change it")
        with self._reading() as conn:
            # IMMEDIATE takes the write lock up front: two processes cannot both read MAX(number).
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._sync(conn)
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def _sync(self, conn: sqlite3.Connection) -> None:
        """Bring the trial cache up to date if another connection committed since we last looked."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        # data_version is read first: a commit landing in between is loaded now and seen again later.
        rows = conn.execute("SELECT number, rev, record FROM trials WHERE rev > ? ORDER BY rev", (self._rev,))
        for number, rev, record in rows:
            self._cache[number] = self._parse_trial(number, record)
            self._rev = max(self._rev, rev)
            self._ordered = None
        self._data_version = version

    def _parse_trial(self, number: int, record: str) -> Trial:
        try:
            return trial_from_json(record)
        except (ValueError, ValidationError) as exc:
            first = str(exc).strip().splitlines()[0]
            raise StudyError(
                f"trial {number} in {self.db_path} cannot be read ({first}); the database is "
                "damaged or was written by a newer tunesmith"
            ) from exc

    def _remember(self, trial: Trial, rev: int) -> None:
        """Put a trial this connection has just committed into the cache."""
        ordered = self._ordered
        n = trial.number
        if ordered is not None and n < len(ordered) and ordered[n].number == n:
            ordered[n] = trial
        elif ordered is not None and trial.number == len(ordered) and trial.number not in self._cache:
            ordered.append(trial)
        else:
            self._ordered = None
        self._cache[trial.number] = trial
        self._rev = max(self._rev, rev)

    # -------------------------------------------------------------- the seam
    def create_trial(self, draft: TrialDraft) -> Trial:
        with self._lock:
            with self._writing() as conn:
                number = conn.execute("SELECT COALESCE(MAX(number), -1) + 1 FROM trials").fetchone()[0]
                trial = Trial(
                    number=number,
                    params=draft.params,
                    state=TrialState.RUNNING,
                    proposer=draft.proposer,
                    rationale=draft.rationale,
                    model=draft.model,
                    strategy=draft.strategy,
                    retry_of=draft.retry_of,
                    lineage=draft.lineage,
                )
                rev = self._rev + 1  # _sync ran inside the transaction: _rev is the study-wide maximum
                conn.execute(
                    "INSERT INTO trials (number, state, value, proposer, created_at, finished_at, rev,"
                    " record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (*self._columns(trial), rev, trial_to_json(trial)),
                )
            self._remember(trial, rev)
            return trial

    def update_trial(self, trial: Trial) -> None:
        with self._lock:
            with self._writing() as conn:
                rev = self._rev + 1
                cur = conn.execute(
                    "UPDATE trials SET state = ?, value = ?, proposer = ?, created_at = ?, finished_at = ?,"
                    " rev = ?, record = ? WHERE number = ?",
                    (*self._columns(trial)[1:], rev, trial_to_json(trial), trial.number),
                )
                if cur.rowcount == 0:
                    raise KeyError(trial.number)
            self._remember(trial, rev)

    @staticmethod
    def _columns(t: Trial) -> tuple[Any, ...]:
        return t.number, t.state.value, t.value, t.proposer.value, t.created_at, t.finished_at

    def add_metrics(self, number: int, points: Sequence[MetricPoint]) -> None:
        with self._lock, self._writing() as conn:
            if conn.execute("SELECT 1 FROM trials WHERE number = ?", (number,)).fetchone() is None:
                raise KeyError(number)
            conn.executemany(
                'INSERT INTO metrics (trial, step, "values", time, final) VALUES (?, ?, ?, ?, ?)',
                [(number, p.step, point_values_to_json(p), p.time, int(p.final)) for p in points],
            )

    def metrics(self, number: int) -> list[MetricPoint]:
        with self._reading() as conn:
            rows = conn.execute(
                'SELECT step, "values", time, final FROM metrics WHERE trial = ? ORDER BY id', (number,)
            ).fetchall()
        return [MetricPoint(step=s, values=loads(v), time=t, final=bool(f)) for s, v, t, f in rows]

    def add_event(self, kind: EventKind, data: dict[str, Any] | None = None, *, trial: int | None = None) -> Event:
        encoded = dumps(data or {})
        now = time.time()
        with self._lock, self._writing() as conn:
            cur = conn.execute(
                "INSERT INTO events (time, kind, trial, data) VALUES (?, ?, ?, ?)",
                (now, str(kind), trial, encoded),
            )
            event_id = cur.lastrowid
        return Event(id=event_id or 0, time=now, kind=str(kind), trial=trial, data=loads(encoded))

    def trials(self) -> list[Trial]:
        with self._reading() as conn:
            self._sync(conn)
            if self._ordered is None:
                self._ordered = [self._cache[n] for n in sorted(self._cache)]
            return list(self._ordered)

    def trial(self, number: int) -> Trial:
        with self._reading() as conn:
            self._sync(conn)
            return self._cache[number]

    def events(self, kind: EventKind | None = None, *, after: int = 0) -> list[Event]:
        query = "SELECT id, time, kind, trial, data FROM events WHERE id > ?"
        args: tuple[Any, ...] = (after,)
        if kind is not None:
            query, args = query + " AND kind = ?", (after, kind)
        with self._reading() as conn:
            rows = conn.execute(query + " ORDER BY id", args).fetchall()
        return [Event(id=i, time=t, kind=k, trial=n, data=loads(d)) for i, t, k, n, d in rows]

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        encoded = dumps(value)
        with self._lock, self._writing() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, encoded),
            )

    # ------------------------------------------------------------------ extras
    def integrity_check(self) -> str:
        """SQLite's own check of the whole file: ``"ok"``, or the problems found, joined by "; "."""
        with self._reading() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.folder)!r}{', readonly=True' if self.readonly else ''})"
