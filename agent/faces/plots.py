"""One plot of a study, by name, as SVG: what the web page shows and ``/plot`` writes.

``render(handle, kind, options)`` reads the study through its handle (so a study run by another process
is drawn as it is now) and returns the SVG. A wrong option (a contour parameter that is not in the space),
or a plot the study has none of (the population of a study without ``scheduler: pbt``), raises
``PlotError`` with one line saying what to pick. ``kinds_for(spec)``: the plots a study has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.errors import TunesmithError
from agent.faces import insights, plotdata, population, svgplot, svgplot_params, svgplot_population, svgplot_time
from agent.faces.svg import W, clamp_width, empty

if TYPE_CHECKING:
    from agent.core.spec import StudySpec
    from agent.faces.handle import StudyHandle

#: the plots every study has
KINDS = ("history", "importance", "parallel", "slice", "contour", "edf", "timeline", "curves")
#: the plots only a Population Based Training study (``scheduler: pbt``) has
PBT_KINDS = ("population",)
ALL_KINDS = (*KINDS, *PBT_KINDS)
#: how many of the latest trials the learning-curves plot draws
CURVES_SHOWN = 40


class PlotError(TunesmithError):
    """A plot option the study cannot honour; the message says what to pick."""


@dataclass(frozen=True)
class PlotOptions:
    """``log``: the objective's axis on a log scale (history, parallel, slice, EDF, curves). ``x``/``y``: the
    contour's parameters (default: the two most important by fANOVA, else the first two). ``method``:
    importance method. ``trial``: the curves of one trial only. ``width``: the width to lay the plot out for,
    in user units (clamped to what the layouts are made for; the height stays)."""

    log: bool = False
    x: str | None = None
    y: str | None = None
    method: insights.Method = "fanova"
    trial: int | None = None
    width: float = W


def render(h: StudyHandle, kind: str, options: PlotOptions | None = None) -> str:
    """The SVG of plot ``kind`` of the study behind ``h``."""
    o = options or PlotOptions()
    spec, space = h.spec, h.space
    trials = h.trials()
    w, metric, direction = clamp_width(o.width), spec.metric, spec.direction
    if kind == "history":
        return svgplot.history_svg(insights.history(trials, direction), metric, log=o.log, width=w)
    if kind == "importance":
        return svgplot.importance_svg(insights.importance(trials, space, direction, method=o.method), width=w)
    if kind == "parallel":
        return svgplot.parallel_svg(insights.parallel(trials, space), metric, direction, log=o.log, width=w)
    if kind == "slice":
        return svgplot_params.slice_svg(plotdata.slice_data(trials, space), metric, log=o.log, width=w)
    if kind == "contour":
        if len(space.names) < 2:
            return empty(f"contour: {metric}", "a contour needs two parameters; this study's space has one", w)
        x, y = contour_params(h, o)
        return svgplot_params.contour_svg(plotdata.contour_data(trials, space, x, y), metric, direction, width=w)
    if kind == "edf":
        return svgplot_time.edf_svg(plotdata.edf_data(trials), metric, direction, log=o.log, width=w)
    if kind == "timeline":
        return svgplot_time.timeline_svg(plotdata.timeline_data(trials, time.time()), width=w)
    if kind == "curves":
        shown = [t for t in trials if t.number == o.trial] if o.trial is not None else trials[-CURVES_SHOWN:]
        curves = {t.number: insights.curve(h.metrics(t.number), metric) for t in shown}
        states = {t.number: t.state.value for t in shown}
        return svgplot.curves_svg(curves, metric, highlight=o.trial, states=states, log=o.log, width=w)
    if kind == "population":
        if spec.scheduler is None:
            raise PlotError(
                "this study has no population (the population plot is for scheduler: pbt); "
                f"choose one of {', '.join(KINDS)}"
            )
        data = population.population_data(trials, h.metrics, metric=metric, direction=direction)
        return svgplot_population.population_svg(data, metric, direction, width=w)
    raise PlotError(f"unknown plot {kind!r}; choose one of {', '.join(ALL_KINDS)}")


def kinds_for(spec: StudySpec) -> tuple[str, ...]:
    """The plots a study with ``spec`` has: every study's, and the population for ``scheduler: pbt``."""
    return ALL_KINDS if spec.scheduler is not None else KINDS


def contour_params(h: StudyHandle, o: PlotOptions) -> tuple[str, str]:
    """The contour's two parameters: those asked for, else the most important two, else the first two."""
    names = list(h.space.names)
    for name in (o.x, o.y):
        if name is not None and name not in names:
            raise PlotError(f"no parameter {name!r} in this study's space; choose from {', '.join(names)}")
    ranked = list(insights.importance(h.trials(), h.space, h.spec.direction).scores) or names
    ranked += [n for n in names if n not in ranked]
    x = o.x or next(n for n in ranked if n != o.y)
    y = o.y or next(n for n in ranked if n != x)
    if x == y:
        raise PlotError(f"pick two different parameters for the contour (both are {x!r})")
    return x, y
