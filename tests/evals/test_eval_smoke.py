"""Smoke eval: 2 problems, 2 strategies, 1 seed, tiny budget, both protocols; report and scoring checked."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from evals.baselines import build
from evals.cli import run_eval
from evals.scoring import load_baselines, perf_trace, score

PROBLEMS = "branin,kNN_iris_nll"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    tmp = tmp_path_factory.mktemp("smoke")
    base = tmp / "baselines.json"
    build(PROBLEMS.split(","), 16, tmp / "base-cache", workers=1, command="test", path=base)
    out = tmp / "run"
    summary = run_eval(
        out_dir=out,
        suite="all",
        problems=PROBLEMS,
        split=None,
        strategies="tpe,random",
        seeds=1,
        budget="6,6",
        batch="1,3",
        workers=1,
        baselines=base,
    )
    return out, base, summary


def test_report_has_tables_statistics_and_plots(run: tuple[Path, Path, dict]) -> None:
    out, _, summary = run
    report = (out / "report.md").read_text()
    for text in (
        "### Protocol 6x1",
        "### Protocol 2x3",
        "95% bootstrap CI",
        "tpe vs random",
        "Wilcoxon p",
        "win/tie/loss",
        "held-out test",
        "plots/score_vs_evals_6x1.png",
        "plots/heatmap_2x3.png",
        "### Cost",
    ):
        assert text in report
    for name in ("score_vs_evals_6x1.png", "heatmap_6x1.png", "score_vs_evals_2x3.png", "heatmap_2x3.png"):
        assert (out / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    for name in ("evals", "scores", "units"):
        assert len(pd.read_parquet(out / f"{name}.parquet")) == len(pd.read_csv(out / f"{name}.csv")) > 0
    assert set(summary["protocols"]) == {"6x1", "2x3"}
    assert len(list((out / "units").glob("*.json"))) == 2 * 2 * 2  # problems x strategies x protocols


def test_scores_match_a_hand_computation(run: tuple[Path, Path, dict]) -> None:
    out, base_path, summary = run
    base = json.loads(base_path.read_text())["problems"]["kNN_iris_nll"]
    unit = json.loads((out / "units" / "kNN_iris_nll__tpe__s0__6x3.json").read_text())
    # by hand: best validation loss after the last round, and the held-out loss of that configuration
    losses = [e["loss"] for e in unit["evals"]]
    i = min(range(len(losses)), key=lambda k: losses[k])
    val = 100 * (1 - min(1, max(-1, (losses[i] - base["best"]) / (base["clip"] - base["best"]))))
    test_loss = unit["evals"][i]["test_loss"]
    test = 100 * (1 - min(1, max(-1, (test_loss - base["best_test"]) / (base["clip_test"] - base["best_test"]))))
    scores = pd.read_csv(out / "scores.csv")
    row = scores[
        (scores.problem == "kNN_iris_nll") & (scores.contender == "tpe") & (scores.protocol == "2x3") & scores.final
    ]
    assert row.set_index("objective").loc["val", "score"] == pytest.approx(val)
    assert row.set_index("objective").loc["test", "score"] == pytest.approx(test)
    # the summary mean is the mean over units of the same numbers
    b = load_baselines(base_path)["branin"]
    branin = json.loads((out / "units" / "branin__tpe__s0__6x3.json").read_text())
    branin_val = score(perf_trace(branin["evals"], 3)[-1], b.clip, b.best)
    assert summary["protocols"]["2x3"]["val"]["means"]["tpe"] == pytest.approx((val + branin_val) / 2)


def test_a_second_run_resumes_from_the_cache(run: tuple[Path, Path, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    out, base, summary = run
    from evals import harness

    monkeypatch.setattr(harness, "run_unit", lambda *a, **k: pytest.fail("a cached unit ran again"))
    again = run_eval(
        out_dir=out,
        suite="all",
        problems=PROBLEMS,
        split=None,
        strategies="tpe,random",
        seeds=1,
        budget="6,6",
        batch="1,3",
        workers=1,
        baselines=base,
        plots=False,
    )
    assert again["protocols"]["6x1"]["val"]["means"] == summary["protocols"]["6x1"]["val"]["means"]


def test_baselines_merge_keeps_entries_and_every_command(tmp_path: Path) -> None:
    base = tmp_path / "baselines.json"
    build(["branin"], 8, tmp_path / "cache", workers=1, command="tunesmith eval-baselines --problems branin", path=base)
    build(
        ["hartmann6"],
        8,
        tmp_path / "cache",
        workers=1,
        command="tunesmith eval-baselines --problems hartmann6",
        path=base,
    )
    build(["branin"], 8, tmp_path / "cache", workers=1, command="tunesmith eval-baselines --problems branin", path=base)
    data = json.loads(base.read_text())
    assert set(data["problems"]) == {"branin", "hartmann6"} and data["problems"]["branin"]["n"] == 8
    assert data["commands"] == [
        "tunesmith eval-baselines --problems hartmann6",
        "tunesmith eval-baselines --problems branin",
    ]


def test_first_seed_runs_later_seeds_that_combine_with_an_earlier_run(
    run: tuple[Path, Path, dict], tmp_path: Path
) -> None:
    _, base, _ = run
    out = tmp_path / "later"
    run_eval(
        out_dir=out,
        suite="all",
        problems="branin",
        split=None,
        strategies="random",
        seeds=2,
        first_seed=3,
        budget="4",
        batch="1",
        workers=1,
        baselines=base,
        plots=False,
    )
    assert sorted(p.name for p in (out / "units").glob("*.json")) == [
        "branin__random__s3__4x1.json",
        "branin__random__s4__4x1.json",
    ]
    assert set(pd.read_parquet(out / "scores.parquet").seed) == {3, 4}
    assert "Seeds: 2 (3..4)" in (out / "report.md").read_text()
