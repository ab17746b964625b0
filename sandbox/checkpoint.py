"""Checkpoints of a training run (Population Based Training, resumable trials). Standard library only.

The trial side::

    import tunesmith

    start = 0
    path = tunesmith.restore_from()          # set when this trial continues a training (a PBT segment)
    if path is not None:
        state = torch.load(path)
        model.load_state_dict(state["model"]); opt.load_state_dict(state["opt"]); start = state["epoch"]
        # then set the optimizer's lr, weight decay ... from tunesmith.params(): they may have changed
    for epoch in range(start + 1, epochs + 1):
        ...
        with tunesmith.save_checkpoint(epoch) as path:   # a temporary name, renamed when the block ends
            torch.save({"model": ..., "opt": ..., "epoch": epoch}, path)
        tunesmith.report(step=epoch, val_acc=acc)        # save first, then report the step

Contract (the environment a trial gets; tunesmith's engine reads the same names through this module):

- ``TUNESMITH_CHECKPOINT_DIR``: the folder this trial writes its checkpoints to. A checkpoint is the entry
  ``step-00000012`` in it: a file or a folder, whatever the script writes at the path it is given.
- ``TUNESMITH_RESTORE_FROM``: the checkpoint to load when the trial continues a training; unset otherwise.

``save_checkpoint`` hands out a temporary name in that folder and renames it to its final name only when
the block ends without an exception, so a trial killed at any moment (kill -9 included) leaves whole
checkpoints only; a file is flushed to disk before the rename. It keeps the newest ``keep`` checkpoints and
deletes older ones. Outside tunesmith (no ``TUNESMITH_CHECKPOINT_DIR``) the path is in a temporary folder
that is removed again, so a script runs unchanged on its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator

CHECKPOINT_DIR_ENV = "TUNESMITH_CHECKPOINT_DIR"
RESTORE_FROM_ENV = "TUNESMITH_RESTORE_FROM"
PREFIX = "step-"
_NAME = re.compile(r"step-(\d+)")
_TMP = "tmp-"  # no leading dot: some writers (torch.save) refuse a file name that starts with one

__all__ = [
    "CHECKPOINT_DIR_ENV",
    "RESTORE_FROM_ENV",
    "checkpoint_dir",
    "checkpoint_name",
    "checkpoints",
    "copy_checkpoint",
    "latest_checkpoint",
    "restore_from",
    "save_checkpoint",
]


def checkpoint_name(step: int) -> str:
    """The entry name of the checkpoint at ``step`` (``step-00000012``)."""
    if step < 0:
        raise ValueError(f"a checkpoint's step must be >= 0, got {step}")
    return f"{PREFIX}{int(step):08d}"


def checkpoint_dir() -> str | None:
    """The folder this trial writes checkpoints to (created if missing); None outside tunesmith."""
    path = os.environ.get(CHECKPOINT_DIR_ENV)
    if not path:
        return None
    os.makedirs(path, exist_ok=True)
    return path


def restore_from() -> str | None:
    """The checkpoint this trial should load before it trains (a path), or None to start from scratch."""
    path = os.environ.get(RESTORE_FROM_ENV)
    return path or None


def checkpoints(folder: str) -> list[tuple[int, str]]:
    """The whole checkpoints in ``folder`` as (step, path), oldest first; temporary names are skipped."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = [(int(m.group(1)), os.path.join(folder, n)) for n in names if (m := _NAME.fullmatch(n))]
    return sorted(found)


def latest_checkpoint(folder: str) -> tuple[int, str] | None:
    """The newest whole checkpoint in ``folder`` as (step, path), or None."""
    found = checkpoints(folder)
    return found[-1] if found else None


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _fsync_file(path: str) -> None:
    if os.path.isfile(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(tmp: str, final: str) -> None:
    """Rename ``tmp`` to ``final`` (replacing a checkpoint of the same step, file or folder)."""
    if os.path.isdir(final) and not os.path.islink(final):
        old = f"{os.path.dirname(final)}/{_TMP}old-{os.path.basename(final)}-{os.getpid()}"
        os.replace(final, old)  # a folder cannot be renamed over a non-empty one
        os.replace(tmp, final)
        _remove(old)
    else:
        os.replace(tmp, final)


@contextlib.contextmanager
def save_checkpoint(step: int, *, keep: int = 2) -> Iterator[str]:
    """Yield a path to write the checkpoint of ``step`` at (a file or a folder); when the block ends it is
    renamed to its final name atomically and all but the newest ``keep`` checkpoints are deleted.

    An exception in the block discards what was written; writing nothing at the path is an error."""
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    name = checkpoint_name(step)
    folder = checkpoint_dir()
    if folder is None:  # outside tunesmith: the script runs as it is, nothing is kept
        with tempfile.TemporaryDirectory(prefix="tunesmith-checkpoint-") as tmpdir:
            yield os.path.join(tmpdir, name)
        return
    tmp = os.path.join(folder, f"{_TMP}{name}-{os.getpid()}")
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if not os.path.exists(tmp):
        raise FileNotFoundError(
            f"save_checkpoint({step}): nothing was written at {tmp}; save the model to the path the block is given"
        )
    _fsync_file(tmp)
    _publish(tmp, os.path.join(folder, name))
    for _, old in checkpoints(folder)[:-keep]:
        _remove(old)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # free on one filesystem; a checkpoint is never modified in place
    except OSError:
        shutil.copy2(src, dst)


def copy_checkpoint(source: str, folder: str, step: int) -> str:
    """Copy checkpoint ``source`` (file or folder) into ``folder`` as the checkpoint of ``step``, atomically
    (hard links where the filesystem allows); returns its path. An existing copy is kept as it is."""
    final = os.path.join(folder, checkpoint_name(step))
    if os.path.exists(final):
        return final
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{_TMP}copy-{checkpoint_name(step)}-{os.getpid()}")
    _remove(tmp)
    if os.path.isdir(source):
        shutil.copytree(source, tmp, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, tmp)
    os.replace(tmp, final)
    return final
