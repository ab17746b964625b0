"""``tunesmith eval`` from the real entry point: listing and one-line errors for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.errors import TunesmithError
from evals.cli import protocols, select_problems
from tests.conftest import ROOT


def tunesmith(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "tunesmith.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_eval_is_a_tunesmith_command_and_lists_problems() -> None:
    res = tunesmith("eval", "--list")
    assert res.returncode == 0, res.stderr
    assert "SVM_wine_nll" in res.stdout and "bayesmark (90)" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "nope", "--out", "x"], "unknown suite 'nope'; choose one of bayesmark"),
        (["--problems", "SVM_wine_nl", "--out", "x"], "did you mean 'SVM_wine_nll'"),
        (["--problems", "branin", "--strategies", "tpe,nevergrad", "--out", "x"], "unknown strategy 'nevergrad'"),
        (["--problems", "branin", "--budget", "30,128", "--batch", "1,8,2", "--out", "x"], "one batch per budget"),
        (["--problems", "branin"], "--out DIR is required"),
        (["--problems", "branin", "--split", "train", "--out", "x"], "choose dev or test"),
    ],
)
def test_bad_input_is_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "300")
    from tunesmith.cli import app

    with pytest.raises(SystemExit) as exit_info:
        app(["eval", *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_a_strategy_that_crashes_is_one_line_and_keeps_finished_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.core.records import TrialDraft
    from agent.study.proposers import ProposalContext, Proposer
    from evals.contenders import Contender, register_contender
    from tunesmith.cli import app

    class Broken(Proposer):
        def propose(self, ctx: ProposalContext, n: int) -> list[TrialDraft]:
            raise ZeroDivisionError("oops")

    register_contender(Contender("test-cli-broken", lambda ctx: Broken()))
    monkeypatch.setenv("COLUMNS", "400")
    out = tmp_path / "o"
    args = ["eval", "--problems", "branin", "--budget", "3", "--batch", "1", "--seeds", "1", "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        app([*args, "--strategies", "random,test-cli-broken", "--no-plots"])
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("eval ")]  # (and the progress bar)
    assert exit_info.value.code == 2 and len(errors) == 1 and errors[0].startswith("error: "), err
    assert "unit branin__test-cli-broken__s0__3x1 failed: ZeroDivisionError: oops" in err
    assert "run the same command again to resume" in err
    assert (out / "units" / "branin__random__s0__3x1.json").exists()  # the finished unit is kept


def test_argument_parsing() -> None:
    assert protocols("30,128", "1,8") == [(30, 1), (128, 8)]
    assert protocols("30", "1") == [(30, 1)]
    with pytest.raises(TunesmithError, match="larger than --budget"):
        protocols("4", "8")
    with pytest.raises(TunesmithError, match="integers"):
        protocols("30,x", "1")
    assert select_problems("synthetic", None, "test") == ["branin", "hartmann6"]
    with pytest.raises(TunesmithError, match="none of the selected problems is in the dev split"):
        select_problems("all", "branin", "dev")


def test_missing_baseline_names_the_command(tmp_path: Path) -> None:
    empty = tmp_path / "b.json"
    empty.write_text('{"problems": {}}')
    res = tunesmith("eval", "--problems", "branin", "--baselines", str(empty), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "tunesmith eval-baselines --problems branin" in res.stderr


def test_progress_counts_units_not_their_cost_weights(tmp_path: Path) -> None:
    res = tunesmith(
        "eval",
        "--problems",
        "branin,hartmann6",
        "--strategies",
        "random",
        "--seeds",
        "1",
        "--budget",
        "4",
        "--batch",
        "2",
        "--no-plots",
        "--out",
        str(tmp_path / "o"),
    )
    assert res.returncode == 0, res.stderr
    assert "2/2 units" in res.stderr, res.stderr
