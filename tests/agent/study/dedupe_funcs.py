"""Trials for the functional-hashing tests: ``junk`` never changes what they compute."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import tunesmith
from sandbox.fake import fake_report, fake_should_stop
from sandbox.report import FINGERPRINT_HEX, FINGERPRINT_KEY


def _value(params: dict[str, Any]) -> float:
    return -((float(params["x"]) - 0.3) ** 2)


def in_thread(params: dict[str, Any]) -> None:
    """For the in-process fake executor: a fingerprint first, then five slow steps."""
    digest = hashlib.sha256(repr(float(params["x"])).encode()).hexdigest()[:FINGERPRINT_HEX]
    fake_report(step=0, **{FINGERPRINT_KEY: int(digest, 16)})
    for step in range(1, 6):
        time.sleep(0.05)
        if fake_should_stop():
            return
        fake_report(step=step, y=_value(params) * step / 5)


def in_process(params: dict[str, Any]) -> None:
    """For a real trial process: the trial-side helper reports the fingerprint."""
    tunesmith.fingerprint(repr(float(params["x"])).encode(), step=0)
    for step in range(1, 6):
        time.sleep(0.1)
        tunesmith.report(step=step, y=_value(params) * step / 5)
        if step < 5 and tunesmith.should_stop():
            return
