"""Turn a pydantic ``ValidationError`` into the one-line, fix-it message a user sees."""

from __future__ import annotations

import difflib
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
        return f"{where}: unknown parameter type; use type: float, int or categorical"
    if kind == "union_tag_not_found":
        return f"{where}: parameter needs a type (float, int or categorical) or low/high or choices"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{where}: {msg}"


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
