"""Fixtures shared by the steering, chat and web tests: small studies on the in-process fake executor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import StudySpec, load_spec
from agent.study.session import Session
from sandbox.fake import InProcessExecutor


def small_spec(**extra: Any) -> StudySpec:
    data: dict[str, Any] = {
        "name": "steer",
        "objective": {"metric": "y", "direction": "maximize"},
        "function": "tests.agent.faces.trial_funcs:slow_quadratic",
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": {"choices": ["a", "b"]}},
        "default": {"x": 0.5, "k": "a"},
        "budget": {"max_trials": 30},
        "strategy": "random",
        "seed": 1,
    }
    data.update(extra)
    return load_spec(data)


class Runner:
    """``Session.run`` on the fake executor in a thread (stands in for another process running the study)."""

    def __init__(self, directory: Path) -> None:
        self.session = Session.open(directory)
        self.summary: Any = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        self.summary = self.session.run(executor=InProcessExecutor(capacity=1), tick=0.02)

    def start(self) -> Runner:
        from agent.study.steering import is_running

        self.thread.start()
        while not is_running(self.session.dir) and self.thread.is_alive():
            threading.Event().wait(0.01)
        return self

    def join(self, timeout: float = 30) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the study did not finish"
        return self.summary


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    session = Session.create(small_spec(), tmp_path / "study")
    session.close()
    return session.dir


@pytest.fixture
def runner(study_dir: Path) -> Iterator[Runner]:
    r = Runner(study_dir)
    yield r
    if r.thread.is_alive():
        r.session.control.stop()
        r.thread.join(30)
