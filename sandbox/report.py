"""The trial-side helper: report metrics from a training script. Standard library only.

    from tunesmith import report          # or: from sandbox.report import report
    for epoch in range(10):
        ...
        report(step=epoch, val_acc=acc, loss=loss)
        if should_stop():                  # tunesmith asked this trial to stop early
            break

Each call appends one JSON line to the file named by ``TUNESMITH_REPORT_FILE`` (inside the trial
folder) and, when no such file is set (the script runs outside tunesmith), prints a
``TUNESMITH_REPORT {json}`` line so the output stays readable. The last value of the objective is the
trial's result unless a report passes ``final=True``.

Stopping: tunesmith stops a trial early by writing the stop file (``TUNESMITH_STOP_FILE``) and sending
SIGTERM at once, then SIGKILL after a grace of about two of the trial's steps. A script that never calls
``should_stop()`` simply dies of the SIGTERM. The first call of ``should_stop()`` (in the main thread,
under tunesmith, while SIGTERM has its default action) installs a SIGTERM handler that only remembers
the signal, so a script that polls finishes its step and stops by itself; when ``should_stop()`` first
returns True it leaves ``<stop file>.seen``, which tells tunesmith that the trial stopped because it
was asked (recorded pruned) rather than having finished its run anyway (recorded complete). At a normal exit
that handler gives way to ignoring SIGTERM, so a stop request that arrives while the process ends cannot turn
its exit 0 into death by signal.

Functional fingerprint: ``fingerprint(outputs)`` reports a hash of what the model computes on a fixed probe
batch, early in training (a report line ``{"_fingerprint": N}``, N the first 52 bits of a SHA-256 as an
integer, exact as a JSON number and a float). A trial whose fingerprint equals a finished trial's computes
the same function: tunesmith stops it at once and records that trial's result for it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from typing import Any

PREFIX = "TUNESMITH_REPORT "
FINGERPRINT_KEY = "_fingerprint"  # the report key of a functional fingerprint (not a metric)
PRUNED_KEY = "_pruned"  # reported by a trial that pruned itself (Optuna's TrialPruned; not a metric)
FINGERPRINT_HEX = 13  # hex digits kept: 52 bits, exact in a float
SEEN_SUFFIX = ".seen"  # appended to the stop file's path: the trial acted on the stop


def _clean(value: Any) -> Any:
    # numpy / torch scalars -> float; NaN and inf survive as strings JSON can carry.
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        f = float(value)
        return f if math.isfinite(f) else repr(f)
    raise TypeError(f"metric values must be numbers, got {type(value).__name__}")


def report(step: int | None = None, *, final: bool = False, **metrics: Any) -> None:
    """Record ``metrics`` (numbers) at ``step``. ``final=True`` marks the trial's result."""
    if not metrics:
        raise ValueError("report() needs at least one metric, e.g. report(step=1, val_acc=0.9)")
    line: dict[str, Any] = {k: _clean(v) for k, v in metrics.items()}
    if step is not None:
        line["step"] = int(step)
    if final:
        line["final"] = True
    line["_t"] = time.time()
    text = json.dumps(line, separators=(",", ":"))
    path = os.environ.get("TUNESMITH_REPORT_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(PREFIX + text + "\n")
        sys.stdout.flush()


class _RememberSigterm:
    """The SIGTERM handler ``should_stop()`` installs: the signal becomes a stop request, not death."""

    tunesmith_stop = True  # how ``should_stop()`` recognises it (also when another copy of this module set it)

    def __init__(self) -> None:
        self.received = False

    def __call__(self, signum: int, frame: object) -> None:
        self.received = True


_acknowledged = False


def _sigterm_handler() -> Any:
    """Our SIGTERM handler (installed now if SIGTERM still has its default action), or None when the
    script has its own or this is not the main thread (signal handlers can be set only there)."""
    current = signal.getsignal(signal.SIGTERM)
    if getattr(current, "tunesmith_stop", False):
        return current
    if current is not signal.SIG_DFL or threading.current_thread() is not threading.main_thread():
        return None
    handler = _RememberSigterm()
    signal.signal(signal.SIGTERM, handler)
    atexit.register(_ignore_sigterm_at_exit, handler)
    return handler


def _ignore_sigterm_at_exit(handler: _RememberSigterm) -> None:
    """At a normal exit, a stop request that comes late must not kill the ending process: Python resets its
    signal handlers to the default action late in finalisation, so a SIGTERM sent just after the script saw
    the stop file and returned (the executor writes the file, then signals) would turn a clean exit 0 into
    death by SIGTERM and the finished trial into a killed one. Ignoring SIGTERM survives finalisation; a hung
    exit still meets the SIGKILL after the grace."""
    if signal.getsignal(signal.SIGTERM) is handler:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def should_stop() -> bool:
    """True once tunesmith has asked this trial to stop: the stop file exists (an early stop), or the
    process got SIGTERM after the first call (an early stop, a timeout, a cancel). Always False outside
    tunesmith. See the module docstring for the SIGTERM handler the first call installs and the
    ``.seen`` file the first True leaves."""
    global _acknowledged
    path = os.environ.get("TUNESMITH_STOP_FILE")
    if not path:
        return False
    handler = _sigterm_handler()
    stop = bool(handler is not None and handler.received) or os.path.exists(path)
    if stop and not _acknowledged:
        _acknowledged = True
        try:
            with open(path + SEEN_SUFFIX, "a", encoding="utf-8"):
                pass
        except OSError:
            pass  # a read-only or full folder: the trial is then recorded as if it had not seen the stop
    return stop


def _fingerprint_bytes(data: Any) -> bytes:
    """The bytes a fingerprint hashes: bytes as they are, arrays with their dtype and shape (``tobytes()``,
    or ``numpy()`` first for a tensor), else the JSON of ``tolist()`` (or of the value itself)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    array = data
    if not hasattr(array, "tobytes") and hasattr(array, "numpy"):  # a torch tensor
        array = array.detach().cpu().numpy() if hasattr(array, "detach") else array.numpy()
    if hasattr(array, "tobytes"):
        head = f"{getattr(array, 'dtype', '')}{tuple(getattr(array, 'shape', ()))}".encode()
        return head + b"\0" + bytes(array.tobytes())
    if hasattr(data, "tolist"):
        data = data.tolist()
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):
        raise TypeError(
            f"fingerprint() needs bytes, an array (tobytes/tolist) or JSON-like data, got {type(data).__name__}"
        ) from None


def fingerprint(data: Any, step: int | None = None) -> str:
    """Report the functional fingerprint of ``data`` (the model's outputs on a fixed probe batch: bytes, a
    numpy array or tensor, or anything with ``tolist()``) and return it as hex. Report it early (after the
    first epoch, or before training): an equivalent trial is stopped as soon as it arrives."""
    digest = hashlib.sha256(_fingerprint_bytes(data)).hexdigest()[:FINGERPRINT_HEX]
    line: dict[str, Any] = {FINGERPRINT_KEY: int(digest, 16)}
    report(step, **line)
    return digest


def params() -> dict[str, Any]:
    """The trial's parameters (from ``TUNESMITH_PARAMS``); empty outside tunesmith."""
    path = os.environ.get("TUNESMITH_PARAMS")
    if not path:
        return {}
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return dict(data)
