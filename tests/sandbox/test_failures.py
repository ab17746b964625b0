"""A trial's own failures are outcomes (``LocalExecutor``), and nothing of a trial outlives it."""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox.base import TrialOutcome, TrialRequest
from sandbox.local_executor import LocalExecutor
from tests.sandbox.helpers import (
    assert_tree_gone,
    pid_alive,
    run_until_done,
    script_request,
    wait_dead,
    wait_running,
)


@pytest.fixture
def ex() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(capacity=2)
    yield executor
    executor.close()


def run_one(ex: LocalExecutor, request: TrialRequest, timeout: float = 30.0) -> TrialOutcome:
    ex.submit(request)
    (outcome,), _ = run_until_done(ex, timeout)
    assert_tree_gone(outcome)
    return outcome


def test_crash_exit_code_and_stderr(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(
        ex,
        script_request(
            tmp_path,
            """
        import sys
        print("about to fail", file=sys.stderr)
        sys.exit(3)
    """,
        ),
    )
    assert (out.status, out.returncode, out.signal) == ("exited", 3, None)
    assert "about to fail" in out.stderr_tail
    assert out.max_rss_kb is not None and out.max_rss_kb > 1000
    assert (tmp_path / "t1" / "stderr.log").read_text() == "about to fail\n"


@pytest.mark.parametrize(
    "body, sig",
    [
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", signal.SIGKILL),
        ("import ctypes; ctypes.string_at(0)", signal.SIGSEGV),
    ],
)
def test_killed_by_signal(ex: LocalExecutor, tmp_path: Path, body: str, sig: int) -> None:
    out = run_one(ex, script_request(tmp_path, body))
    assert (out.status, out.signal, out.returncode) == ("exited", sig, -sig)


def test_hang_past_timeout(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(ex, script_request(tmp_path, "import time; time.sleep(1000)", timeout=0.5, grace=1.0))
    assert out.status == "timeout" and out.signal == signal.SIGTERM
    assert out.reason == "ran past its 0.5 s timeout"
    assert out.finished_at - out.started_at < 1.5


def test_sigterm_ignored_gets_sigkill_after_grace(ex: LocalExecutor, tmp_path: Path) -> None:
    request = script_request(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('TUNESMITH_REPORT {"ready": 1}', flush=True)
        time.sleep(1000)
    """,
        grace=0.3,
    )
    ex.submit(request)
    wait_running(ex, "t1")
    ex.cancel("t1", "enough")
    (out,), _ = run_until_done(ex)
    assert (out.status, out.signal, out.reason) == ("cancelled", signal.SIGKILL, "enough")
    assert_tree_gone(out)


def test_memory_blowup_under_limit(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(
        ex,
        script_request(
            tmp_path,
            """
        hog = []
        while True:
            hog.append(bytearray(20_000_000))
    """,
            memory_mb=300,
        ),
    )
    assert out.status == "exited" and out.returncode != 0
    assert out.memory_limited
    assert "MemoryError" in out.stderr_tail


def test_nan_and_inf_reports(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(
        ex,
        script_request(
            tmp_path,
            """
        import time
        from sandbox.report import report
        print('TUNESMITH_REPORT {"score": NaN, "step": 1}')
        print('TUNESMITH_REPORT {"score": "inf", "loss": "-inf", "step": 2}')
        time.sleep(0.2)  # stdout reports are stamped on arrival, file reports by the trial
        report(step=3, score=float("nan"))
    """,
        ),
    )
    assert out.returncode == 0
    values = [r.metrics["score"] for r in out.reports]
    assert math.isnan(values[0]) and values[1] == math.inf and math.isnan(values[2])
    assert out.reports[1].metrics["loss"] == -math.inf
    assert [r.step for r in out.reports] == [1, 2, 3]


def test_no_metric(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(ex, script_request(tmp_path, "print('hello')"))
    assert (out.status, out.returncode, out.reports) == ("exited", 0, ())
    assert out.stdout_tail == "hello\n"


def test_gigabyte_of_stdout_stays_bounded(ex: LocalExecutor, tmp_path: Path) -> None:
    me = psutil.Process()
    rss_before = me.memory_info().rss
    out = run_one(
        ex,
        script_request(
            tmp_path,
            """
        import sys
        chunk = (b"x" * 1023 + b"\\n") * 1024
        write = sys.stdout.buffer.write
        for _ in range(1100):
            write(chunk)
        print('TUNESMITH_REPORT {"score": 1}', flush=True)
    """,
        ),
        timeout=60,
    )
    assert out.returncode == 0
    assert out.info["stdout_bytes"] > 1 << 30
    assert [r.metrics for r in out.reports] == [{"score": 1.0}]
    log = tmp_path / "t1" / "stdout.log"
    assert log.stat().st_size <= 2.1 * (1 << 20)
    assert b"bytes omitted ...]" in log.read_bytes()[(1 << 20) - 10 : (1 << 20) + 100]
    assert me.memory_info().rss - rss_before < 50 << 20


@pytest.mark.parametrize("escape", [False, True], ids=["in-group", "setsid"])
def test_grandchild_holding_pipes_does_not_delay_outcome(ex: LocalExecutor, tmp_path: Path, escape: bool) -> None:
    pid_file = tmp_path / "grandchild.pid"
    request = script_request(
        tmp_path,
        f"""
        import subprocess, sys
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"],
                             start_new_session={escape})
        open({str(pid_file)!r}, "w").write(str(p.pid))
        print('TUNESMITH_REPORT {{"score": 2}}', flush=True)
    """,
    )
    t0 = time.monotonic()
    out = run_one(ex, request)
    assert time.monotonic() - t0 < 3.0
    assert out.status == "exited" and out.returncode == 0
    assert out.reports[0].metrics == {"score": 2.0}
    assert not pid_alive(int(pid_file.read_text()))
    status = (tmp_path / "t1" / "status.json").read_text()
    assert '"clean": true' in status


def test_hostile_bytes_and_a_huge_line(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(
        ex,
        script_request(
            tmp_path,
            """
        import sys
        w = sys.stdout.buffer.write
        w(b"\\xff\\xfe bad utf-8 \\x00 nul\\n")
        w(b"TUNESMITH_REPORT " + b"y" * 10_000_000 + b"\\n")
        w(b"z" * 10_000_000 + b"\\n")
        w(b'TUNESMITH_REPORT {"score": 0.5}\\n')
        sys.stderr.buffer.write(b"\\xc3(\\x00 end")
    """,
        ),
    )
    assert out.returncode == 0
    assert [r.metrics for r in out.reports] == [{"score": 0.5}]
    assert out.stderr_tail == "\ufffd(\ufffd end"
    assert out.stdout_tail.endswith('TUNESMITH_REPORT {"score": 0.5}\n')


@pytest.mark.parametrize(
    "command, workdir, expected",
    [
        (["no-such-program-xyz"], None, "not found on PATH"),
        ([sys.executable, "-c", "pass"], "/no/such/dir", "working directory"),
        (["./trial.txt"], None, "chmod +x"),
        (["./garbage.bin"], None, "could not start: OSError"),
    ],
)
def test_launch_errors_say_how_to_fix(
    ex: LocalExecutor, tmp_path: Path, command: list[str], workdir: str | None, expected: str
) -> None:
    (tmp_path / "trial.txt").write_text("print(1)")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01\x02 not a program")
    garbage.chmod(0o755)  # passes the pre-check; only exec itself fails (in the supervisor)
    request = TrialRequest("t1", {}, str(tmp_path / "t1"), workdir or str(tmp_path), command=command)
    ex.submit(request)
    (out,), _ = run_until_done(ex)
    assert out.status == "launch_error"
    assert out.reason is not None and expected in out.reason, out.reason
    assert "\n" not in out.reason
    assert_tree_gone(out)


def test_pids_are_recorded(ex: LocalExecutor, tmp_path: Path) -> None:
    out = run_one(ex, script_request(tmp_path, "import os; print(os.getpid(), os.getpgrp())"))
    pid, pgid = map(int, out.stdout_tail.split())
    assert pid == pgid == out.info["pgid"]
    assert out.info["supervisor_pid"] != pid
    assert out.info["trial_dir"] == str(tmp_path / "t1")
    assert os.path.exists(tmp_path / "t1" / "params.json")


def test_unsupported_isolation_is_a_launch_error(ex: LocalExecutor, tmp_path: Path) -> None:
    request = TrialRequest(
        "t1", {}, str(tmp_path / "t1"), str(tmp_path), command=[sys.executable, "-c", "1"], isolation="container"
    )
    ex.submit(request)
    (out,), _ = run_until_done(ex)
    assert out.status == "launch_error" and "isolation 'container'" in (out.reason or "")


def test_supervisor_killed_is_lost_and_the_trial_dies(ex: LocalExecutor, tmp_path: Path) -> None:
    request = script_request(
        tmp_path,
        """
        import time
        print('TUNESMITH_REPORT {"score": 1}', flush=True)
        time.sleep(1000)
    """,
    )
    ex.submit(request)
    wait_running(ex, "t1")
    trial = psutil.Process(json.loads((tmp_path / "t1" / "status.json").read_text())["pid"])
    os.kill(trial.ppid(), signal.SIGKILL)
    (out,), _ = run_until_done(ex)
    assert out.status == "lost" and "supervisor ended unexpectedly" in (out.reason or "")
    assert wait_dead(trial.pid)  # killed by the executor's backstop (its zombie goes to init)
