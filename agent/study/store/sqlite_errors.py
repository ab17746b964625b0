"""Translation of SQLite's errors into one-line ``StudyError`` messages that say how to fix them, and
``unusable_reason``: why a ``study.db`` holds no usable study (empty, not ours, damaged, never started).

Only environmental failures are translated (disk full, read-only, locked, damaged, cannot open,
I/O); ``IntegrityError``, ``ProgrammingError`` and unknown operational errors ("no such column")
are bugs of ours and must propagate unchanged, so ``study_error`` returns None for them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from agent.errors import StudyError

#: how long a write waits for another process's write lock before giving up
BUSY_TIMEOUT_S = 5.0
APPLICATION_ID = 0x54554E45  # "TUNE": tells our databases from any other SQLite file (PRAGMA application_id)

# Primary SQLite result codes (exc.sqlite_errorcode & 0xFF), with message fragments as a fallback
# for errors that carry no code.
_KINDS: tuple[tuple[str, frozenset[int], tuple[str, ...]], ...] = (
    ("full", frozenset({13}), ("database or disk is full", "disk is full")),
    ("readonly", frozenset({8}), ("readonly database", "read-only")),
    ("locked", frozenset({5, 6}), ("database is locked", "table is locked")),
    ("corrupt", frozenset({11, 26}), ("file is not a database", "malformed")),
    ("cantopen", frozenset({14}), ("unable to open database file",)),
    ("ioerr", frozenset({10}), ("disk i/o error",)),
)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _trials_usage(folder: Path) -> str:
    """`` (its trial folders hold 1.2 MB, the most trials/0007 with 0.9 MB)``: what filled the disk is more
    often a trial's artifacts than the database; empty when there are none or they cannot be read."""
    sizes: dict[str, int] = {}
    try:
        for trial in (folder / "trials").iterdir():
            total = 0
            for root, _, files in os.walk(trial):
                for name in files:
                    with contextlib.suppress(OSError):
                        total += os.lstat(os.path.join(root, name)).st_size
            sizes[trial.name] = total
    except OSError:
        return ""
    if not sizes or not sum(sizes.values()):
        return ""
    largest = max(sizes, key=lambda k: sizes[k])
    return (
        f" (its trial folders hold {_size(sum(sizes.values()))}, the most trials/{largest} with "
        f"{_size(sizes[largest])}: a trial's artifacts may have filled it)"
    )


def study_error(exc: sqlite3.Error, db: Path) -> StudyError | None:
    """The ``StudyError`` to raise for SQLite error ``exc`` on database ``db``; None if it is a bug."""
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError) or isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.InterfaceError
    ):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    kind = next(
        (
            k
            for k, codes, frags in _KINDS
            if (code is not None and code & 0xFF in codes) or any(f in text for f in frags)
        ),
        None,
    )
    folder = db.parent
    messages = {
        "full": f"disk full: no space left on the disk holding {folder}{_trials_usage(folder)}; free space "
        f"there, then continue with `tunesmith resume {folder}`",
        "readonly": f"study folder {folder} is read-only; make it and its study.db* files writable "
        "(chmod u+w), or use a read-only command (status, best, export)",
        "locked": f"study database {db} stayed locked by another process for more than "
        f"{BUSY_TIMEOUT_S:g} s; another tunesmith is probably writing to this study: wait for it or "
        "stop it, then retry",
        "corrupt": f"{db} is not a tunesmith database or is damaged; move it aside (or restore a "
        "backup) and use a new study folder",
        "cantopen": f"cannot open {db}; check that the folder exists and that you may read and write it",
        "ioerr": f"disk I/O error on {db}; check the disk and its free space, then `tunesmith resume {folder}`",
    }
    return StudyError(messages[kind]) if kind else None


#: What to do with a folder that holds no usable study (``.format(folder)``).
START_AGAIN = "delete it (rm -r {0}) and start again with 'tunesmith tune SPEC --dir {0}', or use another folder"


def unusable_reason(db: Path) -> str | None:
    """Why ``db`` holds no usable study (a phrase: empty, not ours, damaged, never started), or None when it
    holds one or cannot be told now (locked, unreadable: opening it reports that). Only reads."""
    try:
        if db.stat().st_size == 0:
            return f"{db.name} is empty (0 bytes)"
    except FileNotFoundError:
        return f"there is no {db.name}"
    except OSError:
        return None
    for query in ("mode=ro", "mode=ro&immutable=1"):  # immutable: a read-only folder cannot hold the -shm file
        try:
            conn = sqlite3.connect(f"{db.absolute().as_uri()}?{query}", uri=True, timeout=BUSY_TIMEOUT_S)
        except sqlite3.Error:
            continue
        try:
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                return f"{db.name} is not a tunesmith database"
            if conn.execute("SELECT 1 FROM meta WHERE key = 'spec'").fetchone() is None:
                return f"{db.name} holds no spec: the study was never started"
            return None
        except sqlite3.OperationalError as exc:
            if "unable to open" in str(exc) or "locked" in str(exc) or "busy" in str(exc):
                continue
            return f"{db.name} is damaged ({exc})"
        except sqlite3.DatabaseError as exc:
            return f"{db.name} is damaged or not a database ({exc})"
        finally:
            conn.close()
    return None
