"""Bounded capture of a trial's output, and parsing of its metric reports.

A trial may print gigabytes, invalid UTF-8 or NUL bytes, or one line of many megabytes; none of that may
grow tunesmith's memory or fill the disk. ``OutputCapture`` therefore keeps, per pipe:

- the first ``head_bytes`` streamed straight to the log file,
- the last ``tail_bytes`` in memory, appended to the log file at EOF after a
  ``[... N bytes omitted ...]`` marker,

so a log file never exceeds ``head_bytes + tail_bytes`` plus the marker, and memory stays at about twice
``tail_bytes``. Lines that start with ``TUNESMITH_REPORT `` are parsed into ``ParsedReport``s on the way
through; only a line that could still be a report is ever buffered, and never beyond ``MAX_LINE`` bytes.

``ReportFile`` follows the JSON-lines file written by ``sandbox.report`` with the same limits.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from typing import Any, BinaryIO, NamedTuple

from sandbox.base import REPORT_PREFIX

HEAD_BYTES = 1 << 20
TAIL_BYTES = 1 << 20
#: Report lines longer than this are skipped (never buffered whole).
MAX_LINE = 1 << 20

_PREFIX = REPORT_PREFIX.encode()
_NL = 0x0A

__all__ = [
    "HEAD_BYTES",
    "MAX_LINE",
    "TAIL_BYTES",
    "OutputCapture",
    "ParsedReport",
    "ReportFile",
    "open_untrusted",
    "parse_report",
]


def open_untrusted(path: str, *, write: bool = False) -> BinaryIO:
    """Open a file in a trial folder, which the trial controls: never through a symbolic link, never
    blocking on a FIFO, and only if it is a regular file (``OSError`` otherwise). ``write`` creates or
    truncates it."""
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    flags |= (os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if write else os.O_RDONLY
    fd = os.open(path, flags, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "wb" if write else "rb")
    except BaseException:
        os.close(fd)
        raise


class ParsedReport(NamedTuple):
    """One report as the trial sent it; ``time`` is the trial's own timestamp when it gave one."""

    metrics: dict[str, float]
    step: int | None
    final: bool
    time: float | None


def _number(value: Any) -> float | None:
    # JSON NaN/Infinity arrive as floats; "nan"/"inf"/"-inf" strings (what sandbox.report writes for
    # non-finite values) are parsed like any other numeric string. Anything else is not a metric.
    if isinstance(value, bool | int | float):
        try:
            return float(value)
        except OverflowError:  # an int too large for a float
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def parse_report(payload: bytes | str) -> ParsedReport | None:
    """Parse the JSON object of one report (the text after the prefix). ``step`` must be an integer,
    ``final`` a boolean and ``_t`` a timestamp; every other key with a numeric value is a metric.
    Returns None for anything that is not a JSON object with at least one metric."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", errors="replace")
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict):
        return None
    step_raw = obj.pop("step", None)
    final = obj.pop("final", False) is True
    t_raw = obj.pop("_t", None)
    step: int | None = None
    if isinstance(step_raw, int) and not isinstance(step_raw, bool):
        step = step_raw
    elif isinstance(step_raw, float) and step_raw.is_integer():
        step = int(step_raw)
    stamp = _number(t_raw) if not isinstance(t_raw, str) else None
    metrics = {str(k): f for k, v in obj.items() if (f := _number(v)) is not None}
    if not metrics:
        return None
    return ParsedReport(metrics, step, final, stamp if stamp is not None and math.isfinite(stamp) else None)


class OutputCapture:
    """Capture one pipe of a trial into ``path`` with bounded memory and disk (see module docstring).

    Feed it every chunk read from the pipe, then ``close()`` at EOF. Not thread-safe: one reader feeds
    it; ``tail_text`` is meant for after ``close``.
    """

    def __init__(
        self,
        path: str,
        *,
        head_bytes: int = HEAD_BYTES,
        tail_bytes: int = TAIL_BYTES,
        on_report: Callable[[ParsedReport], None] | None = None,
    ) -> None:
        self.total_bytes = 0
        self.write_error: str | None = None  # the log could not be written (disk full): output still parsed
        self._file: BinaryIO | None = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._head_left = head_bytes
        self._head_written = 0
        self._tail_max = tail_bytes
        self._tail = bytearray()
        self._on_report = on_report
        self._line: bytearray | None = None  # a line in progress that may be a report
        self._in_line = False  # inside a line that is not a report: skip to its end

    def feed(self, data: bytes) -> None:
        """Take the next chunk of the stream."""
        if not data or self._file is None:
            return
        self.total_bytes += len(data)
        if self._head_left > 0:
            head = data[: self._head_left]
            self._write(head)
            self._head_left -= len(head)
            self._head_written += len(head)
        if len(data) >= self._tail_max:
            self._tail[:] = data[-self._tail_max :]
        else:
            self._tail += data
            if len(self._tail) > 2 * self._tail_max:  # trim in batches: one memmove per tail_max bytes
                del self._tail[: -self._tail_max]
        if self._on_report is not None:
            self._scan(data)

    def close(self) -> None:
        """End of stream: parse a last unterminated report line and write the tail to the log."""
        if self._file is None:
            return
        if self._line is not None:
            self._finish_line(bytes(self._line))
            self._line = None
        del self._tail[: -self._tail_max]
        rest = self.total_bytes - self._head_written
        if rest > 0:
            keep = min(rest, len(self._tail))
            if rest > keep:
                self._write(f"\n[... {rest - keep} bytes omitted ...]\n".encode())
            self._write(bytes(self._tail[len(self._tail) - keep :]))
        try:
            self._file.close()
        except OSError as exc:
            self.write_error = self.write_error or str(exc)
        self._file = None

    def _write(self, data: bytes) -> None:
        # A full disk must not end the capture: the tail stays in memory and reports are still parsed.
        if self.write_error is not None or self._file is None:
            return
        try:
            self._file.write(data)
        except OSError as exc:
            self.write_error = str(exc)

    def tail_text(self, n_chars: int) -> str:
        """The last ``n_chars`` characters of the stream (invalid UTF-8 and NULs shown as U+FFFD)."""
        if n_chars <= 0:
            return ""
        raw = bytes(self._tail[-4 * n_chars :])
        return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")[-n_chars:]

    # -- report lines ----------------------------------------------------------------------------
    def _scan(self, data: bytes) -> None:
        # Only lines that start with the prefix matter, so search for the prefix with bytes.find (C
        # speed) instead of splitting every line: a flood of ordinary output costs almost nothing.
        n = len(data)
        start = 0
        if self._line is not None or self._in_line:
            nl = data.find(b"\n")
            if self._line is not None:
                end = n if nl < 0 else nl
                if len(self._line) + end > MAX_LINE:
                    self._line = None
                    self._in_line = True
                else:
                    self._line += data[:end]
                    if nl >= 0:
                        self._finish_line(bytes(self._line))
                        self._line = None
                    elif not (self._line.startswith(_PREFIX) or _PREFIX.startswith(self._line)):
                        self._line = None
                        self._in_line = True
            if nl < 0:
                return
            self._in_line = False
            start = nl + 1
        search = start
        while (idx := data.find(_PREFIX, search)) >= 0:
            if idx != start and data[idx - 1] != _NL:
                search = idx + 1
                continue
            nl = data.find(b"\n", idx)
            if nl < 0:  # the report line goes on in the next chunk
                if n - idx > MAX_LINE:
                    self._in_line = True
                else:
                    self._line = bytearray(data[idx:])
                return
            if nl - idx <= MAX_LINE:
                self._finish_line(data[idx:nl])
            start = search = nl + 1
        last_nl = data.rfind(b"\n", start)
        rest = data[last_nl + 1 if last_nl >= 0 else start :]
        if rest:
            # An unfinished line shorter than the prefix may still become a report line.
            if _PREFIX.startswith(rest):
                self._line = bytearray(rest)
            else:
                self._in_line = True

    def _finish_line(self, line: bytes) -> None:
        if self._on_report is None or not line.startswith(_PREFIX):
            return
        parsed = parse_report(line[len(_PREFIX) :].rstrip(b"\r"))
        if parsed is not None:
            self._on_report(parsed)


class ReportFile:
    """Follow the JSON-lines report file at ``path`` (it may not exist yet). Call ``poll()`` now and
    then while the trial runs and ``poll(final=True)`` once after it ended; each new complete line that
    parses is handed to ``on_report``. Lines over ``MAX_LINE`` bytes are skipped."""

    def __init__(self, path: str, on_report: Callable[[ParsedReport], None]) -> None:
        self._path = path
        self._on_report = on_report
        self._fh: BinaryIO | None = None
        self._partial = bytearray()
        self._skipping = False
        self._done = False

    def poll(self, *, final: bool = False) -> None:
        """Hand over every complete line written since the last poll (and, when ``final``, a last
        unterminated one), then stop following the file if ``final``."""
        if self._done:
            return
        if self._fh is None:
            try:
                self._fh = open_untrusted(self._path)  # kept open between polls
            except OSError:
                self._done = final
                return
        while data := self._fh.read(1 << 20):
            self._split(data)
        if final:
            if self._partial and not self._skipping:
                self._emit(bytes(self._partial))
            self._partial.clear()
            self._fh.close()
            self._fh = None
            self._done = True

    def _split(self, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            end = len(data) if nl < 0 else nl
            if not self._skipping:
                if len(self._partial) + end - pos > MAX_LINE:
                    self._skipping = True
                    self._partial.clear()
                else:
                    self._partial += data[pos:end]
            if nl < 0:
                return
            if not self._skipping:
                self._emit(bytes(self._partial))
            self._partial.clear()
            self._skipping = False
            pos = nl + 1

    def _emit(self, line: bytes) -> None:
        line = line.strip()
        if line:
            parsed = parse_report(line)
            if parsed is not None:
                self._on_report(parsed)
