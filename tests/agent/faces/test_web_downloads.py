"""What the page downloads and lists: exports, plots (with options), a trial's full log, the page's own
scripts; /plot and /export typed in the page's chat answer with links; same-named studies told apart."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from agent.faces.catalog import SpecCatalog
from agent.faces.web.app import create_app
from agent.study.folder import trial_dir
from agent.study.session import Session
from tests.agent.faces.conftest import Runner, small_spec

TOKEN = "t0ken-for-tests"
AUTH = {"X-Tunesmith-Token": TOKEN}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dl") / "studies"
    dirs = {}
    for name in ("same-1", "same-2"):  # two studies of the same spec name
        session = Session.create(small_spec(budget={"max_trials": 5}), root / name)
        session.close()
        Runner(session.dir).start().join()
        dirs[name] = session.dir
    trial_dir(dirs["same-1"], 1).mkdir(parents=True, exist_ok=True)  # the fake executor writes no logs
    (trial_dir(dirs["same-1"], 1) / "stdout.log").write_text("".join(f"line {i}\n" for i in range(3000)))
    return {"root": root, **dirs}


@pytest.fixture(scope="module")
def client(world: dict[str, Path]) -> Iterator[TestClient]:
    app = create_app(world["root"], TOKEN, catalog=SpecCatalog([]))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


def get(client: TestClient, path: str) -> bytes:
    res = client.get(path, headers=AUTH)
    assert res.status_code == 200, res.text
    return res.content


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "optuna"])
def test_exports_download_as_files_and_leave_the_study_folder_alone(
    client: TestClient, world: dict[str, Path], fmt: str
) -> None:
    res = client.get(f"/api/studies/same-1/export/{fmt}", headers=AUTH)
    assert res.status_code == 200
    name = "same-1." + ("optuna.db" if fmt == "optuna" else fmt)
    assert res.headers["content-disposition"] == f'attachment; filename="{name}"'
    if fmt == "csv":
        df = pd.read_csv(io.BytesIO(res.content))
        assert len(df) == 5 and {"started_at", "finished_at", "param_x"} <= set(df.columns)
    elif fmt == "json":
        assert len(json.loads(res.content)) == 5
    elif fmt == "parquet":
        assert len(pd.read_parquet(io.BytesIO(res.content))) == 5
    else:
        assert res.content.startswith(b"SQLite format 3")
    assert not list(world["same-1"].glob("export.*"))
    assert client.get(f"/api/studies/same-1/export/{fmt}").status_code == 401  # the token, as everywhere
    assert client.get("/api/studies/same-1/export/xls", headers=AUTH).status_code == 422


def test_plots_take_options_and_download_as_svg(client: TestClient) -> None:
    res = client.get("/api/studies/same-1/plots/contour?x=k&y=x&download=svg", headers=AUTH)
    assert res.headers["content-disposition"] == 'attachment; filename="same-1-contour.svg"'
    assert "over k and x" in (ET.fromstring(res.text).get("aria-label") or "")
    bad = client.get("/api/studies/same-1/plots/contour?x=nope", headers=AUTH)
    assert bad.status_code == 400 and "choose from x, k" in bad.json()["detail"]
    ped = get(client, "/api/studies/same-1/plots/importance?method=ped-anova").decode()
    assert "PED-ANOVA" in ped
    logged = get(client, "/api/studies/same-1/plots/history?log=true").decode()
    assert "log scale needs positive values" in logged  # this objective is negative: said, not drawn wrong
    imp = client.get("/api/studies/same-1/importance?method=ped-anova", headers=AUTH).json()
    assert imp["label"] == "PED-ANOVA" and "optuna-dashboard" in imp["meaning"]


def test_the_full_log_of_a_trial_downloads(client: TestClient) -> None:
    res = client.get("/api/studies/same-1/trials/1/log?full=true", headers=AUTH)
    assert res.headers["content-disposition"] == 'attachment; filename="same-1-trial1-stdout.log"'
    assert res.text.count("\n") == 3000 and res.text.startswith("line 0\n")
    tail = client.get("/api/studies/same-1/trials/1/log?lines=5", headers=AUTH).text
    assert tail.splitlines() == [f"line {i}" for i in range(2995, 3000)]


def test_the_pages_chat_answers_plot_and_export_with_links(client: TestClient, world: dict[str, Path]) -> None:
    for text, link in (
        ("/export parquet", "download: /api/studies/same-1/export/parquet"),
        ("/plot timeline edf", "/api/studies/same-1/plots/timeline?download=svg /api/studies/same-1/plots/edf"),
    ):
        answer = client.post("/api/chat", headers=AUTH, json={"text": text, "study": "same-1"}).text
        assert link in answer and str(world["same-1"]) not in answer
    assert not (world["same-1"] / "plots").exists() and not list(world["same-1"].glob("export.*"))


def test_same_named_studies_are_told_apart_and_spent_studies_do_not_offer_resume(client: TestClient) -> None:
    listed = client.get("/api/studies", headers=AUTH).json()
    assert {s["name"] for s in listed} == {"steer"} and {s["id"] for s in listed} == {"same-1", "same-2"}
    assert all(isinstance(s["started"], float) for s in listed)
    summary = client.get("/api/studies/same-1", headers=AUTH).json()
    assert summary["budget_spent"] is True and summary["can_resume"] is False and summary["params"] == ["x", "k"]
    trials = client.get("/api/studies/same-1/trials", headers=AUTH).json()
    assert all(t["started_at"] <= t["finished_at"] for t in trials)


def test_the_pages_scripts_are_public_files_without_data(client: TestClient) -> None:
    page = client.get("/").text
    scripts = [p for p in page.split('"') if p.startswith("/static/")]
    assert scripts and all(client.get(p).status_code == 200 for p in scripts)  # no token needed: no data
    js = client.get("/static/main.js")
    assert js.headers["content-type"].startswith("text/javascript") and "import" in js.text
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secret.js").status_code == 401  # only the page's own files are public
    assert client.get("/static/secret.js", headers=AUTH).status_code == 404
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in csp and "default-src 'none'" in csp
