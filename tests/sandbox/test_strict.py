"""The strict profile's guarantees that are not attacks: no silent downgrade, what a trial can see, signals
and exit codes through bubblewrap, and the control files of a trial folder (choosing strict, its preflight and
the CLI's errors: ``test_strict_choice.py``)."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import strict
from sandbox.base import TrialOutcome, TrialRequest
from sandbox.local_executor import LocalExecutor
from tests.sandbox.helpers import run_until_done, wait_running
from tests.sandbox.studyrun import need_strict


@pytest.fixture
def ex() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(capacity=2)
    yield executor
    executor.close()


def request(tmp_path: Path, body: str, trial_id: str = "t1", **kw: Any) -> TrialRequest:
    """A strict request running ``body`` from ``tmp_path/work``, its folder in ``tmp_path/study/trials``."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / f"{trial_id}.py").write_text(textwrap.dedent(body))
    kw.setdefault("grace", 1.0)
    kw.setdefault("isolation", "strict")
    return TrialRequest(
        trial_id=trial_id,
        params=kw.pop("params", {}),
        trial_dir=str(tmp_path / "study" / "trials" / trial_id),
        workdir=str(work),
        command=[sys.executable, f"{trial_id}.py"],
        hide=(str(tmp_path / "study"),),
        **kw,
    )


def run_one(ex: LocalExecutor, req: TrialRequest) -> TrialOutcome:
    ex.submit(req)
    (outcome,), _ = run_until_done(ex)
    return outcome


# ------------------------------------------------------------------ no silent downgrade
def test_an_executor_never_runs_a_strict_trial_unsandboxed(ex: LocalExecutor, tmp_path: Path, no_bwrap: None) -> None:
    out = run_one(ex, request(tmp_path, "open('ran', 'w')"))
    assert out.status == "launch_error" and "needs bubblewrap" in (out.reason or "")
    assert not (tmp_path / "work" / "ran").exists()


# ------------------------------------------------------------------ what a trial can see
def test_a_strict_trial_sees_its_own_pid_namespace_and_no_agent(ex: LocalExecutor, tmp_path: Path) -> None:
    need_strict()
    out = run_one(
        ex,
        request(
            tmp_path,
            f"""
        import os
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        assert {os.getpid()} not in pids, pids
        assert len(pids) <= 3 and os.getpid() <= 3, pids
        print('TUNESMITH_REPORT {{"y": 1}}')
    """,
        ),
    )
    assert (out.status, out.returncode) == ("exited", 0), out.stderr_tail


def test_read_paths_open_exactly_the_folders_named(ex: LocalExecutor, tmp_path: Path) -> None:
    need_strict()
    data, other = tmp_path / "datasets", tmp_path / "elsewhere"
    for folder in (data, other):
        folder.mkdir()
        (folder / "f.txt").write_text("x")
    body = f"""
        import os
        print("data", os.path.exists({str(data / "f.txt")!r}), "other", os.path.exists({str(other / "f.txt")!r}))
        open({str(data / "new.txt")!r}, "w")     # readable is not writable
    """
    out = run_one(ex, request(tmp_path, body, read_paths=(str(data),)))
    assert "data True other False" in out.stdout_tail
    assert out.returncode == 1 and "Read-only file system" in out.stderr_tail


def test_a_command_outside_the_sandbox_is_a_launch_error_that_says_what_to_add(
    ex: LocalExecutor, tmp_path: Path
) -> None:
    need_strict()
    tool = tmp_path / "tools" / "train.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'TUNESMITH_REPORT {\"y\": 1}'\n")
    tool.chmod(0o755)
    req = request(tmp_path, "")
    out = run_one(ex, TrialRequest(**{**req.__dict__, "command": [str(tool)]}))
    assert out.status == "launch_error" and "outside what trials can see" in (out.reason or "")
    assert "read_paths" in (out.reason or "")
    out = run_one(
        ex,
        TrialRequest(
            **{
                **req.__dict__,
                "trial_id": "t2",
                "trial_dir": req.trial_dir + "2",
                "command": [str(tool)],
                "read_paths": (str(tool.parent),),
            }
        ),
    )
    assert (out.status, out.returncode) == ("exited", 0) and out.reports


def test_a_workdir_that_contains_home_is_refused(
    ex: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_strict()
    monkeypatch.setenv("HOME", str(tmp_path / "work" / "home"))
    (tmp_path / "work" / "home").mkdir(parents=True)
    out = run_one(ex, request(tmp_path, "print('ran')"))
    assert out.status == "launch_error" and "contains your home folder" in (out.reason or "")


def _studies(work: Path) -> dict[str, Path]:
    """A project holding several studies: ``studies/current`` (the running one), ``studies/other``, and
    ``runs/exp1`` beside a folder of notes; each with a database and an LLM cache."""
    layout = {
        "current": work / "studies" / "current",
        "other": work / "studies" / "other",
        "deep": work / "runs" / "exp1",
    }
    for folder in layout.values():
        (folder / "trials" / "0000").mkdir(parents=True)
        (folder / "study.db").write_text("secret database")
        (folder / "llm_cache.jsonl").write_text("secret cache")
        (folder / "trials" / "0000" / "stdout.log").write_text("secret log")
    (work / "runs" / "notes").mkdir()
    (work / "runs" / "notes" / "n.txt").write_text("visible")
    (work / "data.txt").write_text("visible")
    return layout


def test_a_strict_trial_sees_no_study_under_its_workdir(ex: LocalExecutor, tmp_path: Path) -> None:
    """Not only the running study: sibling studies (their database, LLM cache, logs) are hidden too, the
    studies root as a whole (so a study started later is hidden as well); the rest of the workdir and the
    trial's own folder stay usable."""
    need_strict()
    work = tmp_path / "work"
    work.mkdir()
    studies = _studies(work)
    secrets = [
        str(studies[name] / file)
        for name in studies
        for file in ("study.db", "llm_cache.jsonl", "trials/0000/stdout.log")
    ]
    (work / "t1.py").write_text(
        textwrap.dedent(
            f"""
            import json, os
            def readable(path):
                try:
                    with open(path) as fh:
                        return fh.read()
                except OSError:
                    return None
            open(os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "model.pt"), "w").write("mine")
            print(json.dumps({{
                "secrets": [p for p in {secrets!r} if readable(p) is not None],
                "root": sorted(os.listdir({str(work / "studies")!r})),
                "visible": [readable({str(work / "data.txt")!r}), readable({str(work / "runs/notes/n.txt")!r})],
            }}))
            print('TUNESMITH_REPORT {{"y": 1}}')
            """
        )
    )
    trial_dir = studies["current"] / "trials" / "0001"
    req = TrialRequest(
        trial_id="t1",
        params={},
        trial_dir=str(trial_dir),
        workdir=str(work),
        command=[sys.executable, "t1.py"],
        hide=(str(studies["current"]),),
        isolation="strict",
        grace=1.0,
    )
    out = run_one(ex, req)
    assert (out.status, out.returncode) == ("exited", 0), out.stderr_tail
    seen = json.loads(out.stdout_tail.splitlines()[0])
    assert seen["secrets"] == []
    assert seen["root"] == ["current"]  # an empty tmpfs, but for the way to the trial's own folder
    assert seen["visible"] == ["visible", "visible"]
    assert (trial_dir / "model.pt").read_text() == "mine"


def test_hidden_paths_cover_the_studies_root_only_when_it_holds_only_studies(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    studies = _studies(work)
    (work / ".git" / "objects" / "ab").mkdir(parents=True)
    (work / ".git" / "objects" / "ab" / "study.db").write_text("not a study")
    (work / "a" / "b" / "c" / "d" / "e").mkdir(parents=True)
    (work / "a" / "b" / "c" / "d" / "e" / "study.db").write_text("too deep to look for")

    def req(hide: Path, read_paths: tuple[str, ...] = ()) -> TrialRequest:
        return TrialRequest(
            "1", {}, str(hide / "trials" / "0001"), str(work), command=["x"], hide=(str(hide),), read_paths=read_paths
        )

    hidden = strict.hidden_paths(req(studies["current"]))
    assert hidden == sorted([str(work / "studies"), str(studies["deep"])])
    (work / "studies" / "exports").mkdir()  # more than studies: each study is hidden on its own
    hidden = strict.hidden_paths(req(studies["current"]))
    assert hidden == sorted(str(studies[name]) for name in ("current", "deep", "other"))
    # a study made in the workdir itself (--dir): the workdir stays visible, the studies in it do not
    alone = work / "alone"
    (alone / "trials").mkdir(parents=True)
    hidden = strict.hidden_paths(req(alone, read_paths=(str(work / "studies" / "exports"),)))
    assert str(work) not in hidden and str(alone) in hidden and str(studies["other"]) in hidden


# ------------------------------------------------------------------ signals, exit codes, control files
@pytest.mark.parametrize(
    "body, code, sig",
    [
        ("import sys; sys.exit(3)", 3, None),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL, signal.SIGKILL),
        ("import ctypes; ctypes.string_at(0)", -signal.SIGSEGV, signal.SIGSEGV),
    ],
)
def test_exit_codes_and_signals_come_through_bubblewrap(
    ex: LocalExecutor, tmp_path: Path, body: str, code: int, sig: int | None
) -> None:
    need_strict()
    out = run_one(ex, request(tmp_path, body))
    assert (out.status, out.returncode, out.signal) == ("exited", code, sig)


def test_a_bwrap_setup_failure_is_a_launch_error(ex: LocalExecutor, tmp_path: Path) -> None:
    need_strict()
    req = request(tmp_path, "")
    out = run_one(ex, TrialRequest(**{**req.__dict__, "read_paths": (str(tmp_path / "vanished"),)}))
    assert out.status == "launch_error" and "bwrap: Can't find source path" in (out.reason or "")


def test_the_trial_cannot_change_its_control_files(ex: LocalExecutor, tmp_path: Path) -> None:
    need_strict()
    out = run_one(
        ex,
        request(
            tmp_path,
            """
        import os, sys
        d = os.environ["TUNESMITH_TRIAL_DIR"]
        for name in ("params.json", "status.json", "launch.json", "stdout.log"):
            for attack in (lambda p: open(p, "w"), os.unlink, lambda p: os.rename(p, p + ".x")):
                try:
                    attack(os.path.join(d, name))
                    print("changed", name)
                except OSError as exc:
                    print("refused", name, exc.errno, file=sys.stderr)
        print('TUNESMITH_REPORT {"y": 1}')
    """,
            params={"lr": 0.1},
        ),
    )
    assert "changed" not in out.stdout_tail and out.stderr_tail.count("refused") == 12
    trial_dir = Path(out.info["trial_dir"])
    assert json.loads((trial_dir / "params.json").read_text()) == {"lr": 0.1}
    assert json.loads((trial_dir / "status.json").read_text())["state"] == "finished"


@pytest.mark.parametrize("isolation", ["process", "strict"])
def test_a_stop_file_planted_as_a_link_is_not_written_through(
    ex: LocalExecutor, tmp_path: Path, isolation: str
) -> None:
    if isolation == "strict":
        need_strict()
    victim = tmp_path / "victim.txt"
    victim.write_text("unchanged")
    out_req = request(
        tmp_path,
        f"""
        import os, time
        os.symlink({str(victim)!r}, os.path.join(os.environ["TUNESMITH_TRIAL_DIR"], "STOP"))
        print('TUNESMITH_REPORT {{"y": 1}}', flush=True)
        time.sleep(60)
    """,
        isolation=isolation,
        grace=0.3,
    )
    ex.submit(out_req)
    wait_running(ex, "t1")
    ex.cancel("t1", "pruned at step 1", stop=True)
    (out,), _ = run_until_done(ex)
    assert out.status == "stopped" and victim.read_text() == "unchanged"


def test_strict_env_is_built_from_an_allowlist() -> None:
    env = strict.base_env(
        {
            "PATH": "/usr/bin",
            "LC_ALL": "C",
            "SSH_AUTH_SOCK": "/run/agent",
            "HF_TOKEN": "x",
            "DISPLAY": ":0",
            "HOME": "/root",
        },
        ["HF_TOKEN"],
    )
    assert env == {"PATH": "/usr/bin", "LC_ALL": "C", "HF_TOKEN": "x", "HOME": "/tmp", "TMPDIR": "/tmp"}


def test_readable_paths_keep_only_outermost_folders(tmp_path: Path) -> None:
    req = TrialRequest(
        "1",
        {},
        str(tmp_path / "s" / "trials" / "1"),
        str(tmp_path / "w"),
        command=["x"],
        read_paths=(str(tmp_path / "w" / "data"), "/usr/share"),
    )
    paths = strict.readable_paths(req)
    assert str(tmp_path / "w") in paths and str(tmp_path / "w" / "data") not in paths and "/usr/share" not in paths
    assert any(os.path.realpath(sys.executable).startswith(p) for p in paths)


def test_a_function_trial_runs_under_strict(ex: LocalExecutor, tmp_path: Path) -> None:
    need_strict()
    from tests.sandbox.helpers import REPO

    req = TrialRequest(
        "f1",
        {"n": 3},
        str(tmp_path / "study" / "trials" / "f1"),
        str(REPO),
        function="tests.sandbox.trial_funcs:steps",
        env={"TUNESMITH_OBJECTIVE": "score"},
        isolation="strict",
        hide=(str(tmp_path / "study"),),
    )
    out = run_one(ex, req)
    assert (out.status, out.returncode) == ("exited", 0), out.stderr_tail
    assert out.reports and out.reports[-1].final


def test_process_limits_without_a_cgroup_use_rlimit_nproc_above_what_the_user_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandbox import proclimit

    assert proclimit.user_tasks() >= 1  # at least this test's own thread
    monkeypatch.setattr(proclimit, "pids_cgroup_parent", lambda: None)
    monkeypatch.setattr(proclimit.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(proclimit, "user_tasks", lambda uid=None: 300)
    assert proclimit.limit_problem(64) is None
    assert proclimit.plan(64) == proclimit.ProcessLimit(64, nproc=364)
    monkeypatch.setattr(proclimit.os, "geteuid", lambda: 0)
    problem = proclimit.limit_problem(64)
    assert problem is not None and "root" in problem and "pids cgroup" in problem
