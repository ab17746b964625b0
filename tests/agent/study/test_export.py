"""Exports keep the truth: real start and end times, every trial under its own number (cancelled ones too),
the objective's name, where the study came from, and importance the dashboard computes the same way."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from agent.core.records import MetricPoint, Trial, TrialState
from agent.core.space import SearchSpace
from agent.faces import insights
from agent.study.export import export, export_session, to_dataframe
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec
from tests.agent.faces.test_insights import SPACE, synthetic

T0 = time.time() - 3600
SMALL = SearchSpace.from_dict({"x": {"type": "float", "low": 0.0, "high": 1.0}, "k": {"choices": ["a", "b"]}})
STATES = ["complete", "cancelled", "failed", "complete", "timeout", "pruned", "complete", "running"]


def history() -> list[Trial]:
    out = []
    for i, state in enumerate(STATES):
        s = TrialState(state)
        out.append(
            Trial(
                number=i,
                params={"x": i / 10, "k": "b"},
                state=s,
                value=i / 10 if s in (TrialState.COMPLETE, TrialState.PRUNED) else None,
                created_at=T0 + 60 * i,
                started_at=T0 + 60 * i + 1,
                finished_at=None if s is TrialState.RUNNING else T0 + 60 * i + 2 + i,
                reason=None if s is TrialState.COMPLETE else f"{state} because",
            )
        )
    return out


def load(path: Path, name: str = "n") -> object:
    import optuna

    return optuna.load_study(study_name=name, storage=f"sqlite:///{path}")


def test_optuna_export_keeps_numbers_times_states_and_names(tmp_path: Path) -> None:
    trials = history()
    curves = {0: [MetricPoint(step=0, values={"acc": 0.05}), MetricPoint(step=1, values={"acc": 0.0})]}
    out = export(trials, "optuna", tmp_path / "o.db", space=SMALL, metric="acc", name="n", curves=curves)
    study = load(out)
    got = study.trials  # type: ignore[attr-defined]
    assert [t.number for t in got] == list(range(len(STATES)))  # cancelled #1 kept: numbers do not drift
    assert [t.user_attrs["tunesmith_trial"] for t in got] == list(range(len(STATES)))
    assert [t.user_attrs["tunesmith_state"] for t in got] == STATES
    assert [t.state.name for t in got] == [
        "COMPLETE",
        "FAIL",
        "FAIL",
        "COMPLETE",
        "FAIL",
        "PRUNED",
        "COMPLETE",
        "RUNNING",
    ]
    for t, src in zip(got, trials, strict=True):
        assert t.datetime_start is not None and abs(t.datetime_start.timestamp() - src.started_at) < 1e-3
        if src.finished_at is not None:
            assert abs(t.duration.total_seconds() - (src.finished_at - src.started_at)) < 1e-3
        assert t.params == {"x": src.params["x"], "k": "b"}  # params for every state
    starts = {t.datetime_start for t in got}
    assert len(starts) == len(got)  # not every trial stamped with the moment of export
    assert got[0].intermediate_values == {0: 0.05, 1: 0.0} and got[2].user_attrs["reason"] == "failed because"
    assert study.metric_names == ["acc"]  # type: ignore[attr-defined]
    attrs = study.user_attrs  # type: ignore[attr-defined]
    assert "snapshot" in attrs["snapshot"] and "PED-ANOVA" in attrs["importance"]


def test_study_attributes_say_where_it_came_from(tmp_path: Path) -> None:
    session = Session.create(small_spec(budget={"max_trials": 4}), tmp_path / "study")
    session.close()
    Runner(session.dir).start().join()
    session = Session.open(session.dir, readonly=True)
    out = export_session(session, "optuna", tmp_path / "o.db")
    attrs = load(out, "steer").user_attrs  # type: ignore[attr-defined]
    assert attrs["folder"] == str(session.dir) and attrs["strategy"] == "random"
    assert attrs["spec"]["objective"]["metric"] == "y" and "taken" in attrs["snapshot"]


def test_tables_have_start_and_end_times_and_params_of_every_state(tmp_path: Path) -> None:
    trials = history()
    df = to_dataframe(trials)
    assert str(df["started_at"].dtype).startswith("datetime64") and str(df["started_at"].dt.tz) == "UTC"
    assert abs(df["started_at"][3].timestamp() - trials[3].started_at) < 1e-3  # type: ignore[operator]
    assert pd.isna(df["finished_at"][7]) and df["param_x"].notna().all()
    csv = pd.read_csv(export(trials, "csv", tmp_path / "t.csv"))
    assert {"started_at", "finished_at", "duration_s", "param_x", "reason"} <= set(csv.columns)
    assert pd.Timestamp(csv["finished_at"][0]).timestamp() == pytest.approx(trials[0].finished_at)
    parquet = pd.read_parquet(export(trials, "parquet", tmp_path / "t.parquet"))
    assert str(parquet["started_at"].dtype).startswith("datetime64")
    rows = json.loads(export(trials, "json", tmp_path / "t.json").read_text())
    assert rows[2]["params"] == {"x": 0.2, "k": "b"} and rows[2]["reason"] == "failed because"
    assert rows[0]["started_at"].endswith("+00:00") and rows[7]["finished_at"] is None


def test_the_dashboards_importance_matches_the_pages_ped_anova(tmp_path: Path) -> None:
    pytest.importorskip("optuna_dashboard")
    from optuna.storages import RDBStorage
    from optuna_dashboard._importance import get_param_importance_from_trials_cache
    from optuna_dashboard._inmemory_cache import InMemoryCache

    trials = synthetic(40)
    trials[5] = trials[5].model_copy(update={"state": TrialState.FAILED, "value": None})
    out = export(trials, "optuna", tmp_path / "o.db", space=SPACE, metric="y", name="n", direction="maximize")
    storage = RDBStorage(f"sqlite:///{out}")
    sid = storage.get_study_id_from_name("n")
    dashboard = get_param_importance_from_trials_cache(InMemoryCache(), storage, sid, 0, storage.get_all_trials(sid))
    page = insights.importance(trials, SPACE, "maximize", method="ped-anova")
    assert [d["name"] for d in dashboard] == list(page.scores)
    assert [d["importance"] for d in dashboard] == pytest.approx(list(page.scores.values()))
    assert page.trials == 39
