"""The study folder: ``runner_gone`` (when does a study recorded as running have no process behind it?), and
never touching a user's file: a new study only in a new or empty folder, a spec copy that replaces only
its own kind, and a folder with no usable study that ``tune`` and ``resume`` answer alike, without writing."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.spec import load_spec
from agent.errors import StudyError
from agent.study.folder import LOCK_NAME, SPEC_COPY_HEADER, StudyLock, runner_gone, write_spec_copy
from agent.study.session import Session


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_dead_runner_on_this_machine_is_gone(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text(f"pid {_dead_pid()} on {socket.gethostname()}")
    assert runner_gone(tmp_path)


def test_a_live_runner_is_not_gone(tmp_path: Path) -> None:
    with StudyLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"pid {os.getpid()} on {socket.gethostname()}"
        assert not runner_gone(tmp_path)


def test_when_it_cannot_be_told_the_study_is_not_declared_dead(tmp_path: Path) -> None:
    assert not runner_gone(tmp_path)  # no lock file
    for text in (f"pid {_dead_pid()} on another-host", f"pid {_dead_pid()}", "garbage", ""):
        (tmp_path / LOCK_NAME).write_text(text)
        assert not runner_gone(tmp_path), text


USER_SPEC = """# my study: keep these notes
objective: {metric: y, direction: maximize}
command: [python, train.py]
space: {x: {low: 0.0, high: 1.0}}   # the one knob
"""


def _user_folder(tmp_path: Path) -> Path:
    (tmp_path / "spec.yaml").write_text(USER_SPEC)
    (tmp_path / "train.py").write_text("print('TUNESMITH_REPORT {\"y\": 1}')\n")
    return tmp_path


def test_a_folder_of_the_users_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    folder = _user_folder(tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(StudyError, match=r"is not empty and holds no study .*choose a new or empty folder for --dir"):
        Session.create(load_spec(folder / "spec.yaml"), folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    empty = tmp_path / "empty"
    empty.mkdir()
    Session.create(load_spec(folder / "spec.yaml"), empty).close()  # an empty folder is fine
    assert (empty / "spec.yaml").read_text().startswith(SPEC_COPY_HEADER)


def test_the_spec_copy_never_replaces_a_file_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text(USER_SPEC)
    write_spec_copy(tmp_path, {"name": "stored"})
    assert (tmp_path / "spec.yaml").read_text() == USER_SPEC
    (tmp_path / "spec.yaml").unlink()
    write_spec_copy(tmp_path, {"name": "stored"})
    write_spec_copy(tmp_path, {"name": "changed"})  # its own copy is kept current
    assert "name: changed" in (tmp_path / "spec.yaml").read_text()


def test_a_full_disk_while_writing_the_copy_is_one_line_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StudyError, match="no space left on the disk holding"):
        write_spec_copy(tmp_path, {"name": "x"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"", "study.db is empty (0 bytes)"), (b"not sqlite at all" * 100, "study.db is damaged or not a database")],
)
def test_a_folder_without_a_usable_study_gets_one_instruction_and_is_never_written(
    tmp_path: Path, content: bytes, why: str
) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.db").write_bytes(content)
    expected = f"{folder} holds no usable study ({why}"
    todo = f"delete it (rm -r {folder}) and start again with 'tunesmith tune SPEC --dir {folder}'"
    (tmp_path / "user").mkdir()
    spec = load_spec(_user_folder(tmp_path / "user") / "spec.yaml")
    attempts = (
        lambda: Session.create(spec, folder),  # tune
        lambda: Session.open(folder),  # resume
        lambda: Session.open(folder, readonly=True),  # status, show ...
    )
    for attempt in attempts:
        with pytest.raises(StudyError) as exc:
            attempt()
        assert str(exc.value).startswith(expected) and todo in str(exc.value), str(exc.value)
    assert (folder / "study.db").read_bytes() == content
    assert sorted(p.name for p in folder.iterdir()) == ["study.db"]
