"""Fuzzing ``TUNESMITH_REPORT`` parsing and output capture with arbitrary bytes: a report or None, a
bounded log, never an exception."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sandbox.base import REPORT_PREFIX
from sandbox.output import OutputCapture, ParsedReport, ReportFile, parse_report
from tests.fuzz.strategies import FUZZ, JSON

PAYLOADS = (
    st.binary(max_size=300)
    | st.text(max_size=300)
    | JSON.map(json.dumps)
    | st.dictionaries(st.text(max_size=8), JSON, max_size=5).map(json.dumps)
)


def _check(parsed: ParsedReport | None) -> None:
    if parsed is None:
        return
    assert parsed.metrics and all(isinstance(k, str) and isinstance(v, float) for k, v in parsed.metrics.items())
    assert parsed.step is None or (isinstance(parsed.step, int) and not isinstance(parsed.step, bool))
    assert isinstance(parsed.final, bool)
    assert parsed.time is None or math.isfinite(parsed.time)


@FUZZ
@given(PAYLOADS)
def test_parse_report_takes_anything(payload: bytes | str) -> None:
    _check(parse_report(payload))


@FUZZ
@given(
    st.dictionaries(st.text(max_size=8), st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=4),
    st.integers(-5, 10**6) | st.none(),
)
def test_a_well_formed_report_keeps_every_number(metrics: dict[str, float], step: int | None) -> None:
    metrics = {k: v for k, v in metrics.items() if k not in ("step", "final", "_t")}
    if not metrics:
        return
    parsed = parse_report(json.dumps({**metrics, "step": step}))
    assert parsed is not None and parsed.metrics == metrics and parsed.step == step


@FUZZ
@given(
    st.lists(
        st.binary(max_size=2000)
        | PAYLOADS.map(
            lambda p: REPORT_PREFIX.encode() + (p if isinstance(p, bytes) else p.encode(errors="surrogatepass")) + b"\n"
        ),
        max_size=12,
    )
)
def test_output_capture_takes_any_stream_in_any_chunks(chunks: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "out.log"
        got: list[ParsedReport] = []
        cap = OutputCapture(str(log), head_bytes=512, tail_bytes=512, on_report=got.append)
        for chunk in chunks:
            cap.feed(chunk)
        cap.close()
        for parsed in got:
            _check(parsed)
        assert log.stat().st_size <= 1024 + 64
        assert "\x00" not in cap.tail_text(200)
        assert cap.total_bytes == sum(len(c) for c in chunks)


@FUZZ
@given(st.binary(max_size=3000))
def test_report_file_takes_any_content(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.jsonl"
        path.write_bytes(content)
        got: list[ParsedReport] = []
        reader = ReportFile(str(path), on_report=got.append)
        reader.poll()
        reader.poll(final=True)
        for parsed in got:
            _check(parsed)
