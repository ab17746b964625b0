"""The cross-process command channel: a handle steers an engine it does not own, through study.db."""

from __future__ import annotations

import time
from pathlib import Path

from agent.core.records import TrialState
from agent.faces.handle import StudyHandle
from agent.study.steering import Command, is_running, post
from agent.study.store.sqlite import SQLiteStore
from tests.agent.faces.conftest import Runner


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def counted(handle: StudyHandle) -> int:
    return sum(1 for t in handle.trials() if t.state.counts)


def test_pause_budget_resume_reach_the_running_engine(study_dir: Path, runner: Runner) -> None:
    handle = StudyHandle(study_dir, source="test")
    runner.start()
    assert handle.running() and is_running(study_dir)
    wait_for(lambda: counted(handle) >= 1)
    reply = handle.send("pause")
    assert reply.ok and "paused" in reply.message
    assert handle.paused()
    wait_for(lambda: not any(t.state is TrialState.RUNNING for t in handle.trials()))
    frozen = len(handle.trials())
    time.sleep(0.3)
    assert len(handle.trials()) == frozen  # paused: nothing new starts

    reply = handle.send("set_budget", {"budget": {"max_trials": frozen + 2}})
    assert reply.ok and f"max_trials={frozen + 2}" in reply.message
    assert handle.spec.budget.max_trials == frozen + 2 and handle.status()["budget"] == frozen + 2
    assert handle.send("resume").ok and not handle.paused()
    summary = runner.join()
    assert summary.reason == "budget" and summary.counted == frozen + 2
    kinds = [e.kind for e in handle.events()]
    assert kinds.count("command") == 3 and kinds.count("command_done") == 3 and "budget_changed" in kinds
    assert handle.status()["status"] == "finished"


def test_space_edit_applies_to_new_trials_and_is_recorded(study_dir: Path, runner: Runner) -> None:
    handle = StudyHandle(study_dir, source="web")
    runner.start()
    wait_for(lambda: len(handle.trials()) >= 1)  # the spec's default runs first whatever the space says
    assert handle.send("pause").ok
    space = handle.space.model_dump(mode="json")
    space["params"]["x"]["high"] = 0.1
    reply = handle.send("set_space", {"space": space, "rationale": "keep x small"})
    assert reply.ok, reply.message
    before = len(handle.trials())
    assert handle.send("set_budget", {"budget": {"max_trials": before + 4}}).ok
    assert handle.send("resume").ok
    runner.join()
    later = handle.trials()[before:]
    assert len(later) >= 3 and all(t.params["x"] <= 0.1 for t in later)
    edit = handle.events("space_edited")[-1]
    assert edit.data["source"] == "web" and edit.data["rationale"] == "keep x small"
    assert handle.space.params["x"].high == 0.1  # type: ignore[union-attr]


def test_stop_leaves_the_study_resumable(study_dir: Path, runner: Runner) -> None:
    handle = StudyHandle(study_dir, source="chat")
    runner.start()
    wait_for(lambda: counted(handle) >= 2)
    reply = handle.send("stop")
    assert reply.ok and "re-run" in reply.message
    summary = runner.join()
    assert summary.reason == "stopped" and not handle.running()
    assert handle.status()["status"] == "stopped"
    assert handle.send("stop").message.startswith("the study is not running")


def test_bad_commands_are_rejected_with_one_line_and_change_nothing(study_dir: Path, runner: Runner) -> None:
    handle = StudyHandle(study_dir, source="test")
    runner.start()
    reply = handle.send("set_budget", {"budget": {"max_trials": 0}})
    assert not reply.ok and reply.message.startswith("rejected: budget.max_trials") and "\n" not in reply.message
    reply = handle.send("set_space", {"space": {"x": {"type": "float", "low": 2, "high": 1}}})
    assert not reply.ok and "low" in reply.message
    assert not handle.send("explode").ok
    # a malformed command posted by hand (another tool) is answered, and the engine keeps going
    store = SQLiteStore(study_dir)
    bad = store.add_event("command", {"op": "set_budget", "args": {"budget": {"nope": 1}}})
    wait_for(lambda: any(e.data.get("command") == bad.id for e in store.events("command_done")))
    assert handle.spec.budget.max_trials == 30 and handle.running()
    assert handle.send("stop").ok
    runner.join()
    store.close()


def test_commands_sent_while_nothing_ran_expire_instead_of_applying_late(study_dir: Path) -> None:
    store = SQLiteStore(study_dir)
    stale = post(store, Command(op="stop", source="old"))
    handle = StudyHandle(study_dir, source="test")
    assert handle.send("set_budget", {"budget": {"max_trials": 3}}).ok  # offline: straight into the spec
    assert handle.spec.budget.max_trials == 3
    summary = Runner(study_dir).start().join()
    assert summary.reason == "budget" and summary.counted == 3  # the stale stop did not stop it
    done = [e for e in store.events("command_done") if e.data["command"] == stale]
    assert len(done) == 1 and not done[0].data["ok"] and "expired" in done[0].data["message"]
    store.close()


def test_resume_runs_the_study_here_and_close_keeps_it_resumable(study_dir: Path) -> None:
    handle = StudyHandle(study_dir, source="chat")
    assert not handle.running()
    reply = handle.send("resume")
    assert reply.ok and "running in this process" in reply.message, reply.message
    assert handle.running() and handle.status()["here"]
    wait_for(lambda: counted(handle) >= 1)
    handle.close()  # like Ctrl-C in the chat
    other = StudyHandle(study_dir, source="test")
    assert not other.running() and other.status()["status"] == "stopped"
    assert all(t.state is not TrialState.RUNNING for t in other.trials())
    other.close()


def test_a_spent_budget_is_explained_before_starting(study_dir: Path) -> None:
    handle = StudyHandle(study_dir, source="chat")
    assert handle.send("set_budget", {"budget": {"max_trials": 1}}).ok
    Runner(study_dir).start().join()
    reply = handle.send("resume")
    assert not reply.ok and "budget is spent (1/1" in reply.message and "/budget trials=11" in reply.message


def test_the_running_probe_sees_the_study_lock_without_taking_it(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import agent.study.steering as steering
    from agent.study.folder import StudyLock

    (tmp_path / "study.lock").touch()
    assert not is_running(tmp_path)
    with StudyLock(tmp_path):
        assert is_running(tmp_path)
        monkeypatch.setattr(steering, "_held_in_proc_locks", lambda dev, ino: None)  # no /proc: the flock probe
        assert is_running(tmp_path)
        monkeypatch.undo()
    assert not is_running(tmp_path) and not is_running(tmp_path / "missing")
    with StudyLock(tmp_path):  # the probe left no lock behind that would stop a runner
        pass
