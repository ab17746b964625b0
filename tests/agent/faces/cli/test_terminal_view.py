"""What the terminal shows, through the real CLI: the end of ``tune`` (gain over the default, next commands),
whole params, ``show`` (--json, --sort, --top, one trial's resources and whole curve), durations as written,
``plot``, ``ls``, the top-level help, a pause from another face said in the running ``tune``, and the live
block on a TTY (time left, the running trials' params)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
import yaml

from agent.faces.format import fmt_params
from tests.conftest import ROOT, run_cli

SCRIPT = """
import json, os, sys, time
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
score = -(p["learning_rate"] - 0.25) ** 2
for step in range(3):
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "score": score - 0.01 * (2 - step)}), flush=True)
    time.sleep(float(os.environ.get("STEP_S", "0")))
print("TUNESMITH_REPORT " + json.dumps({"score": score, "note": 1.0}))
"""


def write_spec(folder: Path, *, trials: int = 5, workers: int = 2, env: dict[str, str] | None = None) -> Path:
    (folder / "train.py").write_text(SCRIPT)
    spec = {
        "name": "view",
        "objective": {"metric": "score", "direction": "maximize"},
        "command": ["python", "train.py"],
        "space": {
            "learning_rate": {"type": "float", "low": 0.0, "high": 1.0},
            "weight_decay": {"type": "float", "low": 1e-6, "high": 1e-2, "log": True},
            "dropout_probability": {"type": "float", "low": 0.0, "high": 0.9},
            "optimizer_name": {"choices": ["adam", "adamw", "sgd"]},
        },
        "default": {
            "learning_rate": 0.9,
            "weight_decay": 1e-4,
            "dropout_probability": 0.4652,
            "optimizer_name": "adam",
        },
        "budget": {"max_trials": trials, "trial_timeout": "2m"},
        "strategy": "random",
        "seed": 5,
        "workers": workers,
        "env": {"set": env or {}},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("view")
    spec = write_spec(folder)
    study = folder / "studies" / "view-1"
    res = run_cli("tune", str(spec), "--dir", str(study))
    assert res.returncode == 0, res.stderr
    return study, res.stdout


def test_the_end_of_tune_says_the_gain_over_the_default_and_what_to_run_next(tuned: tuple[Path, str]) -> None:
    study, stdout = tuned
    assert "trial timeout 2m" in stdout.splitlines()[0]  # the header keeps the unit the spec used
    assert re.search(r"gain over the default \(#0\): score -0\.4225 → -?[0-9.]+ \(\+[0-9.]+, \+[0-9.]+ %\)", stdout)
    assert "next:" in stdout
    for command in (f"tunesmith show {study}", f"tunesmith plot {study} history", f"tunesmith export {study}"):
        assert command in stdout
    assert f"tunesmith serve --root {study.parent}" in stdout


def test_the_json_summary_carries_the_gain_over_the_default(tmp_path: Path) -> None:
    res = run_cli("tune", str(write_spec(tmp_path, trials=3)), "--dir", str(tmp_path / "s"), "--json")
    summary = json.loads(res.stdout.splitlines()[-1])["summary"]
    default = summary["default"]
    assert default["trial"] == 0 and default["value"] == pytest.approx(-0.4225)
    assert summary["gain_over_default"] == pytest.approx(summary["best"]["value"] - default["value"])


def test_params_are_shortened_by_whole_params_never_inside_a_number(tuned: tuple[Path, str]) -> None:
    _, stdout = tuned
    line = next(ln for ln in stdout.splitlines() if ln.startswith("#0 "))
    assert "learning_rate=0.9 weight_decay=0.0001 dropout_probability=0.4652 optimizer_name=adam" in line
    assert "..." not in stdout
    params = {"learning_rate": 0.9, "weight_decay": 1e-4, "dropout_probability": 0.4652, "optimizer_name": "adam"}
    assert fmt_params(params, 70) == "learning_rate=0.9 weight_decay=0.0001 +2 more"
    assert fmt_params(params, 120).endswith("dropout_probability=0.4652 optimizer_name=adam")
    assert fmt_params({"dropout": 0.4652, "lr": 0.001}, 12) == "dropout=0.4652 +1 more"  # the first stays whole


def test_show_sorts_takes_the_top_and_speaks_json(tuned: tuple[Path, str]) -> None:
    study, _ = tuned
    rows = json.loads(run_cli("show", str(study), "--top", "2", "--json").stdout)
    everything = json.loads(run_cli("show", str(study), "--json").stdout)
    values = sorted((r["value"] for r in everything if r["value"] is not None), reverse=True)
    assert [r["value"] for r in rows] == values[:2]  # --top alone: the best first
    assert [r["trial"] for r in everything] == sorted(r["trial"] for r in everything)
    by_time = json.loads(run_cli("show", str(study), "--sort", "duration", "--json").stdout)
    durations = [r["duration_s"] for r in by_time]
    assert durations == sorted(durations, reverse=True)
    table = run_cli("show", str(study), "--sort", "value", "--top", "3")
    assert table.returncode == 0 and "(3 of 5, by value)" in table.stdout
    bad = run_cli("show", str(study), "--sort", "colour")
    assert bad.returncode == 2 and "cannot sort by 'colour'; choose one of number, value" in bad.stderr


def test_show_one_trial_has_its_resources_and_its_whole_curve(tuned: tuple[Path, str]) -> None:
    study, _ = tuned
    text = run_cli("show", str(study), "0").stdout
    for label in ("started:", "finished:", "exit code: 0", "max RSS:", "CPU time:", "curve: 4 reports"):
        assert label in text, text
    assert re.search(r"max RSS: [0-9.]+ MB", text) and re.search(r"CPU time: \S+ \(user \S+, system \S+\)", text)
    assert "step 0: score=" in text and "step 2: score=" in text
    assert "report 4 (no step given): score=-0.4225, note=1" in text and "step None" not in text
    assert '"dropout_probability": 0.4652' in text  # one trial's params exactly
    detail = json.loads(run_cli("show", str(study), "0", "--json").stdout)
    assert detail["resources"]["exit_code"] == 0 and detail["resources"]["max_rss_kb"] > 0
    assert detail["resources"]["cpu_s"] > 0 and len(detail["curve"]) == 4 and detail["curve"][-1]["step"] is None


def test_durations_are_shown_as_the_spec_wrote_them(tuned: tuple[Path, str], tmp_path: Path) -> None:
    study, _ = tuned
    status = run_cli("status", str(study)).stdout
    assert "limits: max_trials=5, trial_timeout=2m" in status
    assert json.loads(run_cli("status", str(study), "--json").stdout)["limits"].endswith("trial_timeout=2m")
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(study), str(copy)], check=True)
    changed = run_cli("steer", str(copy), "budget", "time=1h30m")
    assert changed.returncode == 0, changed.stderr
    assert "max_time=1h30m, trial_timeout=2m" in changed.stdout


def test_plot_writes_the_pages_plots_and_says_how_to_get_a_png(tuned: tuple[Path, str], tmp_path: Path) -> None:
    study, _ = tuned
    res = run_cli("plot", str(study), "history")
    assert res.returncode == 0 and f"wrote {study / 'plots' / 'history.svg'}" in res.stdout
    assert (study / "plots" / "history.svg").read_text().startswith("<svg")
    target = tmp_path / "contour.svg"
    assert run_cli("plot", str(study), "contour", "--x", "learning_rate", "--y", "weight_decay", "-o", str(target))
    assert "learning_rate" in target.read_text()
    no_png = run_cli("plot", str(study), "history", "-o", str(tmp_path / "h.png"), env={"PATH": "/nonexistent"})
    if no_png.returncode == 2:  # no cairosvg here: one line that says how to get a PNG
        assert "pip install 'tunesmith[png]'" in no_png.stderr and "-o FILE.svg" in no_png.stderr
    stub = tmp_path / "stub"
    (stub / "cairosvg").mkdir(parents=True)
    (stub / "cairosvg" / "__init__.py").write_text(
        "def svg2png(bytestring, write_to, output_width):\n"
        "    assert bytestring.startswith(b'<svg')\n"
        "    open(write_to, 'wb').write(b'PNG %d' % output_width)\n"
    )
    png = run_cli("plot", str(study), "history", "-o", str(tmp_path / "h.png"), env={"PYTHONPATH": f"{stub}:{ROOT}"})
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "h.png").read_bytes() == b"PNG 1600"
    bad = run_cli("plot", str(study), "pie")
    assert bad.returncode == 2 and "unknown plot 'pie'; choose one of history, importance" in bad.stderr


def test_ls_lists_the_studies_under_a_folder(tuned: tuple[Path, str], tmp_path: Path) -> None:
    study, _ = tuned
    res = run_cli("ls", str(study.parent))
    header, row = res.stdout.splitlines()[:2]
    assert header.split() == ["name", "folder", "status", "trials", "best", "started"]
    assert row.split()[:4] == ["view", str(study), "finished", "5/5"] and "score=" in row
    (row_json,) = json.loads(run_cli("ls", str(study.parent), "--json").stdout)
    assert row_json["dir"] == str(study) and row_json["done"] == 5 and row_json["best"]["trial"] >= 0
    assert "no studies under" in run_cli("ls", str(tmp_path)).stdout
    missing = run_cli("ls", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_the_top_level_help_shows_whole_descriptions() -> None:
    res = run_cli("--help", env={"COLUMNS": "80"})
    text = " ".join(res.stdout.split())
    commands = res.stdout.split("Commands:")[1]
    assert "..." not in commands
    assert "Tune from a spec file (classical, no LLM needed) or from a request in plain words (with an LLM)." in text
    assert "plot" in text and "ls" in text


def test_a_pause_from_another_face_is_said_in_the_running_tune(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, trials=40, workers=1, env={"STEP_S": "0.1"})
    study = tmp_path / "studies" / "paused"
    tune = subprocess.Popen(
        [sys.executable, "-m", "agent.faces.cli", "tune", str(spec), "--dir", str(study)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            not (study / "study.db").exists() or json.loads(run_cli("status", str(study), "--json").stdout)["done"] < 1
        ):
            assert time.monotonic() < deadline and tune.poll() is None, tune.stderr.read() if tune.stderr else ""
            time.sleep(0.2)
        paused = run_cli("steer", str(study), "pause")
        assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr
        assert "paused by tunesmith steer" in run_cli("status", str(study)).stdout
        assert "paused by tunesmith steer" in run_cli("ls", str(study.parent)).stdout
        assert json.loads(run_cli("status", str(study), "--json").stdout)["paused_by"] == "cli"
        resumed = run_cli("steer", str(study), "resume")
        assert resumed.returncode == 0 and "resumed" in resumed.stdout
        assert run_cli("steer", str(study), "stop").returncode == 0
        out, err = tune.communicate(timeout=60)
    finally:
        if tune.poll() is None:
            tune.kill()
    assert "⏸ paused by tunesmith steer at " in out and "no new ones start" in out, out + err
    assert f"tunesmith steer {study} resume" in out
    assert re.search(r"▶ resumed by tunesmith steer after \S+ paused", out)
    assert out.index("⏸ paused") < out.index("▶ resumed") < out.index("done (stopped)")


def test_on_a_terminal_the_live_block_shows_the_time_left_and_the_running_trials(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, trials=6, workers=2, env={"STEP_S": "0.4"})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agent.faces.cli", "tune", str(spec), "--dir", str(tmp_path / "s")],
        cwd=str(tmp_path),
        env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", "COLUMNS": "160"},
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 160),
    )
    child.expect(r"#0 +running +\d+s +learning_rate=0\.9 weight_decay=0\.0001 dropout_probability=0\.4652")
    child.expect(r"ETA \d+s • running \d • best score=")  # after the first trial: the time left counts down
    child.expect(r"gain over the default\S* \(#0\)")  # (bold: escape codes before the space)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_a_value_reads_the_same_everywhere(tuned: tuple[Path, str]) -> None:
    from agent.faces.format import fmt_value

    study, stdout = tuned
    best = json.loads(run_cli("best", str(study), "--json").stdout)
    shown = f"score={fmt_value(best['value'])}"  # 6 significant digits, wherever a person reads it
    assert f"best #{best['trial']} {shown}" in stdout
    assert shown in run_cli("status", str(study)).stdout
    assert shown in run_cli("ls", str(study.parent)).stdout
    assert shown in run_cli("show", str(study), str(best["trial"])).stdout
    assert fmt_value(best["value"]) in run_cli("show", str(study), "--top", "1").stdout
