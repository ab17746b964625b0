"""``tunesmith tune "request"`` end to end: the real CLI in a child process against the fake OpenAI server."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, Reply, text, tool

SCRIPT = """
import json, os
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
print("TUNESMITH_REPORT " + json.dumps({"score": -(p["x"] - 0.3) ** 2 - 0.01 * p["depth"]}))
"""
REQUEST = "tune x and depth of train.py to maximize score, 6 trials"
KEY = "sk-cli-test-0123456789abcdefghijkl"


class Model:
    """Drafts the spec when asked to, reflects, and proposes distinct configurations."""

    def __init__(self) -> None:
        self.n = itertools.count()

    def __call__(self, body: dict[str, Any], _: int) -> Reply:
        names = [t["function"]["name"] for t in body.get("tools", [])]
        if "submit_spec" in names:
            return tool(
                "submit_spec",
                {
                    "script": "train.py",
                    "metric": "score",
                    "direction": "maximize",
                    "max_trials": 6,
                    "params": [
                        {"name": "x", "type": "float", "low": 0.0, "high": 1.0, "default": 0.5},
                        {"name": "depth", "type": "int", "low": 1, "high": 4, "default": 2},
                    ],
                    "notes": "x linear, depth small integers",
                },
            )
        if not names:
            return text("x near 0.3 scores best; depth 1 beats deeper.")
        i = next(self.n)
        return tool(
            "run_trials",
            {"configs": [{"params": {"x": round(0.2 + 0.05 * i, 3), "depth": 1 + i % 2}, "rationale": "x near 0.3"}]},
        )


def env(server: FakeOpenAI | None, tmp_path: Path, **more: str) -> dict[str, str]:
    out = {
        "TUNESMITH_CONFIG": str(tmp_path / "no-config.toml"),
        "OPENAI_BASE_URL": "",
        "OPENAI_API_KEY": "",
        "TUNESMITH_MODEL": "",
        "OPENAI_MODEL": "",
    }
    if server is not None:
        out.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY)
    out.update(more)
    return out


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    return tmp_path


def test_request_to_study_then_status_resume_and_replay(workdir: Path) -> None:
    study = workdir / "study"
    with FakeOpenAI(Model(), model="fake-model") as server:
        res = run_cli(
            "tune",
            REQUEST,
            "--model",
            "fake-model",
            "--dir",
            str(study),
            "--yes",
            "--strategy",
            "random",
            cwd=workdir,
            env=env(server, workdir),
        )
        assert res.returncode == 0, res.stderr
        # resume reuses the drafted spec, and its model
        before = len(server.requests)
        res = run_cli("resume", str(study), "--trials", "8", env=env(server, workdir))
        assert res.returncode == 0, res.stderr
        assert len(server.requests) > before
        bodies = json.dumps(server.requests)
    assert "done (budget): 8 trials" in res.stdout
    assert KEY not in bodies
    saved = (study / "spec.yaml").read_text()
    assert "model: fake-model" in saved and KEY not in saved and "train.py" in saved

    status = json.loads(run_cli("status", str(study), "--json", env=env(None, workdir)).stdout)
    assert status["done"] == 8 and status["proposers"].get("llm", 0) >= 3 and status["fallbacks"] == 0
    assert status["usage"]["total_tokens"] > 0 and set(status["usage"]) >= {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
    }
    llm = [t for t in _trials(study) if t["proposer"] == "llm"]
    assert all(t["rationale"] == "x near 0.3" and t["model"] == "fake-model" for t in llm)
    text = run_cli("status", str(study), env=env(None, workdir)).stdout
    assert "cost unknown (no price for this model; add one under llm.prices)" in text  # not a claim that it was free

    # replay: no server, no key; the same trials, params and proposers
    again = workdir / "again"
    res = run_cli("tune", "--replay", str(study), "--dir", str(again), cwd=workdir, env=env(None, workdir))
    assert res.returncode == 0, res.stderr
    rows = [(t["params"], t["proposer"], t["value"]) for t in _trials(study)]
    assert rows == [(t["params"], t["proposer"], t["value"]) for t in _trials(again)]


def test_the_first_run_shows_the_draft_and_usage(workdir: Path) -> None:
    with FakeOpenAI(Model(), model="fake-model") as server:
        res = run_cli(
            "tune",
            REQUEST,
            "--model",
            "fake-model",
            "--dir",
            str(workdir / "s"),
            "--strategy",
            "random",
            "--trials",
            "3",
            cwd=workdir,
            env=env(server, workdir),
        )
    assert res.returncode == 0, res.stderr
    out = " ".join(res.stdout.split())
    assert "drafted spec" in out and "x linear" in out and "max_trials: 3" in out
    assert "done (budget): 3 trials" in out and "LLM: " in out and "fallbacks to the strategy: 0" in out


def _trials(study: Path) -> list[dict[str, Any]]:
    from agent.study.session import Session

    session = Session.open(study, readonly=True)
    try:
        return [
            {
                "params": t.params,
                "proposer": t.proposer.value,
                "value": t.value,
                "rationale": t.rationale,
                "model": t.model,
            }
            for t in session.trials()
        ]
    finally:
        session.close()


def test_without_a_model_the_request_says_how_to_connect_one(workdir: Path) -> None:
    res = run_cli("tune", REQUEST, cwd=workdir, env=env(None, workdir))
    assert res.returncode == 2
    assert "OPENAI_BASE_URL" in res.stderr and "--model" in res.stderr and "config.toml" in res.stderr
    assert "tunesmith tune examples/sklearn-digits/spec.yaml" in res.stderr
    assert not (workdir / "studies").exists()


def test_missing_essentials_fail_with_what_to_add(workdir: Path) -> None:
    class Vague(Model):
        def __call__(self, body: dict[str, Any], n: int) -> Reply:
            return tool(
                "submit_spec",
                {
                    "script": "train.py",
                    "metric": None,
                    "direction": None,
                    "max_trials": None,
                    "params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0}],
                },
            )

    with FakeOpenAI(Vague()) as server:
        res = run_cli("tune", "tune x of train.py", "--model", "fake-model", cwd=workdir, env=env(server, workdir))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "which metric to optimise" in res.stderr and "how many trials" in res.stderr
    assert not (workdir / "studies").exists()


def test_a_spec_file_still_runs_classically_without_a_model(workdir: Path) -> None:
    spec = workdir / "spec.yaml"
    spec.write_text(
        "objective: {metric: score, direction: maximize}\ncommand: [python, train.py]\n"
        "space: {x: {low: 0.0, high: 1.0}, depth: {low: 1, high: 4}}\nbudget: {max_trials: 2}\n"
        "strategy: random\n"
    )
    res = run_cli("tune", str(spec), "--dir", str(workdir / "s"), env=env(None, workdir))
    assert res.returncode == 0, res.stderr
    assert "LLM" not in res.stdout


def test_a_failing_endpoint_says_why_live_and_in_status(workdir: Path) -> None:
    """A local server that answers 500 to every decision: the study finishes with the strategy, and the
    person sees why, as it happens and in ``status``."""
    from tests.fake_openai import status as http

    spec = workdir / "spec.yaml"
    spec.write_text(
        "objective: {metric: score, direction: maximize}\ncommand: [python, train.py]\n"
        "space: {x: {low: 0.0, high: 1.0}, depth: {low: 1, high: 4}}\nbudget: {max_trials: 3}\n"
        "strategy: random\nllm: {model: fake-model, retries: 0}\n"
    )
    with FakeOpenAI(lambda body, n: http(500) if body.get("tools") else text("ok")) as server:
        res = run_cli("tune", str(spec), "--dir", str(workdir / "s"), env=env(server, workdir))
    assert res.returncode == 0, res.stderr
    assert "done (budget): 3 trials" in res.stdout
    assert "LLM fallback: the LLM endpoint" in res.stdout and "HTTP 500" in res.stdout
    info = run_cli("status", str(workdir / "s"), env=env(None, workdir)).stdout
    assert re.search(r"fallbacks [1-9]\d* \(last: the LLM endpoint .*HTTP 500", info), info


def test_resume_without_any_model_warns_and_stays_classical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.core.spec import load_spec
    from agent.faces.cli.llm_tune import resume_proposer
    from agent.study.session import Session

    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TUNESMITH_CONFIG", str(tmp_path / "none.toml"))
    spec = load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "function": "tests.agent.trial_funcs:quadratic",  # a function that exists: a study starts only then
            "space": {"x": {"low": 0.0, "high": 1.0}},
            "llm": {"model": "gpt-4o-mini"},
        }
    )
    session = Session.create(spec, tmp_path / "s")
    assert resume_proposer(session, yes=False) is None
    assert "none is configured now" in capsys.readouterr().err


@pytest.mark.slow
def test_the_readme_sentence_runs_the_torch_example(tmp_path: Path) -> None:
    """The issue's own example, end to end through the CLI (two real PyTorch trials)."""
    request = "tune lr, weight decay and batch size of examples/torch-mlp/train.py for val_acc, 30 trials"

    def model(body: dict[str, Any], n: int) -> Reply:
        names = [t["function"]["name"] for t in body.get("tools", [])]
        if "submit_spec" in names:
            return tool(
                "submit_spec",
                {
                    "script": "examples/torch-mlp/train.py",
                    "metric": "val_acc",
                    "direction": "maximize",
                    "max_trials": 30,
                    "params": [
                        {"name": "lr", "type": "float", "low": 1e-4, "high": 0.1, "log": True, "default": 0.001},
                        {
                            "name": "weight_decay",
                            "type": "float",
                            "low": 1e-6,
                            "high": 0.1,
                            "log": True,
                            "default": 1e-4,
                        },
                        {"name": "batch_size", "type": "categorical", "choices": [16, 32, 64, 128], "default": 64},
                    ],
                },
            )
        if not names:
            return text("AdamW defaults are a good start.")
        return tool(
            "run_trials",
            {
                "configs": [
                    {
                        "params": {"lr": 0.003, "weight_decay": 1e-4, "batch_size": 32},
                        "rationale": "AdamW likes lr around 3e-3 on small MLPs",
                    }
                ]
            },
        )

    study = tmp_path / "study"
    with FakeOpenAI(model) as server:
        res = run_cli(
            "tune",
            request,
            "--model",
            "fake-model",
            "--dir",
            str(study),
            "--trials",
            "2",
            "--yes",
            env=env(server, tmp_path),
            timeout=600,
        )
    assert res.returncode == 0, res.stderr
    trials = _trials(study)
    assert [t["proposer"] for t in trials] == ["default", "llm"] and all(t["value"] for t in trials)
    assert "max_trials: 2" in (study / "spec.yaml").read_text()
