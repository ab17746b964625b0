"""The web app: one page, a JSON API over the study folders under a root, and a live event stream.

``create_app(root, token)`` builds it; ``tunesmith serve`` runs it with uvicorn on 127.0.0.1. Contract:

* Every request must name this server (``Host``) and a state change must come from its own page
  (``Origin``): see origin.py. Every route but the page itself needs the token (see auth.py); the page is
  a static file with no data, which keeps the token in the tab (sessionStorage), not in the address bar.
  There are no docs or OpenAPI routes.
* Studies are named by their folder name under ``root`` and specs by their catalog name; no request
  carries a path, and the only files read are a study's own logs, found from the trial number.
* The page is ``static/index.html`` with its stylesheet and scripts (``GET /static/NAME``, a fixed list):
  files with no data, public like the page. Downloads (an export, a plot as SVG, a trial's full log) are
  ordinary token-checked GETs answered as attachments (downloads.py); the page fetches them with its
  token and saves them (PNG: drawn from the SVG in the browser).
* Live updates: ``GET /api/studies/{id}/events?after=N`` streams the study's event log as server-sent
  events (``id`` = event id, so a reconnecting browser resumes where it left off). Every client reads
  the same log, so two pages watching one study see the same events, whichever process runs it.
* A chat conversation belongs to one study and is shared by every page showing it: ``/start`` and
  ``/open`` in it answer with a link to the other study (``/#study=NAME``) and leave it on its own.
* Studies started here run in this process (in the background); stopping the server stops them the
  way Ctrl-C does, so they stay resumable.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from agent.errors import StudyError, TunesmithError
from agent.faces import insights, plots
from agent.faces.catalog import SpecCatalog, list_studies, resolve_study
from agent.faces.chat import files
from agent.faces.chat.conversation import NO_LLM, Assistant, Conversation
from agent.faces.handle import Handles, StudyHandle
from agent.faces.web import downloads, views
from agent.faces.web.auth import checker
from agent.faces.web.models import ChatBody, ControlBody, StartBody
from agent.faces.web.origin import Address

PlotKind = Literal["history", "importance", "parallel", "slice", "contour", "edf", "timeline", "curves", "population"]
ExportFormat = Literal["csv", "json", "parquet", "optuna"]
# 'unsafe-inline' scripts: the page's first script takes the token out of the address bar before anything loads
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
SSE_POLL_S = 0.25
SSE_PING_S = 15.0


def _page() -> str:
    return resources.files("agent.faces.web").joinpath("static/index.html").read_text(encoding="utf-8")


def _static_names() -> list[str]:
    """The page's stylesheet and scripts: every .js and .css file beside index.html."""
    folder = resources.files("agent.faces.web").joinpath("static")
    return sorted(f.name for f in folder.iterdir() if Path(f.name).suffix in STATIC_TYPES)


def _one_line_422(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for that exception only
        raise exc
    err = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
    return JSONResponse({"detail": f"{where}: {err.get('msg', 'invalid')}; see the API in README.md"}, 422)


def create_app(
    root: Path,
    token: str,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    catalog: SpecCatalog | None = None,
    assistant_factory: Any = None,
    sse_poll: float = SSE_POLL_S,
) -> FastAPI:
    """The app over the studies under ``root``, served at ``host:port`` (``port`` None: any port, for an
    app not bound yet). ``assistant_factory()`` makes an LLM assistant per chat (None: free text answers
    how to connect one)."""
    root = root.expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    catalog = catalog or SpecCatalog.default()
    address = Address(host, port)
    handles = Handles("web")
    static = _static_names()
    conversations: dict[str, Conversation] = {}
    conversations_lock = threading.Lock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(handles.close)  # studies run by the server stop resumably

    app = FastAPI(
        title="tunesmith",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        dependencies=[Depends(checker(token, public=("/", *(f"/static/{n}" for n in static))))],
    )
    app.add_exception_handler(RequestValidationError, _one_line_422)
    app.state.handles = handles

    # the last middleware added runs first: the security headers wrap every answer, refusals included
    @app.middleware("http")
    async def same_server(request: Request, call_next: Any) -> Response:
        problem = address.host_problem(request.headers.get("host"))
        if problem is not None:
            return JSONResponse({"detail": problem}, 400)
        problem = address.origin_problem(request.method, request.headers.get("origin"), request.headers.get("host"))
        if problem is not None:
            return JSONResponse({"detail": problem}, 403)
        response: Response = await call_next(request)
        return response

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def handle(sid: str) -> StudyHandle:
        try:
            return handles.get(resolve_study(root, sid))
        except StudyError as exc:
            raise HTTPException(404, str(exc)) from None

    def conversation(sid: str | None) -> Conversation:
        key = sid or ""
        study_handle = handle(sid) if sid else None
        with conversations_lock:
            conv = conversations.get(key)
            if conv is None:
                assistant: Assistant | None = assistant_factory() if assistant_factory else None
                conv = Conversation(
                    root=root, handles=handles, catalog=catalog, assistant=assistant, handle=study_handle, pinned=True
                )
                conversations[key] = conv
            return conv

    # ------------------------------------------------------------------ page
    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        return HTMLResponse(_page())

    @app.get("/static/{name}")
    def static_file(name: str) -> Response:
        if name not in static:
            raise HTTPException(404, f"no file {name!r}; the page needs only {', '.join(static)}")
        text = resources.files("agent.faces.web").joinpath("static", name).read_text(encoding="utf-8")
        return Response(text, media_type=STATIC_TYPES[Path(name).suffix])

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return {
            "root": str(root),
            "specs": catalog.names(),
            "spec_folders": {e.name: views.where(e.path.parent) for e in catalog.entries.values()},
            "llm": assistant_factory is not None,
            "llm_hint": None if assistant_factory is not None else NO_LLM,
            "strategies": ["auto", "random", "qmc", "tpe", "gp", "cmaes", "grid"],
            "plots": list(get_args(PlotKind)),
            "pbt_plots": list(plots.PBT_KINDS),  # shown only for a study whose summary lists them
            "importance_methods": list(insights.METHODS),
            "exports": list(get_args(ExportFormat)),
        }

    # --------------------------------------------------------------- studies
    @app.get("/api/studies")
    def studies() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in list_studies(root):
            try:
                s = handles.get(path).status()
            except TunesmithError as exc:
                out.append({"id": path.name, "error": str(exc)})
                continue
            row = {
                k: s.get(k)
                for k in ("id", "name", "status", "running", "paused", "here", "done", "budget", "best", "metric")
            }
            row["direction"] = s.get("direction")
            row["started"] = views.started(handles.get(path))
            out.append(row)
        return out

    @app.post("/api/studies")
    def start(body: StartBody) -> dict[str, Any]:
        conv = Conversation(root=root, handles=handles, catalog=catalog)
        overrides = body.model_dump(exclude={"spec"}, exclude_none=True)
        try:
            message = conv.start(body.spec, overrides)
        except TunesmithError as exc:
            raise HTTPException(400, str(exc)) from None
        assert conv.handle is not None
        return {"id": conv.handle.dir.name, "message": message}

    @app.get("/api/studies/{sid}")
    def study(sid: str) -> dict[str, Any]:
        return views.study_summary(handle(sid))

    @app.get("/api/studies/{sid}/trials")
    def trials(sid: str) -> list[dict[str, Any]]:
        return [views.trial_row(t) for t in handle(sid).trials()]

    @app.get("/api/studies/{sid}/trials/{number}")
    def trial(sid: str, number: int) -> dict[str, Any]:
        try:
            return views.trial_detail(handle(sid), number)
        except KeyError:
            raise HTTPException(404, f"no trial #{number} in {sid}") from None

    @app.get("/api/studies/{sid}/trials/{number}/log", response_class=PlainTextResponse)
    def log(
        sid: str,
        number: int,
        stream: Literal["stdout", "stderr"] = "stdout",
        lines: int = Query(200, ge=1, le=5000),
        full: bool = False,
    ) -> Response:
        """The last ``lines`` lines of a trial's log, or with ``full`` the whole log as a download."""
        h = handle(sid)
        try:
            h.trial(number)
        except KeyError:
            raise HTTPException(404, f"no trial #{number} in {sid}") from None
        if full:
            data = downloads.full_log(h, number, stream) or b""
            return downloads.attachment(data, f"{sid}-trial{number}-{stream}.log", "text/plain; charset=utf-8")
        return PlainTextResponse(files.log_tail(h.dir, number, stream, lines) or "")

    @app.get("/api/studies/{sid}/export/{fmt}")
    def export(sid: str, fmt: ExportFormat) -> Response:
        """The study's trials as a file to download (see agent/study/export.py for what each holds)."""
        try:
            return downloads.export_file(handle(sid), fmt)
        except TunesmithError as exc:
            raise HTTPException(400, str(exc)) from None

    @app.post("/api/studies/{sid}/control")
    def control(sid: str, body: ControlBody) -> dict[str, Any]:
        reply = handle(sid).send(body.action)
        return reply.model_dump()

    @app.get("/api/studies/{sid}/importance")
    def importance(sid: str, method: insights.Method = "fanova") -> dict[str, Any]:
        h = handle(sid)
        imp = insights.importance(h.trials(), h.space, h.spec.direction, method=method)
        return {**imp.model_dump(), "label": imp.label, "meaning": imp.meaning}

    @app.get("/api/studies/{sid}/plots/{kind}")
    def plot(
        sid: str,
        kind: PlotKind,
        trial: int | None = Query(None, ge=0),
        log: bool = False,
        x: str | None = Query(None, max_length=200),
        y: str | None = Query(None, max_length=200),
        method: insights.Method = "fanova",
        width: int = Query(640, ge=100, le=10_000),
        download: Literal["svg"] | None = None,
    ) -> Response:
        """One plot as SVG (``download=svg``: as a file); the options are plots.PlotOptions'."""
        h = handle(sid)
        options = plots.PlotOptions(log=log, x=x, y=y, method=method, trial=trial, width=width)
        try:
            svg = plots.render(h, kind, options)
        except plots.PlotError as exc:
            raise HTTPException(400, str(exc)) from None
        if download:
            return downloads.plot_file(h, kind, svg)
        return Response(svg, media_type="image/svg+xml")

    @app.get("/api/studies/{sid}/population")
    def population(sid: str) -> dict[str, Any]:
        """Population Based Training: the hyperparameter schedule behind the best result (views.py)."""
        h = handle(sid)
        if h.spec.scheduler is None:
            raise HTTPException(400, f"{sid} has no population: it is for studies with scheduler: pbt")
        return views.population_schedule(h)

    # ------------------------------------------------------------------ chat
    @app.post("/api/chat")
    def chat(body: ChatBody) -> StreamingResponse:
        if body.study:
            handle(body.study)  # 404 for an unknown study before streaming starts
        conv = conversation(body.study)

        def chunks() -> Iterator[str]:
            yield from conv.send(body.text)

        return StreamingResponse(chunks(), media_type="text/plain; charset=utf-8")

    # ---------------------------------------------------------------- events
    @app.get("/api/studies/{sid}/events")
    async def events(sid: str, request: Request, after: int = Query(0, ge=0)) -> StreamingResponse:
        h = await run_in_threadpool(handle, sid)
        last = int(request.headers.get("last-event-id") or after)

        async def stream() -> AsyncIterator[str]:
            nonlocal last
            idle = 0.0
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                batch = await run_in_threadpool(h.events, after=last)
                for ev in batch:
                    last = ev.id
                    data = json.dumps(
                        {"id": ev.id, "kind": ev.kind, "trial": ev.trial, "time": ev.time, "data": ev.data}, default=str
                    )
                    yield f"id: {ev.id}\ndata: {data}\n\n"
                idle = 0.0 if batch else idle + sse_poll
                if idle >= SSE_PING_S:
                    idle = 0.0
                    yield ": ping\n\n"
                await asyncio.sleep(sse_poll)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})

    return app
