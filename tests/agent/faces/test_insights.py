"""Importance, plot data and the SVG renderer, on synthetic trials whose answers are known."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

from agent.core.records import MetricPoint, Trial, TrialState
from agent.core.records import ProposerKind as Kind
from agent.core.space import SearchSpace
from agent.faces import insights, svgplot

SPACE = SearchSpace.from_dict(
    {
        "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
        "noise": {"type": "float", "low": 0.0, "high": 1.0},
        "opt": {"choices": ["sgd", "adam"]},
    }
)


def synthetic(n: int = 40) -> list[Trial]:
    rng = random.Random(0)
    out = []
    for i in range(n):
        lr = 10 ** rng.uniform(-5, -1)
        params = {"lr": lr, "noise": rng.random(), "opt": rng.choice(["sgd", "adam"])}
        value = -abs(lr - 1e-3) * 100 + 0.001 * params["noise"]  # lr is what matters
        out.append(Trial(number=i, params=params, state=TrialState.COMPLETE, value=value, proposer=Kind.STRATEGY))
    return out


def test_importance_finds_the_parameter_that_matters() -> None:
    imp = insights.importance(synthetic(), SPACE, "maximize")
    assert imp.trials == 40 and set(imp.scores) == {"lr", "noise", "opt"}
    assert next(iter(imp.scores)) == "lr" and imp.scores["lr"] > 0.5
    assert abs(sum(imp.scores.values()) - 1.0) < 1e-6


def test_importance_explains_when_it_cannot_be_computed() -> None:
    few = insights.importance(synthetic(3), SPACE, "maximize")
    assert few.scores == {} and "at least 4 complete trials; 3 so far" in (few.note or "")


def test_history_tracks_the_best_so_far_in_the_right_direction() -> None:
    trials = [
        Trial(number=0, params={}, state=TrialState.COMPLETE, value=3.0),
        Trial(number=1, params={}, state=TrialState.FAILED, reason="boom"),
        Trial(number=2, params={}, state=TrialState.COMPLETE, value=1.0),
        Trial(number=3, params={}, state=TrialState.CANCELLED),
        Trial(number=4, params={}, state=TrialState.COMPLETE, value=2.0),
    ]
    rows = insights.history(trials, "minimize")
    assert [r["trial"] for r in rows] == [0, 1, 2, 4]  # cancelled trials do not count
    assert [r["best"] for r in rows] == [3.0, 3.0, 1.0, 1.0] and rows[1]["value"] is None
    assert [r["best"] for r in insights.history(trials, "maximize")] == [3.0, 3.0, 3.0, 3.0]


def test_parallel_positions_use_log_axes_and_choice_indices() -> None:
    t = Trial(number=0, params={"lr": 1e-3, "noise": 0.25, "opt": "adam"}, state=TrialState.COMPLETE, value=1.0)
    data = insights.parallel([t], SPACE)
    pts = data["lines"][0]["points"]
    assert abs(pts["lr"] - 0.5) < 1e-9 and pts["noise"] == 0.25 and pts["opt"] == 1.0
    assert [a["name"] for a in data["axes"]] == ["lr", "noise", "opt"]


def test_curve_uses_steps_and_skips_other_metrics() -> None:
    points = [
        MetricPoint(step=0, values={"y": 1.0}),
        MetricPoint(step=None, values={"loss": 2.0}),
        MetricPoint(step=5, values={"y": float("nan")}),
        MetricPoint(step=None, values={"y": 3.0}),
    ]
    assert insights.curve(points, "y") == [(0.0, 1.0), (3.0, 3.0)]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on malformed XML


def test_every_plot_is_well_formed_svg_with_clickable_trials() -> None:
    trials = synthetic(12)
    ns = "{http://www.w3.org/2000/svg}"
    hist = parse(svgplot.history_svg(insights.history(trials, "maximize"), "y"))
    assert len(hist.findall(f".//{ns}circle[@data-trial]")) == 12
    par = parse(svgplot.parallel_svg(insights.parallel(trials, SPACE), "y", "maximize"))
    assert len(par.findall(f".//{ns}polyline[@data-trial]")) == 12
    imp = parse(svgplot.importance_svg(insights.importance(trials, SPACE, "maximize")))
    assert len(imp.findall(f".//{ns}rect[@class='bar']")) == 3
    cur = parse(svgplot.curves_svg({3: [(0.0, 1.0), (1.0, 2.0)], 4: [(0.0, 0.5)]}, "y", highlight=3))
    assert {e.get("data-trial") for e in cur.iter() if e.get("data-trial")} == {"3", "4"}
    for svg in (
        svgplot.history_svg([], "y"),
        svgplot.curves_svg({}, "y"),
        svgplot.parallel_svg({"axes": [], "lines": []}, "y", "minimize"),
    ):
        assert "yet" in ET.tostring(parse(svg), encoding="unicode")


def test_names_from_the_spec_are_escaped() -> None:
    space = SearchSpace.from_dict({"<script>&x": {"choices": ["</svg>", "a&b"]}})
    t = Trial(number=0, params={"<script>&x": "a&b"}, state=TrialState.COMPLETE, value=1.0)
    svg = svgplot.parallel_svg(insights.parallel([t], space), "m<", "maximize")
    root = parse(svg)
    texts = [e.text for e in root.iter() if e.text]
    assert "<script>&x" in texts and "</svg>" in texts and "<script>" not in svg
