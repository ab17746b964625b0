"""The plots optuna-dashboard users look for: slice, contour, EDF, timeline, parallel coordinates with the
objective, a log scale, curves by state, importance that names its method; on trials whose answers are known."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from agent.core.records import Trial, TrialState
from agent.faces import insights, plotdata, svgplot, svgplot_params, svgplot_time
from tests.agent.faces.test_insights import SPACE, synthetic

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-label")
    return root


def trial_marks(root: ET.Element) -> set[str]:
    return {e.get("data-trial") or "" for e in root.iter() if e.get("data-trial")}


def text_of(root: ET.Element) -> str:
    return " ".join(t for e in root.iter() for t in (e.text or "",))


def test_slice_has_a_panel_per_parameter_and_a_dot_per_complete_trial() -> None:
    trials = synthetic(10)
    root = parse(svgplot_params.slice_svg(plotdata.slice_data(trials, SPACE), "y"))
    assert len(root.findall(f".//{NS}circle[@data-trial]")) == 10 * 3
    words = text_of(root)
    assert "lr (log)" in words and "noise" in words and "sgd" in words and "adam" in words


def test_contour_interpolates_a_grid_between_two_chosen_parameters() -> None:
    trials = synthetic(12)
    data = plotdata.contour_data(trials, SPACE, "lr", "noise", size=8)
    assert len(data["grid"]) == 8 and all(len(row) == 8 for row in data["grid"])
    values = [t.value for t in trials]
    assert min(values) - 1e-9 <= min(min(r) for r in data["grid"]) <= max(max(r) for r in data["grid"]) <= max(values)
    root = parse(svgplot_params.contour_svg(data, "y", "maximize"))
    assert "contour: y over lr and noise" in root.get("aria-label", "")
    assert len(trial_marks(root)) == 12
    with pytest.raises(KeyError):
        plotdata.contour_data(trials, SPACE, "lr", "nope")


def test_edf_steps_up_to_one_over_the_sorted_values() -> None:
    trials = [*synthetic(6), Trial(number=9, params={}, state=TrialState.FAILED, reason="boom")]
    values = plotdata.edf_data(trials)
    assert values == sorted(t.value for t in trials if t.value is not None) and len(values) == 6
    root = parse(svgplot_time.edf_svg(values, "y", "maximize"))
    assert "6 complete trials" in root.get("aria-label", "") and root.find(f".//{NS}path[@class='edf']") is not None


def test_timeline_lays_trials_on_worker_lanes_coloured_by_state() -> None:
    t0 = 1_000_000.0
    spans = [(0, 10, "complete"), (1, 4, "failed"), (5, 9, "pruned"), (10, 12, "complete"), (11, None, "running")]
    trials = [
        Trial(number=i, params={}, state=TrialState(s), started_at=t0 + a, finished_at=None if b is None else t0 + b)
        for i, (a, b, s) in enumerate(spans)
    ]
    trials.append(Trial(number=5, params={}, state=TrialState.CANCELLED))  # never started: no bar
    data = plotdata.timeline_data(trials, now=t0 + 20)
    lanes = {b["trial"]: b["lane"] for b in data["bars"]}
    assert data["lanes"] == 2 and lanes == {0: 0, 1: 1, 2: 1, 3: 0, 4: 1}
    assert data["bars"][-1]["end"] == 20  # running: up to now
    root = parse(svgplot_time.timeline_svg(data))
    fills = {r.get("data-trial"): r.get("fill") for r in root.findall(f".//{NS}rect[@data-trial]")}
    assert fills["1"] != fills["0"] != fills["2"] and len(fills) == 5
    assert "worker 2" in text_of(root) and "failed" in text_of(root)  # lanes and the legend


def test_parallel_has_the_objective_axis_and_a_legend() -> None:
    root = parse(svgplot.parallel_svg(insights.parallel(synthetic(8), SPACE), "acc", "maximize"))
    words = text_of(root)
    assert "acc" in words and "worse" in words and "better (by rank)" in words
    line = root.find(f".//{NS}polyline[@data-trial]")
    assert line is not None and len((line.get("points") or "").split()) == 4  # three params and the objective


def test_log_scale_is_drawn_for_positive_values_and_explained_otherwise() -> None:
    rows = [
        {"trial": i, "value": 10.0**-i, "best": 10.0**-i, "state": "complete", "proposer": "strategy"} for i in range(5)
    ]
    logged = parse(svgplot.history_svg(rows, "loss", log=True))
    assert "loss (log)" in text_of(logged) and "0.0001" in text_of(logged)
    rows[0]["value"] = -1.0
    linear = parse(svgplot.history_svg(rows, "loss", log=True))
    assert "log scale needs positive values" in text_of(linear)


def test_curves_are_coloured_by_state_and_say_when_no_trial_reports_steps() -> None:
    curves = {0: [(0.0, 0.5), (1.0, 0.7)], 1: [(0.0, 0.4), (1.0, 0.3)]}
    root = parse(svgplot.curves_svg(curves, "acc", states={0: "complete", 1: "pruned"}))
    colours = {p.get("data-trial"): p.get("stroke") for p in root.findall(f".//{NS}path[@data-trial]")}
    assert colours["0"] != colours["1"] and "pruned" in text_of(root)
    flat = parse(svgplot.curves_svg({0: [(0.0, 0.97)], 1: [(0.0, 0.95)]}, "acc"))
    assert "this study's trials report no steps" in text_of(flat)
    assert not flat.findall(f".//{NS}circle")  # no lone dot on a made-up axis


def test_importance_names_its_method_and_ped_anova_agrees_with_the_dashboards_direction() -> None:
    trials = synthetic(40)
    fanova = insights.importance(trials, SPACE, "maximize")
    ped = insights.importance(trials, SPACE, "maximize", method="ped-anova")
    assert fanova.method == "fanova" and fanova.seed == 0 and ped.method == "ped-anova" and ped.seed is None
    assert next(iter(ped.scores)) == "lr"  # lr is what matters, for both methods
    title = parse(svgplot.importance_svg(ped)).get("aria-label", "")
    assert re.search(r"PED-ANOVA, 40 complete trials", title)
    assert "optuna-dashboard" in text_of(parse(svgplot.importance_svg(fanova)))
    with pytest.raises(ValueError, match="unknown importance method"):
        insights.importance(trials, SPACE, "maximize", method="shap")  # type: ignore[arg-type]


@pytest.mark.parametrize("width", [360, 640, 900])
def test_every_plot_is_laid_out_for_the_width_asked(width: int) -> None:
    trials = synthetic(20) + [
        Trial(number=20 + i, params={}, state=TrialState(s), reason="r")
        for i, s in enumerate(("failed", "pruned", "timeout"))
    ]
    curves = {t.number: [(0.0, t.value * 0.5), (1.0, t.value)] for t in trials if t.value is not None}
    timed = [t.model_copy(update={"started_at": 100.0 + t.number, "finished_at": 101.5 + t.number}) for t in trials]
    svgs = [
        svgplot.history_svg(insights.history(trials, "maximize"), "a rather long metric name", width=width),
        svgplot.importance_svg(insights.importance(trials, SPACE, "maximize"), width=width),
        svgplot.parallel_svg(insights.parallel(trials, SPACE), "y", "maximize", width=width),
        svgplot.curves_svg(curves, "y", width=width),
        svgplot_params.slice_svg(plotdata.slice_data(trials, SPACE), "y", width=width),
        svgplot_params.contour_svg(plotdata.contour_data(trials, SPACE, "lr", "opt"), "y", "maximize", width=width),
        svgplot_time.edf_svg(plotdata.edf_data(trials), "y", "maximize", log=True, width=width),
        svgplot_time.timeline_svg(plotdata.timeline_data(timed, now=200.0), width=width),
    ]
    for svg in svgs:
        root = parse(svg)
        assert (root.get("viewBox") or "").split()[2] == str(width)
        for e in root.iter(f"{NS}text"):  # every label starts inside the drawing
            assert -1 <= float(e.get("x") or 0) <= width + 1, (root.get("aria-label"), e.text)
        for e in root.iter():
            if e.tag in (f"{NS}rect", f"{NS}line") and e.get("x", e.get("x1")) is not None:
                assert float(e.get("x", e.get("x1")) or 0) >= -1, (root.get("aria-label"), e.attrib)
