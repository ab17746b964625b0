"""The supervisor's ``status.json`` on a full disk: the write fails, and no empty temporary file is left."""

from __future__ import annotations

import errno
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.sandbox.helpers import REPO


def supervisor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tunesmith_supervisor", REPO / "sandbox" / "supervisor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _FullDisk:
    """``os`` whose ``write`` fails as on a full disk."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    @staticmethod
    def write(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_leaves_no_temporary_status_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sup = supervisor()
    monkeypatch.setattr(sup, "os", _FullDisk())  # the supervisor's own view of os only
    with pytest.raises(OSError, match="No space left"):
        sup._write_status(str(tmp_path / "status.json"), {"state": "running"})
    assert list(tmp_path.iterdir()) == []
