"""What the page downloads: a study's export (CSV, JSON, Parquet, Optuna), a plot as SVG, a trial's full log.

Each answer is a file (``Content-Disposition: attachment`` with a name made from the study's folder name,
never from the request), built from the study folder alone: an export is written to a temporary folder
and streamed from memory (a read-only study can be exported too; nothing is left in the study folder),
and a log is read through ``files.inside`` without following links, like every other served file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fastapi.responses import Response

from agent.faces.chat import files
from agent.faces.handle import StudyHandle
from agent.study.export import SUFFIXES, export_session
from agent.study.folder import trial_dir

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
    "optuna": "application/vnd.sqlite3",
}
#: the most of a log served at once (the executor keeps the first and last MiB of each stream)
LOG_LIMIT_BYTES = 4 * 1024 * 1024


def attachment(body: bytes | str, filename: str, media_type: str) -> Response:
    """``body`` as a download named ``filename`` (a name made here, plain ASCII)."""
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def export_file(h: StudyHandle, fmt: str) -> Response:
    """The study exported as ``fmt`` (one of ``SUFFIXES``), built in a temporary folder."""
    name = f"{h.dir.name}.{SUFFIXES[fmt]}"
    with tempfile.TemporaryDirectory(prefix="tunesmith-export-") as tmp:
        path = export_session(h.session, fmt, Path(tmp) / name)
        data = path.read_bytes()
    return attachment(data, name, MEDIA[fmt])


def plot_file(h: StudyHandle, kind: str, svg: str) -> Response:
    return attachment(svg, f"{h.dir.name}-{kind}.svg", "image/svg+xml")


def full_log(h: StudyHandle, number: int, stream: str) -> bytes | None:
    """The whole ``stdout.log``/``stderr.log`` of trial ``number`` (at most ``LOG_LIMIT_BYTES``, its end
    then), or None when there is none to read; a link anywhere below the study folder is not followed."""
    path = files.inside(h.dir, *trial_dir(h.dir, number).relative_to(h.dir).parts, f"{stream}.log")
    if path is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        fh.seek(0, 2)
        fh.seek(max(0, fh.tell() - LOG_LIMIT_BYTES))
        return fh.read()
