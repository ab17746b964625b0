"""One engine, three faces: a study run by `tunesmith tune` in one process is seen and steered by the
CLI, the chat and the web app from others."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from agent.faces.catalog import SpecCatalog
from agent.faces.chat.conversation import Conversation
from agent.faces.handle import Handles
from agent.faces.web.app import create_app
from tests.conftest import ROOT, run_cli

SLOW_TRAIN = """
import json, os, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
for step in range(3):
    time.sleep(0.15)
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "score": -(p["x"] - 0.3) ** 2}), flush=True)
"""


def test_a_study_run_by_the_cli_is_watched_and_steered_from_every_face(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SLOW_TRAIN)
    spec = {
        "name": "faces",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "budget": {"max_trials": 200, "trial_timeout": 60},
        "strategy": "random",
        "seed": 0,
        "workers": 2,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    root = tmp_path / "studies"
    study = root / "faces"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    tune = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "tune", str(tmp_path / "spec.yaml"), "--dir", str(study), "--quiet"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        conv = Conversation(root=root, handles=Handles("terminal"), catalog=SpecCatalog([]))
        while "complete 1" not in conv.ask("/open faces"):  # the chat sees it run, trial by trial
            assert time.monotonic() < deadline, conv.ask("/status")
            time.sleep(0.2)
        assert "running" in conv.ask("/status")

        paused = run_cli("steer", str(study), "pause")  # the CLI, from a third process
        assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr

        with TestClient(create_app(root, "tok", catalog=SpecCatalog([])), base_url="http://127.0.0.1") as web:
            auth = {"X-Tunesmith-Token": "tok"}
            seen = web.get("/api/studies/faces", headers=auth).json()
            assert seen["running"] and seen["paused"] and seen["done"] >= 1
            events = web.get("/api/studies/faces/trials", headers=auth).json()
            assert events and events[0]["proposer"] == "strategy"
            budget = web.post("/api/chat", headers=auth, json={"text": "/budget trials=100", "study": "faces"})
            assert budget.text.startswith("proposed: budget max_trials=100")

        approved = conv.ask("/approve")  # the terminal chat approves what the web page proposed
        assert "approved: budget max_trials=100" in approved and "budget changed" in approved
        resumed = run_cli("steer", str(study), "resume")
        assert resumed.returncode == 0 and "resumed" in resumed.stdout
        assert "stopping" in conv.ask("/stop")
        out, err = tune.communicate(timeout=60)
        assert tune.returncode == 0, err
        assert "done (stopped)" in out
    finally:
        if tune.poll() is None:
            tune.kill()
    status = run_cli("status", str(study), "--json")
    assert '"status": "stopped"' in status.stdout and '"budget": 100' in status.stdout
    sources = [line for line in run_cli("steer", str(study), "stop").stderr.splitlines() if line]
    assert sources == ["error: the study is not running; /resume starts it again"]
    bad = run_cli("steer", str(study), "budget", "trials")
    assert bad.returncode == 2 and "expected trials=N" in bad.stderr
