"""Hostile trials, one attack per test, run through the real engine, SQLite store and local executor.

Each attack is contained (or, under ``process`` where the profile does not claim to contain it, shown to
work, which proves the attack is real), recorded with the right state and reason, and leaves nothing
running. The study folder sits inside the trial's workdir: the hardest case for hiding it.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.core.records import FailureKind, TrialState
from tests.sandbox.studyrun import PROFILES, assert_nothing_left, need_strict, run_study, token

READ_TARGET = """
    import json, os, sys
    target = json.load(open(os.environ["TUNESMITH_PARAMS"]))["target"]
    data = open(target, "rb").read()          # the attack: an uncaught error if it is blocked
    print("TUNESMITH_REPORT " + json.dumps({"score": len(data)}))
"""


def _read_attack(tmp_path: Path, isolation: str, target: Path, plant: Callable[[Path], None] | None = None) -> None:
    mark = token()
    trial, _ = run_study(tmp_path, READ_TARGET, isolation, mark=mark, fixed={"target": str(target)}, plant=plant)
    if isolation == "strict":
        assert trial.state is TrialState.FAILED and trial.failure is FailureKind.CRASH
        assert trial.reason and "FileNotFoundError" in trial.reason, trial.reason
        assert "exited with code 1" in trial.reason
    else:  # the process profile does not hide files: the attack works, so the strict result means something
        assert trial.state is TrialState.COMPLETE and trial.value and trial.value > 0
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_read_the_study_database(tmp_path: Path, isolation: str) -> None:
    _read_attack(tmp_path, isolation, tmp_path / "work" / "studies" / "s" / "study.db")


@pytest.mark.parametrize("isolation", PROFILES)
def test_read_another_trials_folder(tmp_path: Path, isolation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def plant(study: Path) -> None:
        (study / "trials" / "0042").mkdir(parents=True)
        (study / "trials" / "0042" / "model.pt").write_text("weights of another trial")

    _read_attack(tmp_path, isolation, tmp_path / "work" / "studies" / "s" / "trials" / "0042" / "model.pt", plant)


@pytest.mark.parametrize("isolation", PROFILES)
@pytest.mark.parametrize("name", ["study.db", "llm_cache.jsonl"])
def test_read_another_studys_files(tmp_path: Path, isolation: str, name: str) -> None:
    """A past study beside the running one (the default studies/ layout): its database and LLM cache."""
    other = tmp_path / "work" / "studies" / "other"
    other.mkdir(parents=True)
    (other / "study.db").write_text("another study's database")
    (other / "llm_cache.jsonl").write_text('{"prompt": "another study"}')
    _read_attack(tmp_path, isolation, other / name)


@pytest.mark.parametrize("isolation", PROFILES)
def test_read_ssh_keys_in_home(tmp_path: Path, isolation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY----- planted")
    monkeypatch.setenv("HOME", str(home))
    _read_attack(tmp_path, isolation, home / ".ssh" / "id_ed25519")


def test_read_the_real_homes_ssh_folder(tmp_path: Path) -> None:
    """The account's real home (here root's, where the interpreter lives) shows nothing but what the
    interpreter needs."""
    home = pwd.getpwuid(os.getuid()).pw_dir
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import os, pwd, json
        home = pwd.getpwuid(os.getuid()).pw_dir
        seen = sorted(os.listdir(home)) if os.path.isdir(home) else []
        print(json.dumps(seen))
        os.listdir(os.path.join(home, ".ssh"))
    """,
        "strict",
        mark=mark,
    )
    assert trial.state is TrialState.FAILED and "FileNotFoundError" in (trial.reason or "")
    assert f"{home}/.ssh" in (trial.stderr_tail or "")
    listing = json.loads((Path(trial.info["trial_dir"]) / "stdout.log").read_text())
    assert ".ssh" not in listing and all(not name.startswith(".bash") for name in listing)
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_print_the_environment_looking_for_keys(
    tmp_path: Path, isolation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "OPENAI_API_KEY": "sk-planted-openai-0001",
        "AWS_SECRET_ACCESS_KEY": "planted-aws-0002",
        "GITHUB_TOKEN": "ghp_planted0003",
        "DB_PASSWORD": "planted-pw-0004",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HF_TOKEN", "hf_passed_by_name")
    monkeypatch.setenv("AGENT_ONLY_SETTING", "agent-side-value")
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import json, os
        open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "env.json"), "w").write(json.dumps(dict(os.environ)))
        print(json.dumps(dict(os.environ)))
        print('TUNESMITH_REPORT {"score": 1}')
    """,
        isolation,
        mark=mark,
        env={"pass": ["HF_TOKEN"], "set": {"MODE": "fast"}},
    )
    assert trial.state is TrialState.COMPLETE
    seen = json.loads((Path(trial.info["trial_dir"]) / "env.json").read_text())
    folder = Path(trial.info["trial_dir"])
    everything = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    for name, value in secrets.items():
        assert name not in seen and value.encode() not in everything
    assert seen["HF_TOKEN"] == "hf_passed_by_name" and seen["MODE"] == "fast"
    if isolation == "strict":  # not the agent's environment at all, only what the trial needs
        assert "AGENT_ONLY_SETTING" not in seen and seen["HOME"] == "/tmp"
    else:
        assert seen["AGENT_ONLY_SETTING"] == "agent-side-value"
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation, network", [("strict", False), ("strict", True), ("process", False)])
def test_connect_to_a_port_on_localhost(tmp_path: Path, isolation: str, network: bool) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    mark = token()
    try:
        trial, _ = run_study(
            tmp_path,
            """
            import json, os, socket
            port = json.load(open(os.environ["TUNESMITH_PARAMS"]))["port"]
            socket.create_connection(("127.0.0.1", port), timeout=5).sendall(b"hello from the trial")
            print('TUNESMITH_REPORT {"score": 1}')
        """,
            isolation,
            mark=mark,
            fixed={"port": server.getsockname()[1]},
            network=network,
        )
        try:
            conn, _addr = server.accept()
            received = conn.recv(100)
            conn.close()
        except TimeoutError:
            received = b""
    finally:
        server.close()
    if isolation == "strict" and not network:
        assert trial.state is TrialState.FAILED and "ConnectionRefusedError" in (trial.reason or ""), trial.reason
        assert received == b""
    else:  # network: true (or no sandbox) keeps the host's network: the same attack gets through
        assert trial.state is TrialState.COMPLETE and received == b"hello from the trial"
    assert_nothing_left(mark)


WRITE_EVERYWHERE = """
    import json, os, sys
    targets = json.load(open(os.environ["TUNESMITH_PARAMS"]))["targets"]
    escaped = []
    for path in targets:
        try:
            with open(path, "w") as fh:
                fh.write("escaped " + sys.argv[1])
            escaped.append(path)
        except OSError as exc:
            print(f"blocked {path}: {exc}", file=sys.stderr)
    with open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "mine.txt"), "w") as fh:
        fh.write("my own folder is writable")
    with open("/tmp/scratch.txt", "w") as fh:
        fh.write("private /tmp is writable")
    print(json.dumps(escaped))
    print("TUNESMITH_REPORT " + json.dumps({"score": len(escaped)}))
"""


def test_write_outside_its_folder(tmp_path: Path) -> None:
    need_strict()
    work, mark = tmp_path / "work", token()
    blocked = [
        work / "attack.py",
        work / "studies" / "s" / "evil.txt",
        work / "studies" / "s" / "study.db",
        work / "studies" / "s" / "trials" / "evil.txt",
        Path("/usr/lib/evil.txt"),
        Path("/etc/evil.txt"),
        Path("/evil.txt"),
        Path(os.path.expanduser("~")) / "evil.txt",
    ]
    private = [Path("/tmp") / f"{mark}.txt", tmp_path / "evil.txt"]  # the trial's own /tmp: gone with it
    trial, _ = run_study(
        tmp_path, WRITE_EVERYWHERE, "strict", mark=mark, fixed={"targets": [str(t) for t in blocked + private]}
    )
    assert trial.state is TrialState.COMPLETE and trial.value == len(private), trial.stderr_tail
    for path in blocked:
        assert f"blocked {path}: [Errno 30] Read-only file system" in (trial.stderr_tail or ""), path
        assert not path.exists() or f"escaped {mark}".encode() not in path.read_bytes(), path
    for path in private:
        assert not path.exists(), path
    assert (Path(trial.info["trial_dir"]) / "mine.txt").read_text() == "my own folder is writable"
    assert_nothing_left(mark)


def test_write_outside_its_folder_works_under_process(tmp_path: Path) -> None:
    """The process profile does not confine writes; shown with harmless targets."""
    work = tmp_path / "work"
    targets = [work / "studies" / "s" / "evil.txt", tmp_path / "evil.txt"]
    trial, _ = run_study(
        tmp_path,
        WRITE_EVERYWHERE.replace('"/tmp/scratch.txt"', "os.devnull"),
        "process",
        fixed={"targets": [str(t) for t in targets]},
    )
    assert trial.state is TrialState.COMPLETE and trial.value == 2


FORK_BOMB = """
    import os, sys, time
    record = os.open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "forks"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    for _ in range(9):        # every process forks again: 2**9 processes at most, even with no limit at all
        try:
            pid = os.fork()
        except OSError:
            break             # the process limit: stop forking, keep what we have
        if pid == 0:
            os.write(record, b"x")
    time.sleep(120)
"""


@pytest.mark.parametrize("isolation", PROFILES)
def test_fork_bomb_within_a_process_limit(tmp_path: Path, isolation: str) -> None:
    mark = token()
    trial, _ = run_study(tmp_path, FORK_BOMB, isolation, mark=mark, budget={"max_processes": 24, "trial_timeout": 2})
    forks = (Path(trial.info["trial_dir"]) / "forks").read_bytes().count(b"x")
    assert 0 < forks < 24, forks  # the trial's own process plus its forks stay within the limit
    assert trial.state is TrialState.TIMEOUT and trial.failure is FailureKind.TIMEOUT
    assert "hit its limit of 24 processes and threads" in (trial.reason or ""), trial.reason
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_ignore_sigterm(tmp_path: Path, isolation: str) -> None:
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('TUNESMITH_REPORT {"score": 1}', flush=True)
        time.sleep(120)
    """,
        isolation,
        mark=mark,
        budget={"trial_timeout": 1},
        grace_period=0.5,
    )
    assert trial.state is TrialState.TIMEOUT and "ran past the 1 s trial timeout" in (trial.reason or "")
    assert trial.duration is not None and trial.duration < 6
    assert_nothing_left(mark)


def test_sigterm_reaches_a_strict_trial_and_it_may_clean_up(tmp_path: Path) -> None:
    """bubblewrap dies on SIGTERM and takes its sandbox along at once; the supervisor spares it, so the
    trial's own handler gets the grace period."""
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import os, signal, sys, time
        def save(*_):
            time.sleep(0.3)
            open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "checkpoint"), "w").write("saved")
            sys.exit(0)
        signal.signal(signal.SIGTERM, save)
        time.sleep(120)
    """,
        "strict",
        mark=mark,
        budget={"trial_timeout": 1},
        grace_period=3,
    )
    assert trial.state is TrialState.TIMEOUT
    assert (Path(trial.info["trial_dir"]) / "checkpoint").read_text() == "saved"
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_leave_a_grandchild_behind(tmp_path: Path, isolation: str) -> None:
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import os, sys, time
        if os.fork() == 0:
            os.setsid()                       # leave the trial's process group and session
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", sys.argv[1]])
            os._exit(0)
        os.wait()
        time.sleep(0.3)                       # the grandchild is running, orphaned
        print('TUNESMITH_REPORT {"score": 1}')
    """,
        isolation,
        mark=mark,
    )
    assert trial.state is TrialState.COMPLETE and trial.value == 1
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_invalid_utf8_nul_bytes_and_a_10_mb_line(tmp_path: Path, isolation: str) -> None:
    mark = token()
    trial, session = run_study(
        tmp_path,
        """
        import sys
        out = sys.stdout.buffer
        out.write(b"bad \\xff\\xfe utf-8 and \\x00 NUL bytes\\n")
        out.write(b"A" * (10 << 20) + b"\\n")                  # one 10 MB line
        out.write(b'TUNESMITH_REPORT {"score": 0.5}\\n')
        sys.stderr.buffer.write(b"err \\xc3\\x28 \\x00 end\\n")
        sys.exit(0)
    """,
        isolation,
        mark=mark,
    )
    assert trial.state is TrialState.COMPLETE and trial.value == 0.5
    log = Path(trial.info["trial_dir"]) / "stdout.log"
    assert log.stat().st_size < (2 << 20) + 200  # first and last MiB kept, never the whole stream
    assert b"bytes omitted" in log.read_bytes()
    stored = session.store.trial(trial.number)
    assert stored.stderr_tail is None or "\x00" not in stored.stderr_tail
    assert_nothing_left(mark)


@pytest.mark.parametrize("isolation", PROFILES)
def test_a_fifo_planted_where_reports_are_read_does_not_hang_the_study(tmp_path: Path, isolation: str) -> None:
    mark = token()
    trial, _ = run_study(
        tmp_path,
        """
        import os, time
        os.mkfifo(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "reports.jsonl"))
        print('TUNESMITH_REPORT {"score": 2}', flush=True)
        time.sleep(0.5)
    """,
        isolation,
        mark=mark,
    )
    assert trial.state is TrialState.COMPLETE and trial.value == 2, trial.reason
    assert_nothing_left(mark)
