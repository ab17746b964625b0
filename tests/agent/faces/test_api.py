"""Every endpoint of the web app: token, validation, path traversal, steering, plots, chat, live events."""

from __future__ import annotations

import json
import os
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi.testclient import TestClient

from agent.faces.catalog import SpecCatalog
from agent.faces.web.app import create_app
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec

TOKEN = "t0ken-for-tests"
AUTH = {"X-Tunesmith-Token": TOKEN}
TRAIN = """
import json, os, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
for step in range(2):
    time.sleep(0.05)
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "score": -(p["x"] - 0.25) ** 2 - 0.1 * (1 - step)}))
"""


def write_spec(folder: Path, name: str = "tiny", trials: int = 3) -> Path:
    (folder / name).mkdir(parents=True)
    (folder / name / "train.py").write_text(TRAIN)
    spec = {
        "name": name,
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "default": {"x": 0.5},
        "budget": {"max_trials": trials, "trial_timeout": 60},
        "strategy": "random",
        "seed": 0,
        "workers": 2,
    }
    (folder / name / "spec.yaml").write_text(yaml.safe_dump(spec))
    return folder / name / "spec.yaml"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("web")
    root = base / "studies"
    session = Session.create(small_spec(budget={"max_trials": 5}), root / "done")
    session.close()
    Runner(session.dir).start().join()
    outside = Session.create(small_spec(), base / "outside")  # a study that is NOT under root
    outside.close()
    (root / "notastudy").mkdir()
    (root / "link").symlink_to(base / "outside")
    write_spec(base / "specs")
    return {"root": root, "done": session.dir, "base": base, "specs": base / "specs"}


@pytest.fixture(scope="module")
def client(world: dict[str, Path]) -> Iterator[TestClient]:
    app = create_app(world["root"], TOKEN, catalog=SpecCatalog([world["specs"]]), sse_poll=0.05)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


# ------------------------------------------------------------------- token
@pytest.mark.parametrize(
    "path",
    [
        "/api/info",
        "/api/studies",
        "/api/studies/done",
        "/api/studies/done/trials",
        "/api/studies/done/trials/0",
        "/api/studies/done/trials/0/log",
        "/api/studies/done/importance",
        "/api/studies/done/plots/history",
        "/api/studies/done/events",
    ],
)
def test_every_get_needs_the_token(client: TestClient, path: str) -> None:
    missing = client.get(path)
    assert missing.status_code == 401 and "missing token" in missing.json()["detail"]
    wrong = client.get(path, headers={"X-Tunesmith-Token": "guess"})
    assert wrong.status_code == 403 and "tunesmith serve" in wrong.json()["detail"]
    assert client.get(path + "?token=nope").status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/studies", {"spec": "tiny"}),
        ("POST", "/api/studies/done/control", {"action": "stop"}),
        ("POST", "/api/chat", {"text": "/best", "study": "done"}),
    ],
)
def test_every_post_needs_the_token(client: TestClient, method: str, path: str, body: dict[str, Any]) -> None:
    assert client.request(method, path, json=body).status_code == 401
    assert client.request(method, path, json=body, headers={"Authorization": "Bearer nope"}).status_code == 403


def test_the_token_is_accepted_three_ways_and_the_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/")  # the page is a static file with no data; it reads the token from its link
    assert page.status_code == 200 and "<script>" in page.text
    assert client.get("/api/studies", params={"token": "nope"}).status_code == 403  # the data needs the token
    assert "http://" not in page.text and "https://" not in page.text  # nothing loaded from anywhere
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert client.get("/api/info", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/api/info", headers=AUTH).json()["specs"] == ["tiny"]
    assert client.get("/docs", headers=AUTH).status_code == 404 and client.get("/openapi.json").status_code == 404


# ---------------------------------------------------------------- reading
def test_studies_trials_and_one_trial(client: TestClient, world: dict[str, Path]) -> None:
    listed = client.get("/api/studies", headers=AUTH).json()
    assert [s["id"] for s in listed] == ["done"]  # not the plain folder, not the symlink to outside
    assert listed[0]["done"] == 5 and listed[0]["status"] == "finished" and listed[0]["best"]["trial"] >= 0
    summary = client.get("/api/studies/done", headers=AUTH).json()
    assert summary["running"] is False and summary["space"][0]["name"] == "x" and summary["pending"] is None
    trials = client.get("/api/studies/done/trials", headers=AUTH).json()
    assert len(trials) == 5 and trials[0]["proposer"] == "default" and trials[0]["value"] is not None
    one = client.get("/api/studies/done/trials/0", headers=AUTH).json()
    assert one["number"] == 0 and len(one["curve"]) == 3 and one["curve"][-1][0] == 2.0
    assert client.get("/api/studies/done/trials/77", headers=AUTH).status_code == 404
    assert client.get("/api/studies/done/trials/-1", headers=AUTH).status_code == 404
    log = client.get("/api/studies/done/trials/0/log?stream=stderr&lines=5", headers=AUTH)
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")


def test_plots_are_svg_and_importance_is_json(client: TestClient) -> None:
    for kind in ("history", "importance", "parallel", "slice", "contour", "edf", "timeline", "curves"):
        res = client.get(f"/api/studies/done/plots/{kind}", headers=AUTH)
        assert res.status_code == 200 and res.headers["content-type"] == "image/svg+xml"
        ET.fromstring(res.text)
    one = client.get("/api/studies/done/plots/curves?trial=0", headers=AUTH).text
    assert "trial #0" in one
    imp = client.get("/api/studies/done/importance", headers=AUTH).json()
    assert {"scores", "trials", "note", "method", "label"} <= set(imp) and imp["trials"] == 5
    assert imp["method"] == "fanova" and imp["seed"] == 0  # the page says which method and how many trials
    assert client.get("/api/studies/done/plots/pie", headers=AUTH).status_code == 422


# ----------------------------------------------------------- path traversal
@pytest.mark.parametrize(
    "path",
    [
        "/api/studies/..%2Foutside",
        "/api/studies/%2e%2e",
        "/api/studies/..",
        "/api/studies/link",
        "/api/studies/notastudy",
        "/api/studies/done%2F..%2F..%2Foutside",
        "/api/studies/.hidden",
        "/api/studies/..%2F..%2F..%2Fetc%2Fpasswd/trials",
        "/api/studies/%2Fetc/trials/0/log",
        "/api/studies/done/trials/0/log?stream=..%2F..%2Fstudy.db",
        "/api/studies/done/trials/0/log?stream=params",
        "/api/studies/done/trials/..%2F..%2F..%2Fstudy.db/log",
        "/api/studies/done/trials/0/log?lines=-1",
        "/api/studies/done%00/trials",
    ],
)
def test_nothing_outside_a_study_folder_is_served(client: TestClient, path: str) -> None:
    res = client.get(path, headers=AUTH)
    assert res.status_code in (404, 422), (path, res.status_code, res.text[:200])
    assert "SQLite" not in res.text and "root:" not in res.text


def test_a_trial_cannot_make_the_app_serve_another_file(client: TestClient, world: dict[str, Path]) -> None:
    secret = world["base"] / "secret.txt"
    secret.write_text("TOP SECRET")
    log = world["done"] / "trials" / "0001" / "stdout.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    log.symlink_to(secret)  # what a hostile training script could do inside its own folder
    res = client.get("/api/studies/done/trials/1/log", headers=AUTH)
    assert res.status_code == 200 and res.text == ""
    assert client.get("/api/studies/done/trials/1", headers=AUTH).json()["stdout_tail"] is None
    assert "TOP SECRET" not in client.post("/api/chat", headers=AUTH, json={"text": "/trial 1", "study": "done"}).text


def test_a_study_reached_through_a_symlink_is_refused(client: TestClient, world: dict[str, Path]) -> None:
    assert (world["root"] / "link" / "study.db").is_file()  # the link works on disk ...
    res = client.get("/api/studies/link/trials", headers=AUTH)
    assert res.status_code == 404 and "no study named 'link'" in res.json()["detail"]  # ... but is not served


# ----------------------------------------------------------- bad bodies
@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        ("/api/studies", "not json", "JSON"),
        ("/api/studies", {}, "spec: Field required"),
        ("/api/studies", {"spec": "tiny", "trials": 0}, "trials: Input should be greater than or equal to 1"),
        ("/api/studies", {"spec": "../tiny"}, "spec: String should match pattern"),
        ("/api/studies", {"spec": "tiny", "strategy": "hyperband"}, "strategy: Input should be"),
        ("/api/studies", {"spec": "tiny", "command": ["rm", "-rf", "/"]}, "command: Extra inputs are not permitted"),
        ("/api/studies/done/control", {"action": "explode"}, "action: Input should be 'stop', 'pause' or 'resume'"),
        ("/api/chat", {"text": ""}, "text: String should have at least 1 character"),
        ("/api/chat", {"text": "x" * 5000}, "text: String should have at most 4000 characters"),
        ("/api/chat", {"text": "/best", "study": "../outside"}, "study: String should match pattern"),
    ],
)
def test_malformed_bodies_get_422_with_one_line(client: TestClient, path: str, body: Any, expected: str) -> None:
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, str) else {"json": body}
    res = client.post(path, headers={**AUTH, "Content-Type": "application/json"}, **kwargs)
    assert res.status_code == 422
    detail = res.json()["detail"]
    assert expected in detail and "\n" not in detail


def test_unknown_specs_and_studies_say_what_exists(client: TestClient) -> None:
    res = client.post("/api/studies", headers=AUTH, json={"spec": "nope"})
    assert res.status_code == 400 and res.json()["detail"] == "no spec named 'nope'; choose one of: tiny"
    res = client.post("/api/chat", headers=AUTH, json={"text": "/best", "study": "ghost"})
    assert res.status_code == 404 and "no study named 'ghost'" in res.json()["detail"]


# ------------------------------------------------------------ chat, control
def test_chat_answers_slash_commands_and_explains_free_text(client: TestClient) -> None:
    best = client.post("/api/chat", headers=AUTH, json={"text": "/best", "study": "done"})
    assert best.status_code == 200 and best.text.startswith("best: trial #")
    free = client.post("/api/chat", headers=AUTH, json={"text": "which parameter matters most?", "study": "done"})
    assert "OPENAI_BASE_URL" in free.text
    assert "/status" in client.post("/api/chat", headers=AUTH, json={"text": "/help"}).text


def test_control_of_a_study_that_is_not_running(client: TestClient) -> None:
    reply = client.post("/api/studies/done/control", headers=AUTH, json={"action": "stop"}).json()
    assert reply["ok"] is False and reply["message"].startswith("the study is not running")
    reply = client.post("/api/studies/done/control", headers=AUTH, json={"action": "resume"}).json()
    assert reply["ok"] is False and "budget is spent (5/5" in reply["message"]


def test_a_study_run_elsewhere_is_steered_from_the_page(client: TestClient, world: dict[str, Path]) -> None:
    session = Session.create(small_spec(), world["root"] / "elsewhere")
    session.close()
    runner = Runner(session.dir).start()  # stands in for 'tunesmith tune' in another terminal
    try:
        assert client.get("/api/studies/elsewhere", headers=AUTH).json()["running"] is True
        reply = client.post("/api/studies/elsewhere/control", headers=AUTH, json={"action": "pause"}).json()
        assert reply["ok"] and client.get("/api/studies/elsewhere", headers=AUTH).json()["paused"] is True
        reply = client.post("/api/studies/elsewhere/control", headers=AUTH, json={"action": "stop"}).json()
        assert reply["ok"] and "re-run" in reply["message"]
        assert runner.join().reason == "stopped"
        sources = [e.data["source"] for e in Session.open(session.dir, readonly=True).events("command")]
        assert sources == ["web", "web"]
    finally:
        runner.session.control.stop()


# ------------------------------------------------------ start + live events
class LiveServer:
    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def read_events(url: str, until: str, seen: list[dict[str, Any]], timeout: float = 90) -> None:
    with httpx.Client(trust_env=False, timeout=timeout) as http, http.stream("GET", url) as res:
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/event-stream")
        for line in res.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["kind"] == until:
                    return


def test_start_from_the_page_and_two_clients_see_the_same_live_events(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    write_spec(specs, trials=3)
    app = create_app(tmp_path / "studies", TOKEN, catalog=SpecCatalog([specs]), sse_poll=0.05)
    with LiveServer(app) as base, httpx.Client(base_url=base, headers=AUTH, trust_env=False, timeout=30) as http:
        res = http.post("/api/studies", json={"spec": "tiny", "strategy": "qmc", "trials": 3})
        assert res.status_code == 200, res.text
        sid = res.json()["id"]
        assert "strategy qmc, 3 trials" in res.json()["message"]
        url = f"{base}/api/studies/{sid}/events?token={TOKEN}"
        a: list[dict[str, Any]] = []
        b: list[dict[str, Any]] = []
        readers = [threading.Thread(target=read_events, args=(url, "study_finished", seen)) for seen in (a, b)]
        for r in readers:
            r.start()
        for r in readers:
            r.join(120)
        assert a == b and a[-1]["kind"] == "study_finished" and a[-1]["data"]["reason"] == "budget"
        assert sum(1 for e in a if e["kind"] == "trial_finished") == 3
        ids = [e["id"] for e in a]
        assert ids == sorted(ids)
        # a reconnecting browser sends Last-Event-ID and gets only what it missed
        later: list[dict[str, Any]] = []
        with http.stream("GET", f"/api/studies/{sid}/events", headers={"Last-Event-ID": str(ids[-2])}) as res:
            for line in res.iter_lines():
                if line.startswith("data: "):
                    later.append(json.loads(line[6:]))
                    break
        assert later[0]["id"] == ids[-1]
        listed = http.get("/api/studies").json()
        assert listed[0]["id"] == sid and listed[0]["done"] == 3 and listed[0]["status"] == "finished"
        assert os.path.isdir(tmp_path / "studies" / sid / "trials" / "0002")


def test_free_text_in_the_web_chat_goes_through_the_llm(world: dict[str, Path], monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agent.faces.chat.assistant import connect
    from tests.fake_openai import FakeOpenAI, text, tool

    script = [
        tool("edit_space", {"action": "narrow", "param": "x", "high": 0.4, "rationale": "best x are small"}),
        text("I proposed narrowing x; approve it if you agree."),
    ]
    with FakeOpenAI(script) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "dummy")
        monkeypatch.setenv("TUNESMITH_MODEL", "fake-model")
        monkeypatch.setenv("TUNESMITH_CONFIG", str(tmp_path / "none.toml"))
        app = create_app(world["root"], TOKEN, catalog=SpecCatalog([world["specs"]]), assistant_factory=connect)
        with TestClient(app, base_url="http://127.0.0.1") as c:
            assert c.get("/api/info", headers=AUTH).json()["llm"] is True
            res = c.post("/api/chat", headers=AUTH, json={"text": "keep x below 0.4", "study": "done"})
            assert "proposed: search space narrow x high=0.4" in res.text
            assert res.text.endswith("I proposed narrowing x; approve it if you agree.")
            pending = c.get("/api/studies/done", headers=AUTH).json()["pending"]
            assert pending["kind"] == "space_edit" and "narrow x" in pending["summary"]
            names = {t["function"]["name"] for t in server.requests[0]["tools"]}
            assert "draft_study" not in names  # the web app never starts scripts named in a message
            assert "dropped" in c.post("/api/chat", headers=AUTH, json={"text": "/reject", "study": "done"}).text


def test_the_summary_says_when_the_best_was_found(client: TestClient) -> None:
    summary = client.get("/api/studies/done", headers={"X-Tunesmith-Token": TOKEN}).json()
    assert summary["time_to_result"]["best"]["trial"] == summary["best"]["trial"]
    assert summary["ttr_line"].startswith(f"best found at trial #{summary['best']['trial']}")
    assert summary["setup_broken"] is None
