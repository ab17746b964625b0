"""What a trial sees: its environment, its arguments, the function runner and the report helper."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.base import TrialOutcome, TrialRequest
from sandbox.envscrub import scrub
from sandbox.launch import THREAD_VARS, arg_value
from sandbox.local_executor import LocalExecutor
from sandbox.output import parse_report
from sandbox.report import report
from tests.sandbox.helpers import assert_tree_gone, run_until_done, script_request, wait_running

DUMP_ENV = (
    "import json, os, sys; json.dump(dict(os.environ), open('env.json', 'w')); "
    "json.dump(sys.argv[1:], open('argv.json', 'w'))"
)


@pytest.fixture
def ex() -> Iterator[LocalExecutor]:
    executor = LocalExecutor(capacity=1)
    yield executor
    executor.close()


def run_one(ex: LocalExecutor, request: TrialRequest) -> TrialOutcome:
    ex.submit(request)
    (outcome,), _ = run_until_done(ex)
    assert_tree_gone(outcome)
    return outcome


def test_scrub_drops_secrets_unless_passed() -> None:
    env = {
        "OPENAI_API_KEY": "k",
        "MY_TOKEN": "t",
        "DB_PASSWORD": "p",
        "aws_secret_access_key": "s",
        "GOOGLE_APPLICATION_CREDENTIALS": "c",
        "ANTHROPIC_BASE_URL": "u",
        "OPENAI_ORG": "o",
        "TUNESMITH_REPORT_FILE": "/outer",
        "SSH_PASSWD": "x",
        "PATH": "/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
    }
    assert scrub(env, ()) == {"PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    assert scrub(env, ("MY_TOKEN",)) == {"PATH": "/bin", "HOME": "/root", "LANG": "C.UTF-8", "MY_TOKEN": "t"}


def test_trial_environment(ex: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "MY_TOKEN", "DB_PASSWORD", "HF_TOKEN", "ANTHROPIC_API_KEY"):
        monkeypatch.setenv(name, "secret-value")
    monkeypatch.setenv("TUNESMITH_PARAMS", "/from/an/outer/trial")
    monkeypatch.setenv("HARMLESS", "yes")
    request = TrialRequest(
        "e1",
        {"lr": 0.1},
        str(tmp_path / "e1"),
        str(tmp_path),
        command=[sys.executable, "-c", DUMP_ENV],
        pass_env=("HF_TOKEN",),
        env={"EXPLICIT": "1", "OMP_NUM_THREADS": "7"},
        threads=2,
        gpus=(),
        seed=42,
    )
    assert run_one(ex, request).returncode == 0
    env = json.loads((tmp_path / "env.json").read_text())
    for name in ("OPENAI_API_KEY", "MY_TOKEN", "DB_PASSWORD", "ANTHROPIC_API_KEY"):
        assert name not in env
    assert env["HF_TOKEN"] == "secret-value" and env["HARMLESS"] == "yes" and env["EXPLICIT"] == "1"
    trial_dir = str(tmp_path / "e1")
    assert env["TUNESMITH_TRIAL_DIR"] == trial_dir and env["TUNESMITH_TRIAL_ID"] == "e1"
    assert env["TUNESMITH_PARAMS"] == f"{trial_dir}/params.json"
    assert json.loads(Path(env["TUNESMITH_PARAMS"]).read_text()) == {"lr": 0.1}
    assert env["TUNESMITH_REPORT_FILE"] == f"{trial_dir}/reports.jsonl"
    assert env["TUNESMITH_STOP_FILE"] == f"{trial_dir}/STOP"
    assert env["TUNESMITH_SEED"] == "42" and env["PYTHONUNBUFFERED"] == "1"
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env["OMP_NUM_THREADS"] == "7"  # request.env wins over the thread caps
    assert all(env[name] == "2" for name in THREAD_VARS if name != "OMP_NUM_THREADS")
    assert json.loads(Path(env["WANDB_SWEEP_PARAM_PATH"]).read_text()) == {"lr": {"value": 0.1}}


def test_a_script_reading_wandb_config_gets_the_trials_params(ex: LocalExecutor, tmp_path: Path) -> None:
    """W&B's own ``wandb.init`` (offline, no server, no key) sets ``wandb.config`` from the trial's params over
    the script's defaults, keeping the defaults of names the space does not tune."""
    pytest.importorskip("wandb")
    body = """
        import json, wandb
        run = wandb.init(project="p", config={"lr": 0.5, "depth": 1, "fixed": "kept"})
        json.dump(dict(wandb.config), open("config.json", "w"))
        run.finish()
    """
    env = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DIR": str(tmp_path)}
    request = script_request(tmp_path, body, "w1", params={"lr": 0.01, "depth": 4}, env=env)
    assert run_one(ex, request).returncode == 0
    assert json.loads((tmp_path / "config.json").read_text()) == {"lr": 0.01, "depth": 4, "fixed": "kept"}


def test_gpus_and_no_threads(ex: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    request = TrialRequest(
        "g", {}, str(tmp_path / "g"), str(tmp_path), command=[sys.executable, "-c", DUMP_ENV], gpus=(0, 3)
    )
    run_one(ex, request)
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["CUDA_VISIBLE_DEVICES"] == "0,3"
    assert "MKL_NUM_THREADS" not in env and "TUNESMITH_SEED" not in env


def test_pass_args(ex: LocalExecutor, tmp_path: Path) -> None:
    params = {"lr": 0.001, "layers": 3, "flag": True, "off": False, "act": "relu", "sizes": [1, 2]}
    request = TrialRequest(
        "a",
        params,
        str(tmp_path / "a"),
        str(tmp_path),
        command=[sys.executable, "-c", DUMP_ENV, "--fixed"],
        pass_args=True,
    )
    run_one(ex, request)
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "--fixed",
        "--lr",
        "0.001",
        "--layers",
        "3",
        "--flag",
        "true",
        "--off",
        "false",
        "--act",
        "relu",
        "--sizes",
        "[1, 2]",
    ]
    assert arg_value(None) == "null" and arg_value(1e-5) == "1e-05"


OBJECTIVE_FILE = """
    from helper import scale

    def objective(params):
        return scale(params["x"])

    def as_dict(params):
        return {"score": params["x"], "other": 1, "step": 7}

    def reports_itself(params):
        from sandbox.report import report
        report(step=0, score=5.0)

    def bad_return(params):
        return "0.5"

    if __name__ == "__main__":
        raise SystemExit("the __main__ block must not run inside a trial")
"""


@pytest.mark.parametrize(
    "fn, expected",
    [
        ("objective", [({"score": 6.0}, None, True)]),
        ("as_dict", [({"score": 3.0, "other": 1.0}, 7, True)]),
        ("reports_itself", [({"score": 5.0}, 0, False)]),
    ],
)
def test_function_runner_with_a_script_file(
    ex: LocalExecutor,
    tmp_path: Path,
    fn: str,
    expected: list[tuple[dict[str, float], int | None, bool]],
) -> None:
    (tmp_path / "objective.py").write_text(textwrap.dedent(OBJECTIVE_FILE))
    (tmp_path / "helper.py").write_text("def scale(x):\n    return 2 * x\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    request = TrialRequest(
        "f",
        {"x": 3},
        str(tmp_path / "f"),
        str(workdir),
        function=f"../objective.py:{fn}",
        env={"TUNESMITH_OBJECTIVE": "score"},
    )
    out = run_one(ex, request)
    assert (out.status, out.returncode) == ("exited", 0), out.stderr_tail
    assert [(r.metrics, r.step, r.final) for r in out.reports] == expected


def test_function_runner_rejects_a_bad_return(ex: LocalExecutor, tmp_path: Path) -> None:
    (tmp_path / "objective.py").write_text(textwrap.dedent(OBJECTIVE_FILE))
    (tmp_path / "helper.py").write_text("def scale(x):\n    return 2 * x\n")
    request = TrialRequest(
        "f", {"x": 3}, str(tmp_path / "f"), str(tmp_path), function=f"{tmp_path}/objective.py:bad_return"
    )
    out = run_one(ex, request)
    assert out.returncode == 1 and "returned str" in out.stderr_tail


def test_function_runner_missing_function(ex: LocalExecutor, tmp_path: Path) -> None:
    request = TrialRequest("f", {}, str(tmp_path / "f"), str(tmp_path), function="json:no_such_fn")
    out = run_one(ex, request)
    assert out.returncode == 1 and "has no function 'no_such_fn'" in out.stderr_tail


def test_report_helper_prints_without_a_report_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TUNESMITH_REPORT_FILE", raising=False)
    report(step=2, val_acc=0.5, loss=float("inf"), final=True)
    line = capsys.readouterr().out
    assert line.startswith("TUNESMITH_REPORT ") and line.endswith("\n")
    parsed = parse_report(line.removeprefix("TUNESMITH_REPORT "))
    assert parsed is not None
    assert parsed.metrics == {"val_acc": 0.5, "loss": math.inf} and parsed.step == 2 and parsed.final


def test_stop_file_escalates_when_ignored(ex: LocalExecutor, tmp_path: Path) -> None:
    request = script_request(
        tmp_path,
        """
        import time
        print('TUNESMITH_REPORT {"score": 1}', flush=True)
        time.sleep(1000)
    """,
        grace=0.3,
    )
    ex.submit(request)
    wait_running(ex, "t1")
    ex.cancel("t1", "pruned", stop=True)
    (out,), _ = run_until_done(ex)
    assert (out.status, out.reason) == ("stopped", "pruned")
    assert (tmp_path / "t1" / "STOP").exists()
    assert out.finished_at - out.started_at < 5
    assert_tree_gone(out)
