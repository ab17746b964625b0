"""A store that fails mid-study (disk full, folder turned read-only), injected at the store boundary:
the study stops with the store's one-line error, stops its trials, loses nothing, and resumes.

Runs everywhere; tests/agent/faces/cli/test_disk.py does the same with a real full disk and a real read-only mount
where this machine lets it mount file systems."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agent.core.records import Event, MetricPoint, Trial, TrialDraft, TrialState
from agent.core.spec import load_spec
from agent.errors import StudyError
from agent.study.session import Session
from agent.study.store.sqlite import SQLiteStore
from sandbox.local_executor import LocalExecutor
from tests.sandbox.studyrun import assert_nothing_left, token


class FailingStore(SQLiteStore):
    """From the ``fail_at``-th ``add_metrics`` on, every write raises the store's own disk-full error, as
    a really full disk would."""

    fail_at = 4
    calls = 0

    def _full(self) -> StudyError:
        return StudyError(
            f"disk full while writing {self.db_path}; free space on that disk, then continue "
            f"with `tunesmith resume {self.folder}`"
        )

    def add_metrics(self, number: int, points: Sequence[MetricPoint]) -> None:
        FailingStore.calls += 1
        if FailingStore.calls >= self.fail_at:
            raise self._full()
        super().add_metrics(number, points)

    def _check(self) -> None:
        if FailingStore.calls >= self.fail_at:
            raise self._full()

    def create_trial(self, draft: TrialDraft) -> Trial:
        self._check()
        return super().create_trial(draft)

    def update_trial(self, trial: Trial) -> None:
        self._check()
        super().update_trial(trial)

    def add_event(self, kind: str, data: dict[str, Any] | None = None, *, trial: int | None = None) -> Event:
        self._check()
        return super().add_event(kind, data, trial=trial)

    def set_meta(self, key: str, value: Any) -> None:
        self._check()
        super().set_meta(key, value)


@pytest.mark.parametrize("isolation", ["process", "strict"])
def test_a_failing_store_stops_the_study_cleanly_and_it_resumes(tmp_path: Path, isolation: str) -> None:
    if isolation == "strict":
        from tests.sandbox.studyrun import need_strict

        need_strict()
    mark = token()
    (tmp_path / "train.py").write_text(
        "import json, os, sys, time\n"
        "p = json.load(open(os.environ['TUNESMITH_PARAMS']))\n"
        "for step in range(3):\n"
        "    print('TUNESMITH_REPORT ' + json.dumps({'step': step, 'y': p['x'] + step}), flush=True)\n"
        "    time.sleep(0.1)\n"
        "if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'slow')):\n"
        "    time.sleep(60)  # still running when the store fails\n"
    )
    (tmp_path / "slow").touch()
    spec = load_spec(
        {
            "name": "faults",
            "objective": {"metric": "y", "direction": "maximize"},
            "command": ["python", "train.py", mark],
            "space": {"x": {"type": "float", "low": 0, "high": 1}},
            "budget": {"max_trials": 6},
            "workers": 2,
            "strategy": "random",
            "seed": 0,
            "isolation": isolation,
        },
        base_dir=tmp_path,
    )
    session = Session.create(spec, tmp_path / "study")
    session.store.close()
    FailingStore.calls = 0
    session.store = FailingStore(tmp_path / "study")
    with pytest.raises(StudyError, match="disk full"):
        session.run(executor=LocalExecutor(capacity=2))
    assert_nothing_left(mark, wait=1.0)  # the trials running when the store failed were stopped
    session.store.close()
    (tmp_path / "slow").unlink()

    store = SQLiteStore(tmp_path / "study")
    assert store.integrity_check() == "ok"
    before = {t.number: t for t in store.trials() if t.state is TrialState.COMPLETE}
    store.close()
    resumed = Session.open(tmp_path / "study")
    summary = resumed.run()
    assert summary.counted == 6
    after = {t.number: t for t in resumed.trials()}
    for number, trial in before.items():
        assert after[number].value == trial.value and after[number].state is TrialState.COMPLETE
    assert resumed.store.integrity_check() == "ok"  # type: ignore[attr-defined]
