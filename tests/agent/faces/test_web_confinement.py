"""The web server stays inside its folders and its address.

A served file is resolved against the study folder (a trial folder that links elsewhere is not followed);
a conversation belongs to one study (/start or /open typed in study A's chat answers with a link and
leaves A's chat on A); requests must name this server (Host) and state changes must come from its own page
(Origin); the page drops the token from the address bar.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent.faces.catalog import SpecCatalog
from agent.faces.chat.conversation import Conversation
from agent.faces.handle import Handles
from agent.faces.web.app import create_app
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec
from tests.agent.faces.test_api import write_spec

TOKEN = "t0ken-for-tests"
AUTH = {"X-Tunesmith-Token": TOKEN}
BASE = "http://127.0.0.1:8765"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "studies"
    session = Session.create(small_spec(budget={"max_trials": 4}), root / "a")
    session.close()
    Runner(session.dir).start().join()
    write_spec(tmp_path / "specs", trials=2)
    return {"root": root, "a": session.dir, "base": tmp_path, "specs": tmp_path / "specs"}


@pytest.fixture
def client(world: dict[str, Path]) -> Iterator[TestClient]:
    app = create_app(world["root"], TOKEN, catalog=SpecCatalog([world["specs"]]), host="127.0.0.1", port=8765)
    with TestClient(app, base_url=BASE) as c:
        yield c


def chat(client: TestClient, text: str, study: str | None) -> str:
    res = client.post("/api/chat", headers=AUTH, json={"text": text, "study": study})
    assert res.status_code == 200, res.text
    return res.text


# ------------------------------------------------------------ served files
def test_a_trial_folder_that_links_elsewhere_is_not_served(client: TestClient, world: dict[str, Path]) -> None:
    outside = world["base"] / "outside-trial"
    outside.mkdir()
    (outside / "stdout.log").write_text("OUTSIDE SECRET\n")
    (outside / "stderr.log").write_text("OUTSIDE SECRET\n")
    trial = world["a"] / "trials" / "0002"
    shutil.rmtree(trial, ignore_errors=True)
    trial.symlink_to(outside, target_is_directory=True)  # what a hostile trial could leave behind
    for stream in ("stdout", "stderr"):
        res = client.get(f"/api/studies/a/trials/2/log?stream={stream}", headers=AUTH)
        assert res.status_code == 200 and "OUTSIDE SECRET" not in res.text
    assert client.get("/api/studies/a/trials/2", headers=AUTH).json()["stdout_tail"] is None
    assert "OUTSIDE SECRET" not in chat(client, "/trial 2", "a")


def test_a_trials_folder_that_links_elsewhere_is_not_served(client: TestClient, world: dict[str, Path]) -> None:
    outside = world["base"] / "outside-trials"
    (outside / "0001").mkdir(parents=True)
    (outside / "0001" / "stdout.log").write_text("OUTSIDE SECRET\n")
    shutil.rmtree(world["a"] / "trials")
    (world["a"] / "trials").symlink_to(outside, target_is_directory=True)
    assert "OUTSIDE SECRET" not in client.get("/api/studies/a/trials/1/log", headers=AUTH).text


def test_plots_are_not_written_through_a_link(client: TestClient, world: dict[str, Path]) -> None:
    elsewhere = world["base"] / "elsewhere"
    elsewhere.mkdir()
    (world["a"] / "plots").symlink_to(elsewhere, target_is_directory=True)
    answer = chat(client, "/plot history", "a")  # the page's chat writes nothing: it answers with a link
    assert "download: /api/studies/a/plots/history?download=svg" in answer and not any(elsewhere.iterdir())
    terminal = Conversation(root=world["root"], handles=Handles("terminal"), catalog=SpecCatalog([]))
    terminal.open("a")  # the terminal's chat writes the files, never through a link
    assert "outside the study folder" in terminal.ask("/plot history") and not any(elsewhere.iterdir())
    terminal.close()


# ------------------------------------------------- one conversation, one study
def test_start_in_a_studys_chat_answers_with_a_link_and_keeps_the_chat_on_that_study(
    client: TestClient, world: dict[str, Path]
) -> None:
    answer = chat(client, "/start tiny trials=2", "a")
    assert answer.startswith("started tiny-"), answer
    new = answer.split()[1]
    assert f"open it: /#study={new}" in answer
    assert chat(client, "/status", "a").startswith("steer: finished")  # still study a, for every client
    assert chat(client, "/status", None).startswith("no study is open")  # the page without a study too
    opened = chat(client, f"/open {new}", "a")
    assert f"open it: /#study={new}" in opened
    assert chat(client, "/status", "a").startswith("steer: finished")
    reply = chat(client, "/stop", "a")
    assert reply.startswith("the study is not running")  # /stop in a's chat goes to a, not to the new study
    new_dir = world["root"] / new
    deadline = time.monotonic() + 60
    while Session.open(new_dir, readonly=True).status()["status"] != "finished":
        assert time.monotonic() < deadline, "the started study was stopped or never finished"
        time.sleep(0.1)


# ------------------------------------------------------------ Host, Origin
@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "127.0.0.1:9999", "localhost.evil.example:8765"])
def test_a_request_for_another_host_is_refused(client: TestClient, host: str) -> None:
    res = client.get("/api/info", headers={**AUTH, "Host": host})
    assert res.status_code == 400
    detail = res.json()["detail"]
    assert "not this server's address" in detail and "127.0.0.1:8765" in detail and "\n" not in detail


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"])
def test_loopback_names_of_the_bound_address_are_accepted(client: TestClient, host: str) -> None:
    assert client.get("/api/info", headers={**AUTH, "Host": host}).status_code == 200


def test_a_state_change_from_another_origin_is_refused(client: TestClient) -> None:
    for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
        res = client.post("/api/studies/a/control", headers={**AUTH, "Origin": origin}, json={"action": "resume"})
        assert res.status_code == 403, origin
        assert "another site" in res.json()["detail"] and "\n" not in res.json()["detail"]
    same = client.post("/api/chat", headers={**AUTH, "Origin": BASE}, json={"text": "/best", "study": "a"})
    assert same.status_code == 200 and same.text.startswith("best: trial #")
    assert client.get("/api/info", headers={**AUTH, "Origin": "http://evil.example"}).status_code == 200  # reads


def test_a_server_on_all_interfaces_accepts_addresses_but_not_names(world: dict[str, Path]) -> None:
    app = create_app(world["root"], TOKEN, catalog=SpecCatalog([]), host="0.0.0.0", port=8765)
    with TestClient(app, base_url="http://192.168.1.20:8765") as c:
        assert c.get("/api/info", headers=AUTH).status_code == 200
        assert c.get("/api/info", headers={**AUTH, "Host": "rebound.evil.example:8765"}).status_code == 400


# ------------------------------------------------------------------- page
def test_the_page_drops_the_token_from_the_address_bar(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200  # a static file with no data: every API request needs the token
    assert "history.replaceState" in page.text and "sessionStorage" in page.text
    assert client.get("/api/studies").status_code == 401
