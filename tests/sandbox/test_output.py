"""Bounded output capture and report parsing, byte by byte."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from sandbox.output import MAX_LINE, OutputCapture, ParsedReport, ReportFile, parse_report


def capture(tmp_path: Path, chunks: list[bytes], **kw: int) -> tuple[OutputCapture, list[ParsedReport]]:
    got: list[ParsedReport] = []
    cap = OutputCapture(str(tmp_path / "out.log"), on_report=got.append, **kw)
    for chunk in chunks:
        cap.feed(chunk)
    cap.close()
    return cap, got


STREAM = (
    b'noise\nTUNESMITH_REPORT {"a": 1, "step": 0}\n'
    b'  TUNESMITH_REPORT {"indented": 1}\nxTUNESMITH_REPORT {"mid": 1}\n'
    b'TUNESMITH_REPORT {"b": "nan", "final": true}\r\nTUNESMITH_REPORT not json\n'
    b'TUNESMITH_REPORT [1, 2]\nTUNESMITH_REPORT {"c": "x"}\nTUNESMITH_REPORTER {"d": 1}\n'
    b'TUNESMITH_REPORT {"e": 2.5, "step": 3.0}'
)  # the last line has no newline: EOF ends it


def test_reports_survive_any_chunking(tmp_path: Path) -> None:
    _, whole = capture(tmp_path, [STREAM])
    assert [r.metrics for r in whole][:1] == [{"a": 1.0}]
    assert [sorted(r.metrics) for r in whole] == [["a"], ["b"], ["e"]]
    assert math.isnan(whole[1].metrics["b"]) and whole[1].final and whole[2].step == 3
    rng = random.Random(0)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(STREAM)), rng.randint(1, 12)))
        chunks = [STREAM[i:j] for i, j in zip([0, *cuts], [*cuts, len(STREAM)], strict=True)]
        _, got = capture(tmp_path, chunks)
        assert [sorted(r.metrics) for r in got] == [["a"], ["b"], ["e"]], chunks
    _, single_bytes = capture(tmp_path, [bytes([b]) for b in STREAM])
    assert [sorted(r.metrics) for r in single_bytes] == [["a"], ["b"], ["e"]]


def test_head_tail_and_marker(tmp_path: Path) -> None:
    data = bytes(range(256)) * 400  # 102400 bytes
    cap, _ = capture(tmp_path, [data[i : i + 999] for i in range(0, len(data), 999)], head_bytes=1000, tail_bytes=2000)
    log = (tmp_path / "out.log").read_bytes()
    assert log == data[:1000] + b"\n[... 99400 bytes omitted ...]\n" + data[-2000:]
    assert cap.total_bytes == len(data)
    small, _ = capture(tmp_path, [b"hello ", b"world"], head_bytes=4, tail_bytes=100)
    assert (tmp_path / "out.log").read_bytes() == b"hello world"  # nothing omitted: no marker
    assert small.tail_text(5) == "world" and small.tail_text(0) == ""


def test_long_report_line_is_skipped_not_buffered(tmp_path: Path) -> None:
    huge = b'TUNESMITH_REPORT {"a": "' + b"9" * (MAX_LINE + 10) + b'"}\n'
    cap, got = capture(
        tmp_path, [huge[i : i + 65536] for i in range(0, len(huge), 65536)] + [b'TUNESMITH_REPORT {"ok": 1}\n']
    )
    assert [r.metrics for r in got] == [{"ok": 1.0}]
    assert cap._line is None


def test_tail_text_is_clean_text(tmp_path: Path) -> None:
    cap, _ = capture(tmp_path, [b"\xe2\x82\xac ok \x00 \xff"])
    assert cap.tail_text(100) == "€ ok \ufffd \ufffd"
    assert cap.tail_text(3) == "\ufffd \ufffd"


@pytest.mark.parametrize(
    "payload, metrics, step, final",
    [
        ('{"a": 1}', {"a": 1.0}, None, False),
        ('{"a": NaN, "b": Infinity, "c": -Infinity}', {"a": math.nan, "b": math.inf, "c": -math.inf}, None, False),
        (
            '{"a": "nan", "b": "inf", "c": "-inf", "d": "0.5"}',
            {"a": math.nan, "b": math.inf, "c": -math.inf, "d": 0.5},
            None,
            False,
        ),
        ('{"a": true, "step": 2, "final": true, "_t": 12.5}', {"a": 1.0}, 2, True),
        ('{"a": 1, "step": "3", "final": "yes", "note": null, "l": [1]}', {"a": 1.0}, None, False),
        ('{"a": 1e400, "b": 100000000000000000000000000000000000}', {"a": math.inf, "b": 1e35}, None, False),
    ],
)
def test_parse_report(payload: str, metrics: dict[str, float], step: int | None, final: bool) -> None:
    parsed = parse_report(payload)
    assert parsed is not None
    assert parsed.metrics.keys() == metrics.keys()
    for k, v in metrics.items():
        assert (math.isnan(v) and math.isnan(parsed.metrics[k])) or parsed.metrics[k] == v
    assert (parsed.step, parsed.final) == (step, final)


@pytest.mark.parametrize("payload", ["", "{}", '{"step": 1}', "[1]", "nope", '{"a": "x"}', "[" * 100000, b"\xff\xfe"])
def test_parse_report_rejects(payload: str | bytes) -> None:
    assert parse_report(payload) is None


def test_report_file_follows_appends(tmp_path: Path) -> None:
    path = tmp_path / "reports.jsonl"
    got: list[ParsedReport] = []
    follower = ReportFile(str(path), got.append)
    follower.poll()  # no file yet
    with path.open("ab") as fh:
        fh.write(json.dumps({"a": 1, "step": 0, "_t": 5.0}).encode() + b'\n{"a": 2')
        fh.flush()
        follower.poll()
        assert [(r.metrics, r.time) for r in got] == [({"a": 1.0}, 5.0)]
        fh.write(b', "step": 1}\n' + b'{"big": "' + b"1" * (MAX_LINE + 5) + b'"}\n{"a": 3}')
    follower.poll(final=True)
    assert [r.metrics["a"] for r in got] == [1.0, 2.0, 3.0]
    follower.poll()  # after final: no-op
