"""The trial-side checkpoint and fingerprint helpers (standard library only): atomic checkpoints, what a
kill leaves behind, and fingerprints that survive the report line exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunesmith
from agent.study.dedupe import split_fingerprint
from sandbox.checkpoint import (
    CHECKPOINT_DIR_ENV,
    RESTORE_FROM_ENV,
    checkpoint_name,
    checkpoints,
    copy_checkpoint,
    latest_checkpoint,
    restore_from,
    save_checkpoint,
)
from sandbox.output import parse_report
from sandbox.report import FINGERPRINT_KEY, fingerprint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ckpt_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv(CHECKPOINT_DIR_ENV, str(folder))
    return folder


def test_the_public_api_exports_the_helpers() -> None:
    assert tunesmith.save_checkpoint is save_checkpoint and tunesmith.restore_from is restore_from
    assert tunesmith.fingerprint is fingerprint and callable(tunesmith.checkpoint_dir)


def test_a_checkpoint_appears_whole_under_its_final_name_and_old_ones_go(ckpt_dir: Path) -> None:
    for step in range(1, 5):
        with save_checkpoint(step) as path:
            assert Path(path).name.startswith("tmp-")  # a temporary name while it is written
            Path(path).write_text(f"state {step}")
    assert sorted(os.listdir(ckpt_dir)) == [checkpoint_name(3), checkpoint_name(4)]  # keep=2
    assert latest_checkpoint(str(ckpt_dir)) == (4, str(ckpt_dir / "step-00000004"))
    assert (ckpt_dir / "step-00000004").read_text() == "state 4"


def test_a_folder_checkpoint_and_a_rewrite_of_the_same_step(ckpt_dir: Path) -> None:
    for text in ("first", "second"):
        with save_checkpoint(7, keep=3) as path:
            os.makedirs(path)
            Path(path, "weights").write_text(text)
    assert (ckpt_dir / "step-00000007" / "weights").read_text() == "second"
    assert os.listdir(ckpt_dir) == ["step-00000007"]


def test_an_exception_or_nothing_written_leaves_no_checkpoint(ckpt_dir: Path) -> None:
    with pytest.raises(RuntimeError), save_checkpoint(1) as path:
        Path(path).write_text("half")
        raise RuntimeError("crash while saving")
    with pytest.raises(FileNotFoundError, match="nothing was written"), save_checkpoint(2):
        pass
    assert checkpoints(str(ckpt_dir)) == []


def test_outside_tunesmith_a_script_runs_and_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CHECKPOINT_DIR_ENV, raising=False)
    monkeypatch.delenv(RESTORE_FROM_ENV, raising=False)
    with save_checkpoint(3) as path:
        Path(path).write_text("x")
        kept = path
    assert not os.path.exists(kept) and restore_from() is None and tunesmith.checkpoint_dir() is None


def test_kill_9_while_saving_leaves_only_whole_checkpoints(ckpt_dir: Path, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, sys.argv[1])
        from sandbox.checkpoint import save_checkpoint
        with save_checkpoint(1) as p:
            open(p, "w").write("whole")
        with save_checkpoint(2) as p:
            fh = open(p, "w"); fh.write("half"); fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(ROOT)], stdout=subprocess.PIPE, env={**os.environ}, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert checkpoints(str(ckpt_dir)) == [(1, str(ckpt_dir / "step-00000001"))]
    assert (ckpt_dir / "step-00000001").read_text() == "whole"


def test_copy_links_a_file_or_folder_atomically(tmp_path: Path) -> None:
    src = tmp_path / "a" / "step-00000004"
    src.parent.mkdir()
    src.write_text("w")
    out = copy_checkpoint(str(src), str(tmp_path / "restore"), 4)
    assert Path(out).read_text() == "w" and Path(out).name == "step-00000004"
    assert os.stat(out).st_ino == os.stat(src).st_ino  # a hard link: no bytes copied
    folder = tmp_path / "b" / "step-00000002"
    folder.mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"\0" * 10)
    out = copy_checkpoint(str(folder), str(tmp_path / "restore2"), 2)
    assert (Path(out) / "w.bin").read_bytes() == b"\0" * 10
    assert copy_checkpoint(str(folder), str(tmp_path / "restore2"), 2) == out  # kept as it is


def test_restore_from_reads_the_contract_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESTORE_FROM_ENV, "/x/step-00000003")
    assert restore_from() == "/x/step-00000003"


def _reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: object) -> tuple[str, dict[str, float]]:
    out = tmp_path / "reports.jsonl"
    out.unlink(missing_ok=True)
    monkeypatch.setenv("TUNESMITH_REPORT_FILE", str(out))
    hexed = fingerprint(data, step=1)
    parsed = parse_report(out.read_text().strip())
    assert parsed is not None and parsed.step == 1
    return hexed, parsed.metrics


def test_a_fingerprint_survives_the_report_line_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hexed, metrics = _reported(tmp_path, monkeypatch, b"outputs")
    assert list(metrics) == [FINGERPRINT_KEY] and metrics[FINGERPRINT_KEY] < 2**52
    assert split_fingerprint(metrics) == (hexed, {})
    assert _reported(tmp_path, monkeypatch, b"outputs")[0] == hexed
    assert _reported(tmp_path, monkeypatch, b"output5")[0] != hexed


def test_fingerprints_of_arrays_lists_and_tensors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np = pytest.importorskip("numpy")
    a = np.arange(6, dtype=np.float32)
    same = _reported(tmp_path, monkeypatch, a)[0]
    assert _reported(tmp_path, monkeypatch, a.copy())[0] == same
    assert _reported(tmp_path, monkeypatch, a.reshape(2, 3))[0] != same  # the shape is part of the function
    assert _reported(tmp_path, monkeypatch, a.astype(np.float64))[0] != same
    assert _reported(tmp_path, monkeypatch, [[1.0, 2.0]])[0] == _reported(tmp_path, monkeypatch, [[1.0, 2.0]])[0]
    torch = pytest.importorskip("torch")
    t = torch.arange(6, dtype=torch.float32)
    assert _reported(tmp_path, monkeypatch, t)[0] == same
    with pytest.raises(TypeError, match="fingerprint"):
        fingerprint(object())


def test_a_fingerprint_outside_tunesmith_prints_a_report_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TUNESMITH_REPORT_FILE", raising=False)
    hexed = fingerprint(b"x")
    line = capsys.readouterr().out.strip()
    assert line.startswith("TUNESMITH_REPORT ")
    assert int(json.loads(line.split(" ", 1)[1])[FINGERPRINT_KEY]) == int(hexed, 16)
