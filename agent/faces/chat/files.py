"""The files a face reads or writes inside a study folder, resolved against that folder.

A trial runs code that may leave links behind (``trials/0003`` pointing at another folder, ``stdout.log``
pointing at a secret, ``plots`` pointing elsewhere). Contract: a path is used only when it resolves to
exactly the place it names under the study folder, so a link anywhere below the study folder is never
followed, and nothing outside the study folder is ever read or written through one.
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.errors import TunesmithError
from agent.study.folder import trial_dir

TAIL_BYTES = 64 * 1024


class OutsideStudy(TunesmithError):
    """A path under a study folder leads elsewhere through a link; shown to the person as one line."""


def inside(study: Path, *parts: str) -> Path | None:
    """``study/parts...`` when it exists and no link below ``study`` redirects it; None otherwise."""
    base = study.resolve()
    path = base.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a link loop
        return None
    return real if real == path else None


def writable_inside(study: Path, *parts: str) -> Path:
    """Where to write ``study/parts...`` (its folders are created); OutsideStudy if a link redirects it."""
    base = study.resolve()
    path = base.joinpath(*parts)
    for folder in reversed(path.relative_to(base).parents[:-1]):
        if (base / folder).is_symlink():
            break  # refused below; never create folders through a link
        (base / folder).mkdir(exist_ok=True)
    if path.parent.resolve() != path.parent or path.is_symlink():
        raise OutsideStudy(
            f"{path.relative_to(base)} leads outside the study folder {base} through a link; "
            "remove the link and try again"
        )
    return path


def log_tail(study: Path, number: int, stream: str, lines: int) -> str | None:
    """The last ``lines`` lines of a trial's stdout/stderr log, or None when there is none to read."""
    path = inside(study, *trial_dir(study, number).relative_to(study).parts, f"{stream}.log")
    if path is None or not path.is_file():
        return None
    try:  # O_NOFOLLOW: a log swapped for a link since the check above is not followed either
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - TAIL_BYTES))
        data = fh.read().decode("utf-8", errors="replace")
    return "\n".join(data.splitlines()[-lines:]) or None
