"""Pack a trial folder into bytes on a cluster node and unpack it into the study folder (private).

Only regular files travel (no symlinks, devices or fifos). Files are packed smallest first after the
trial's own logs, until ``max_bytes`` of file data is reached; the rest stays on the node and is
listed. Unpacking uses tarfile's ``data`` filter: nothing lands outside the destination folder.
"""

from __future__ import annotations

import io
import os
import tarfile

#: the trial's logs and contract files, always packed first
FIRST = ("stdout.log", "stderr.log", "reports.jsonl", "params.json", "status.json")


def _files(folder: str) -> list[tuple[str, int]]:
    out = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            try:
                out.append((os.path.relpath(path, folder), os.path.getsize(path)))
            except OSError:
                continue  # vanished meanwhile
    return out


def pack(folder: str, max_bytes: int) -> tuple[bytes, list[str]]:
    """(tar.gz of ``folder``, relative paths left out because of ``max_bytes``)."""
    files = sorted(_files(folder), key=lambda f: (f[0] not in FIRST, f[1], f[0]))
    buf = io.BytesIO()
    left: list[str] = []
    used = 0
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for rel, size in files:
            if used + size > max_bytes:
                left.append(rel)
                continue
            try:
                tar.add(os.path.join(folder, rel), arcname=rel, recursive=False)
            except OSError:
                left.append(rel)
                continue
            used += size
    return buf.getvalue(), left


def unpack(data: bytes, dest: str) -> None:
    """Extract an archive made by ``pack`` into ``dest`` (created if missing)."""
    os.makedirs(dest, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
