"""JSON encoding shared by the stores, so the fake round-trips values exactly like SQLite does.

NaN and infinities are kept (Python's ``NaN``/``Infinity`` tokens): a training script that reports a
NaN loss is data worth keeping, and pydantic's own JSON dump would turn it into ``null``.
"""

from __future__ import annotations

import json
from typing import Any

from agent.core.records import MetricPoint, Trial


def dumps(value: Any) -> str:
    """Encode a JSON value; TypeError (a caller bug) when it holds something JSON cannot express."""
    return json.dumps(value, allow_nan=True, separators=(",", ":"))


def loads(text: str) -> Any:
    return json.loads(text)


def trial_to_json(trial: Trial) -> str:
    return dumps(trial.model_dump(mode="json"))


def trial_from_json(text: str) -> Trial:
    return Trial.model_validate(loads(text))


def point_values_to_json(point: MetricPoint) -> str:
    return dumps(point.values)
