"""Durations as people write them in specs and read them in output: ``"90s"``, ``"2m"``, ``"1h30m"`` <-> seconds."""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"1.5h"``, ``"1h30m"`` (what ``duration_text`` writes);
    ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a duration must be seconds or a string like '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).lower()
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)\s*([a-z]*)\s*", text)
        parts = re.findall(r"([0-9]+)(d|h|m|s)", text) if re.fullmatch(r"(?:[0-9]+[dhms]){2,4}", text) else []
        if parts and len({unit for _, unit in parts}) == len(parts):
            seconds = sum(float(n) * _UNITS[unit] for n, unit in parts)  # 1h30m, 2m05s
        elif not m or (m.group(2) and m.group(2) not in _UNITS):
            raise ValueError(f"cannot read duration {value!r}; write seconds or e.g. '30s', '10m', '2h'")
        else:
            seconds = float(m.group(1)) * _UNITS.get(m.group(2) or "s", 1.0)
    if seconds <= 0:
        raise ValueError(f"a duration must be > 0, got {value!r}")
    return seconds


def duration_text(seconds: float) -> str:
    """Seconds as a person writes them, the inverse of ``parse_duration`` for whole seconds: ``0.4s``,
    ``12.3s``, ``90`` -> ``1m30s``, ``120`` -> ``2m``, ``5400`` -> ``1h30m``, ``172800`` -> ``2d``. Under a
    minute to a tenth of a second; from an hour on, to the minute."""
    if seconds < 1:
        return f"{seconds:.2g}s"
    if seconds < 59.95:
        return f"{seconds:.1f}".removesuffix(".0") + "s"
    total = round(seconds) if seconds < 3600 else 60 * round(seconds / 60)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d" + (f"{hours}h" if hours else "") + (f"{minutes:02d}m" if minutes else "")
    if hours:
        return f"{hours}h" + (f"{minutes:02d}m" if minutes else "")
    return f"{minutes}m" + (f"{secs:02d}s" if secs else "")
