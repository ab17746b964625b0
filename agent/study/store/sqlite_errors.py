"""Translation of SQLite's errors into one-line ``StudyError`` messages that say how to fix them.

Only environmental failures are translated (disk full, read-only, locked, damaged, cannot open,
I/O); ``IntegrityError``, ``ProgrammingError`` and unknown operational errors ("no such column")
are bugs of ours and must propagate unchanged, so ``study_error`` returns None for them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.errors import StudyError

#: how long a write waits for another process's write lock before giving up
BUSY_TIMEOUT_S = 5.0

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
        "full": f"disk full while writing {db}; free space on that disk, then continue with "
        f"`tunesmith resume {folder}`",
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
