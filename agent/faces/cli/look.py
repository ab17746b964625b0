"""``tunesmith plot DIR KIND`` and ``tunesmith ls [ROOT]``: a study's plots as files, and the studies under a
folder (registered in agent/faces/cli/app.py).

``plot`` draws exactly what the web page draws (agent/faces/plots.py), as SVG; PNG needs cairosvg
(``pip install 'tunesmith[png]'``) or ``rsvg-convert`` on the PATH, and otherwise says how to get one.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from agent.core.events import CommandDone, CommandPosted, payload
from agent.core.records import EventKind
from agent.errors import TunesmithError
from agent.faces.cli.app import DirArg, JsonOpt, app, fail, out
from agent.faces.format import clock_time, fmt_value
from agent.study.session import Session

#: the width of a plot written to a file, in the plots' user units (the page asks for its box's width)
FILE_WIDTH = 800
PNG_HOW = (
    "a PNG needs cairosvg (pip install 'tunesmith[png]') or rsvg-convert on the PATH (Debian: apt-get install "
    "librsvg2-bin); or write an SVG (-o FILE.svg, any browser opens it), or download a PNG from the page "
    "(tunesmith serve)"
)


def svg_to_png(svg: str, path: Path, width: int) -> None:
    """Write ``svg`` as a PNG ``width`` pixels wide (twice the plot's units: sharp on a high-density screen)."""
    try:
        cairosvg: Any = importlib.import_module("cairosvg")
    except ImportError:
        cairosvg = None
    if cairosvg is not None:
        cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=str(path), output_width=width)
        return
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        raise TunesmithError(PNG_HOW)
    done = subprocess.run([rsvg, "-w", str(width), "-o", str(path)], input=svg.encode(), capture_output=True)
    if done.returncode != 0:
        raise TunesmithError(f"rsvg-convert failed: {done.stderr.decode(errors='replace').strip()[:200]}")


@app.command()
def plot(
    dir: DirArg,
    kind: Annotated[
        str, typer.Argument(help="history|importance|parallel|slice|contour|edf|timeline|curves|population (pbt)|all")
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="FILE.svg or FILE.png (default: DIR/plots/KIND.svg)"),
    ] = None,
    log: Annotated[bool, typer.Option("--log", help="the objective on a log scale")] = False,
    x: Annotated[str | None, typer.Option("--x", help="contour: the parameter across")] = None,
    y: Annotated[str | None, typer.Option("--y", help="contour: the parameter up")] = None,
    trial: Annotated[int | None, typer.Option("--trial", help="curves: one trial's curves only")] = None,
    method: Annotated[str, typer.Option("--method", help="importance: fanova|ped-anova")] = "fanova",
) -> None:
    """One of the web page's plots of a study as an SVG (or PNG) file; 'all' writes every kind to DIR/plots/."""
    from agent.faces import insights, plots
    from agent.faces.chat.files import writable_inside
    from agent.faces.handle import StudyHandle

    if kind != "all" and kind not in plots.ALL_KINDS:
        raise fail(f"unknown plot {kind!r}; choose one of {', '.join(plots.ALL_KINDS)} or all")
    if output is not None and kind == "all":
        raise fail("-o names one file; leave it out with 'all' (each plot goes to DIR/plots/KIND.svg)")
    if output is not None and output.suffix.lower() not in (".svg", ".png"):
        raise fail(f"-o {output}: write .svg or .png")
    if method not in insights.METHODS:
        raise fail(f"unknown --method {method!r}; choose one of {', '.join(insights.METHODS)}")
    try:
        handle = StudyHandle(dir, source="cli")
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    try:
        options = plots.PlotOptions(log=log, x=x, y=y, trial=trial, method=method, width=FILE_WIDTH)
        for k in plots.kinds_for(handle.spec) if kind == "all" else [kind]:
            svg = plots.render(handle, k, options)
            target = output or writable_inside(handle.dir, "plots", f"{k}.svg")
            if target.suffix.lower() == ".png":
                svg_to_png(svg, target, 2 * FILE_WIDTH)
            else:
                target.write_text(svg, encoding="utf-8")
            out.print(f"wrote {escape(str(target))}")
    except TunesmithError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write the plot ({exc.strerror or exc}); pick another -o") from None
    finally:
        handle.close()


def paused_by(session: Session) -> str | None:
    """Who paused the study (``web``, ``terminal``, ``cli``) when its running engine is paused now, else None."""
    from agent.study.steering import is_running

    if not is_running(session.dir):
        return None
    runs = [e.id for k in (EventKind.STUDY_STARTED, EventKind.STUDY_RESUMED) for e in session.events(k)[-1:]]
    source: str | None = None
    for done in session.events(EventKind.COMMAND_DONE, after=max(runs, default=0)):
        reply = payload(done, CommandDone)
        if not reply.ok or reply.op not in ("pause", "resume"):
            continue
        source = None
        if reply.op == "pause":
            command = reply.command or 0
            asked = [e for e in session.events(EventKind.COMMAND, after=command - 1) if e.id == command]
            source = payload(asked[0], CommandPosted).source if asked else "another face"
    return source


def study_row(path: Path) -> dict[str, Any]:
    """One study of ``ls``: name, folder, status (paused included), trials, best, started."""
    session = Session.open(path, readonly=True)
    try:
        info = session.status()
        who = paused_by(session)
        first = session.events(EventKind.STUDY_STARTED)[:1]
        trials = session.trials()
        started = first[0].time if first else (trials[0].created_at if trials else None)
    finally:
        session.close()
    return {
        "name": info["name"],
        "dir": str(path),
        "status": info["status"],
        "paused_by": who,
        "done": info["done"],
        "budget": info["budget"],
        "metric": info["metric"],
        "direction": info["direction"],
        "best": info["best"],
        "started": started,
    }


def _near(path: Path) -> str:
    """``path`` relative to the working folder when it lies below it (shorter, still pasteable)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@app.command("ls")
def ls(
    root: Annotated[Path, typer.Argument(help="the folder holding study folders")] = Path("studies"),
    as_json: JsonOpt = False,
) -> None:
    """The studies under a folder (default ./studies): name, folder, status, trials, best, started."""
    from agent.faces.catalog import list_studies
    from agent.faces.live import face_name

    if not root.is_dir():
        raise fail(f"{root} is not a folder; name the one your studies are in (tune's --dir parent, default studies)")
    rows: list[dict[str, Any]] = []
    for path in list_studies(root):
        try:
            rows.append(study_row(path))
        except TunesmithError as exc:
            rows.append({"name": None, "dir": str(path), "status": "unreadable", "error": str(exc)})
    rows.sort(key=lambda r: r.get("started") or 0.0, reverse=True)
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    if not rows:
        out.print(f"no studies under {escape(str(root))}; start one with: tunesmith tune SPEC")
        return
    header = ("name", "folder", "status", "trials", "best", "started")
    lines = [header]
    for r in rows:  # plain aligned columns: nothing is cut, every folder stays pasteable
        best = r.get("best")
        status = f"paused by {face_name(r['paused_by'])}" if r.get("paused_by") else str(r["status"])
        lines.append(
            (
                str(r["name"] or "-"),
                _near(Path(r["dir"])),
                status if "error" not in r else f"unreadable: {r['error']}",
                f"{r['done']}/{r['budget'] or '∞'}" if "done" in r else "",
                f"#{best['trial']} {r['metric']}={fmt_value(best['value'])}" if best else "-",
                clock_time(r["started"])[:16] if r.get("started") else "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        text = "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        out.print(f"[bold]{escape(text)}[/]" if n == 0 else escape(text), highlight=False)
