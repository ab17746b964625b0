"""The store's one-line errors point at the cause: a disk filled by a trial's artifacts is named as such."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agent.study.store.sqlite_errors import study_error


def test_a_full_disk_names_the_trial_folders_not_the_database(tmp_path: Path) -> None:
    for number, size in (("0000", 1000), ("0001", 250_000)):
        (tmp_path / "trials" / number).mkdir(parents=True)
        (tmp_path / "trials" / number / "model.pt").write_bytes(b"x" * size)
    error = study_error(sqlite3.OperationalError("database or disk is full"), tmp_path / "study.db")
    assert error is not None
    assert str(error) == (
        f"disk full: no space left on the disk holding {tmp_path} (its trial folders hold 251.0 kB, the most "
        f"trials/0001 with 250.0 kB: a trial's artifacts may have filled it); free space there, then continue "
        f"with `tunesmith resume {tmp_path}`"
    )
    bare = study_error(sqlite3.OperationalError("database or disk is full"), tmp_path / "none" / "study.db")
    assert str(bare).startswith(f"disk full: no space left on the disk holding {tmp_path / 'none'}; free space")
