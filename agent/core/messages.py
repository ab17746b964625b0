"""Turn a pydantic ``ValidationError`` into the one-line, fix-it message a user sees."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError


def _loc_text(loc: Iterable[Any], prefix: str) -> str:
    parts = [str(p) for p in loc if p not in ("params",) and not str(p).startswith("function-")]
    # Discriminated unions add the tag ('float', 'int', 'categorical') to the location; drop it.
    parts = [p for p in parts if p not in ("float", "int", "categorical")]
    return ".".join([prefix, *parts]) if prefix else ".".join(parts)


def single_line(text: str) -> str:
    """``text`` with line breaks written as ``\\n``: keys and values from bad input can hold them."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def one_line(exc: ValidationError, *, prefix: str = "", model: type[BaseModel] | None = None) -> str:
    """The first error of ``exc`` as ``<field path>: <what is wrong and how to fix it>``, on one line."""
    return single_line(_first_error(exc, prefix=prefix, model=model))


def _first_error(exc: ValidationError, *, prefix: str, model: type[BaseModel] | None) -> str:
    errors = exc.errors(include_url=False)
    # An unknown key explains a 'missing' one next to it ('lo' for 'low'), so it goes first.
    err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    loc = list(err.get("loc", ()))
    where = _loc_text(loc, prefix) or prefix or "spec"
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(model, loc[:-1])
        hint = difflib.get_close_matches(key, allowed, n=1) if allowed else []
        fix = (
            f"did you mean '{hint[0]}'?"
            if hint
            else (f"allowed keys: {', '.join(allowed)}" if allowed else "remove it")
        )
        return f"{where}: unknown key '{key}'; {fix}"
    if kind == "missing":
        return f"{where}: required but missing; add it to the spec"
    if kind == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag", ""))
        return f"{where}: unknown parameter type '{tag}'; {_did_you_mean(tag, _PARAM_TYPES)}"
    if kind == "union_tag_not_found":
        return f"{where}: parameter needs a type (float, int or categorical) or low/high or choices"
    fixed = _with_fix(kind, err, where)
    if fixed is not None:
        return fixed
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{where}: {msg}"


_PARAM_TYPES = ["float", "int", "categorical"]
_BOUNDS = {
    "greater_than_equal": ("ge", ">=", "of at least"),
    "greater_than": ("gt", ">", "above"),
    "less_than_equal": ("le", "<=", "of at most"),
    "less_than": ("lt", "<", "below"),
}
#: What else a bad value of these fields may be (besides a number in range).
_FIELD_HINTS = {"max_trials": " (or null for no limit)", "broken_setup_after": " (0 never stops)"}


def _did_you_mean(word: str, allowed: list[str]) -> str:
    """``did you mean 'x'? (use one of: ...)`` or, with nothing close, ``use one of: ...``."""
    hint = difflib.get_close_matches(word.lower(), allowed, n=1, cutoff=0.6)
    listed = f"use one of: {', '.join(allowed)}"
    return f"did you mean '{hint[0]}'? ({listed})" if hint else listed


def _with_fix(kind: str, err: Any, where: str) -> str | None:
    """The fix-it line for a plain type or range error (pydantic's own text says what, not how to fix)."""
    ctx = err.get("ctx") or {}
    value = err.get("input")
    field = str(err.get("loc", ("",))[-1]) if err.get("loc") else ""
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if allowed:
            return f"{where}: {value!r} is not allowed; {_did_you_mean(str(value), allowed)}"
    if kind in _BOUNDS:
        key, op, words = _BOUNDS[kind]
        bound = ctx.get(key)
        return f"{where}: must be {op} {bound}, got {value!r}; use a value {words} {bound}{_FIELD_HINTS.get(field, '')}"
    if kind == "int_from_float":
        fix = "write a whole number"
        if where.startswith("space."):
            fix = "an int parameter needs whole-number bounds; round them, or use type: float for a real range"
        return f"{where}: must be a whole number, got {value!r}; {fix}"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
        return f"{where}: must be a number, got {value!r}; write a number without quotes or units"
    if kind == "list_type" and ".when." in f"{where}.":
        return f"{where}: list the values that activate the parameter, e.g. [{value}]"
    if kind == "dict_type" and where.endswith(".when"):
        return f"{where}: must map a parent parameter to its values, e.g. when: {{kernel: [poly]}}"
    return None


def _allowed_keys(model: type[BaseModel] | None, loc: list[Any]) -> list[str]:
    """Field names (and aliases) of the sub-model at ``loc``, best effort for 'did you mean'."""
    if model is None:
        return []
    if loc and loc[0] == "space":
        from agent.core.space import CategoricalParam, FloatParam, IntParam

        keys = {k for m in (FloatParam, IntParam, CategoricalParam) for k in m.model_fields}
        return sorted(keys | {"min", "max", "values"})
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        current = next(
            (a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)),
            None,
        )
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    names: list[str] = []
    for name, f in current.model_fields.items():
        names.append(name)
        choices = getattr(f.validation_alias, "choices", [])
        names.extend(str(c) for c in choices if c != name)
    return names
