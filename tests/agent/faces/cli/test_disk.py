"""A really full disk and a really read-only study folder, with the real CLI.

Root ignores file permissions, so "read-only" has to be a read-only mount, and "full" a small file
system: each test runs a script in a private mount namespace (``unshare --mount``), where it mounts a
small tmpfs or remounts a bind mount read-only; nothing is visible outside it and everything goes when
it ends. Where mounting is not allowed (not root, no user namespaces) these tests skip, and
tests/agent/study/test_store_faults.py still covers the same paths by fault injection at the store boundary
(in the default run; these take ~10 s each, so they run with the slow tests).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.sandbox.studyrun import assert_nothing_left, token

TRAIN = """
import json, os, sys
p = json.load(open(os.environ["TUNESMITH_PARAMS"]))
for step in range(10):
    print("TUNESMITH_REPORT " + json.dumps({"step": step, "y": p["x"] * step}))
    print("x" * 20000)         # 200 kB of log per trial: fills a small disk quickly
"""


@functools.cache
def _can_mount() -> bool:
    if shutil.which("unshare") is None:
        return False
    res = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
        capture_output=True,
    )
    return res.returncode == 0


def _in_private_mounts(script: str, tmp_path: Path) -> dict[str, str]:
    """Run ``script`` (bash) in a private mount namespace; ``$TS`` runs the tunesmith CLI. Lines
    ``@key value`` of its output come back as a dict (values are the rest of the line)."""
    if not _can_mount():
        pytest.skip("cannot mount here (needs root or user namespaces); see tests/agent/study/test_store_faults.py")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        "TS": f"{sys.executable} -m agent.faces.cli",
        "T": str(tmp_path),
    }
    res = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    found: dict[str, str] = {}
    for line in res.stdout.splitlines():
        if line.startswith("@"):
            key, _, value = line[1:].partition(" ")
            found[key] = found.get(key, "") + value
    return found


INTEGRITY = (
    f'{sys.executable} -c "import json, sys; from agent.study.store.sqlite import SQLiteStore; '
    "s = SQLiteStore(sys.argv[1]); print('@integrity', s.integrity_check()); "
    "print('@complete', json.dumps({t.number: t.value for t in s.trials() if t.state.value == 'complete'}))\""
)


def _spec(tmp_path: Path, mark: str, trials: int) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    spec = {
        "name": "disk",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": ["python", "train.py", mark],
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "budget": {"max_trials": trials},
        "workers": 2,
        "strategy": "random",
        "seed": 1,
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    return tmp_path / "spec.json"


@pytest.mark.slow
def test_disk_full_mid_study_is_one_line_and_resume_finishes_after_space_is_freed(tmp_path: Path) -> None:
    mark = token()
    _spec(tmp_path, mark, 12)
    out = _in_private_mounts(
        f"""
        mkdir -p $T/mnt && mount -t tmpfs -o size=1200k tmpfs $T/mnt
        $TS tune $T/spec.json --dir $T/mnt/study --quiet > $T/tune.out 2> $T/tune.err; echo "@rc1 $?"
        echo "@err1 $(tr '\\n' ' ' < $T/tune.err)"
        mount -o remount,size=2m $T/mnt           # a little room to read and check the database
        {INTEGRITY.replace("sys.argv[1]", "'$T/mnt/study'")} | sed 's/^@/@before_/'
        mount -o remount,size=64m $T/mnt          # space freed
        $TS resume $T/mnt/study --quiet > /dev/null 2> $T/resume.err; echo "@rc2 $?"
        $TS status $T/mnt/study --json | sed 's/^/@status /'
        {INTEGRITY.replace("sys.argv[1]", "'$T/mnt/study'")}
    """,
        tmp_path,
    )
    assert out["rc1"] == "2", out
    assert "error: disk full: no space left on the disk holding" in out["err1"] and "tunesmith resume" in out["err1"], (
        out["err1"]
    )
    assert out["before_integrity"] == "ok" and out["integrity"] == "ok"
    assert out["rc2"] == "0" and json.loads(out["status"])["done"] == 12
    before, after = json.loads(out["before_complete"]), json.loads(out["complete"])
    assert before and all(after[n] == v for n, v in before.items()), (before, after)
    assert_nothing_left(mark)


@pytest.mark.slow
def test_read_only_study_folder_refuses_to_run_but_reads_and_resumes_once_writable(tmp_path: Path) -> None:
    mark = token()
    _spec(tmp_path, mark, 2)
    out = _in_private_mounts(
        f"""
        mkdir -p $T/d
        $TS tune $T/spec.json --dir $T/d/study --quiet > /dev/null; echo "@rc0 $?"
        mount --bind $T/d $T/d && mount -o remount,ro,bind $T/d
        $TS resume $T/d/study --trials 4 --quiet > /dev/null 2> $T/ro.err; echo "@rc1 $?"
        echo "@err1 $(tr '\\n' ' ' < $T/ro.err)"
        $TS status $T/d/study --json | sed 's/^/@status1 /'
        $TS export $T/d/study --format csv -o $T/export.csv > /dev/null; echo "@rc_export $?"
        mount -o remount,rw,bind $T/d
        $TS resume $T/d/study --trials 4 --quiet > /dev/null; echo "@rc2 $?"
        $TS status $T/d/study --json | sed 's/^/@status2 /'
        {INTEGRITY.replace("sys.argv[1]", "'$T/d/study'")}
    """,
        tmp_path,
    )
    assert out["rc0"] == "0" and out["rc1"] == "2", out
    assert "is read-only" in out["err1"] and "Traceback" not in out["err1"], out["err1"]
    assert json.loads(out["status1"])["done"] == 2 and out["rc_export"] == "0"
    assert out["rc2"] == "0" and json.loads(out["status2"])["done"] == 4 and out["integrity"] == "ok"
    assert_nothing_left(mark)
