"""The study folder: layout, the single-runner lock, and opening its store.

Layout::

    DIR/study.db         SQLite (WAL): spec, trials, metrics, events
    DIR/spec.yaml        the spec as run (human-readable copy; study.db is the source of truth)
    DIR/trials/0007/     params.json, stdout.log, stderr.log, reports.jsonl, artifacts
    DIR/study.lock       held (flock) by the one process running the study

Only one process may *run* a study at a time; readers (status, best, export, the web page) open the
database read-only and never take the lock.

A new study goes into a new or empty folder only: tunesmith never writes into a folder of the user's (a
``--dir`` that holds their own ``spec.yaml`` would otherwise lose it), and ``write_spec_copy`` never
replaces a ``spec.yaml`` it did not write.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import time
from pathlib import Path
from typing import IO, Any

import yaml

from agent.errors import StudyError
from agent.study.store.sqlite_errors import START_AGAIN, unusable_reason

DB_NAME = "study.db"
LOCK_NAME = "study.lock"


def is_study(path: Path) -> bool:
    return (path / DB_NAME).is_file()


def default_dir(name: str, root: Path | None = None) -> Path:
    """A fresh ``studies/<name>-<timestamp>`` folder path (not created)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "study"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = (root or Path.cwd() / "studies") / f"{slug}-{stamp}"
    path, i = base, 1
    while path.exists():
        path, i = base.with_name(f"{base.name}-{i}"), i + 1
    return path


def trial_dir(study: Path, number: int) -> Path:
    return study / "trials" / f"{number:04d}"


class StudyLock:
    """An exclusive, non-blocking ``flock`` on ``DIR/study.lock``, released when the process dies."""

    def __init__(self, study: Path) -> None:
        self.path = study / LOCK_NAME
        self._fh: IO[str] | None = None

    def acquire(self) -> StudyLock:
        try:
            fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the study's lifetime
        except OSError as exc:
            raise StudyError(_os_message(self.path.parent, exc)) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StudyError(
                f"study {self.path.parent} is being run by {holder}; wait for it to finish, stop it, "
                "or watch it with 'tunesmith status'"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> StudyLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def runner_gone(study: Path) -> bool:
    """True when the process that last took the study lock on this machine no longer exists, so a
    study recorded as "running" was stopped (kill -9, SIGTERM, a crash). False when it may still run,
    or when that cannot be told (no lock file, another machine): never a guess that stops a live study."""
    try:
        holder = (study / LOCK_NAME).read_text(encoding="utf-8").split()
    except OSError:
        return False
    if len(holder) != 4 or holder[0] != "pid" or not holder[1].isdigit() or holder[3] != socket.gethostname():
        return False
    try:
        os.kill(int(holder[1]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: a process with that pid exists (someone else's)
        return False
    stat = Path(f"/proc/{holder[1]}/stat")
    try:  # a zombie is gone too
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _os_message(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"study folder {path} is read-only; choose a writable --dir or fix its permissions"
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk holding {path}; free some space and run 'tunesmith resume {path}'"
    return f"cannot use study folder {path}: {exc.strerror or exc}"


def check_new(path: Path) -> Path:
    """The resolved ``path`` if a new study may go there (it does not exist, or is an empty folder);
    StudyError with the fix otherwise. Creates nothing (``prepare`` does)."""
    path = path.expanduser().resolve()
    if is_study(path):
        check_usable(path)
        raise StudyError(
            f"{path} already holds a study; continue it with 'tunesmith resume {path}' or choose another --dir"
        )
    if path.exists() and not path.is_dir():
        raise StudyError(f"{path} is a file, not a folder; choose a new folder for --dir")
    try:
        entries = [] if not path.exists() else [e for e in path.iterdir() if not _our_leftover(e)]
    except OSError as exc:
        raise StudyError(_os_message(path, exc)) from None
    if entries:
        raise StudyError(
            f"{path} is not empty and holds no study (it has {entries[0].name}); choose a new or empty folder "
            "for --dir: tunesmith never writes into a folder of yours"
        )
    return path


def check_usable(path: Path) -> Path:
    """``path`` if it holds a usable study, else ``StudyError`` saying exactly what to do. A damaged,
    empty or never-started ``study.db`` is only read, never written (``tune`` and ``resume`` agree)."""
    if not is_study(path):
        raise StudyError(
            f"{path} is not a study folder (no {DB_NAME}); check the path or start one with 'tunesmith tune SPEC'"
        )
    why = unusable_reason(path / DB_NAME)
    if why is not None:
        raise StudyError(f"{path} holds no usable study ({why}); {START_AGAIN.format(path)}")
    return path


def _our_leftover(entry: Path) -> bool:
    """What an interrupted creation of a study may leave behind: the empty ``trials`` folder."""
    try:
        return entry.name == "trials" and entry.is_dir() and not any(entry.iterdir())
    except OSError:
        return False


def prepare(path: Path, *, new: bool) -> Path:
    """Create (new=True; see ``check_new``) or check (new=False) a study folder; StudyError with a fix otherwise."""
    path = path.expanduser().resolve()
    if new:
        check_new(path)
        try:
            (path / "trials").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StudyError(_os_message(path, exc)) from None
    else:
        check_usable(path)
    if new or os.access(path, os.W_OK):
        return path
    raise StudyError(_os_message(path, OSError(errno.EROFS, "read-only")))


SPEC_COPY = "spec.yaml"
#: The first line of every spec copy: what tells tunesmith's copy from a user's file of the same name.
SPEC_COPY_HEADER = (
    "# the spec as run, written by tunesmith; study.db holds the source of truth (edits here change nothing)"
)


def write_spec_copy(path: Path, spec_dict: dict[str, Any]) -> None:
    """Write ``DIR/spec.yaml``, the human-readable copy of the spec, atomically. A ``spec.yaml`` that
    tunesmith did not write (no ``SPEC_COPY_HEADER``) is left alone. A full disk or a read-only folder
    raises ``StudyError`` with the fix, leaving no temporary file behind."""
    target = path / SPEC_COPY
    try:
        if target.exists() and not target.read_text(encoding="utf-8", errors="replace").startswith(SPEC_COPY_HEADER):
            return
    except OSError:
        return  # unreadable: certainly not ours to replace
    tmp = path / f"{SPEC_COPY}.tmp"
    try:
        tmp.write_text(SPEC_COPY_HEADER + "\n" + yaml.safe_dump(spec_dict, sort_keys=False), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise StudyError(_os_message(path, exc)) from None
