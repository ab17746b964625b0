"""What only the in-process fake does: its own timeout signal, and dropping late results."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from sandbox.base import TrialRequest
from sandbox.fake import FakeTimeout, InProcessExecutor, fake_report
from tests.sandbox.helpers import run_until_done, wait_running

release = threading.Event()


def times_out(params: dict[str, Any]) -> None:
    fake_report(step=0, score=1.0)
    raise FakeTimeout


def late(params: dict[str, Any]) -> float:
    fake_report(step=0, score=0.0)
    release.wait(10)
    fake_report(step=1, score=0.5)  # after the cancel: dropped
    return 1.0


def exits(params: dict[str, Any]) -> None:
    raise SystemExit(4)


def request(tmp_path: Path, fn: str, **kw: Any) -> TrialRequest:
    return TrialRequest("f", {}, str(tmp_path), str(tmp_path), function=f"tests.sandbox.test_fake:{fn}", **kw)


def test_fake_timeout() -> None:
    with InProcessExecutor() as ex:
        ex.submit(request(Path("/tmp"), "times_out"))
        (out,), reports = run_until_done(ex)
    assert out.status == "timeout" and [r.metrics for r in reports] == [{"score": 1.0}]


def test_late_result_after_cancel_is_dropped() -> None:
    with InProcessExecutor() as ex:
        ex.submit(request(Path("/tmp"), "late"))
        wait_running(ex, "f")
        ex.cancel("f", "stop", stop=True)
        (out,), _ = run_until_done(ex)
        release.set()
        assert out.status == "stopped" and len(out.reports) == 1
        assert ex.wait(timeout=0.2) == []


def test_system_exit_code_and_commands_unsupported() -> None:
    with InProcessExecutor() as ex:
        ex.submit(request(Path("/tmp"), "exits"))
        (out,), _ = run_until_done(ex)
        assert (out.status, out.returncode) == ("exited", 4)
        ex.submit(TrialRequest("c", {}, "/tmp", "/tmp", command=["true"]))
        (out,), _ = run_until_done(ex)
        assert out.status == "launch_error" and "function trials only" in (out.reason or "")


def test_fake_report_outside_a_trial() -> None:
    with pytest.raises(RuntimeError, match="only inside"):
        fake_report(step=0, score=1.0)
