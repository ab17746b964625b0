"""The ``Tool`` seam: a name, a one-sentence description, a pydantic arguments model, and a call.

``Tool.invoke(arguments)`` never raises for the model's mistakes: arguments that do not fit the model,
an unknown trial, an invalid configuration all come back as a ``ToolResult`` with ``mistake`` set
(a short kind) and ``content`` saying what was wrong, for the model to read and correct. Exceptions
from our own code propagate (they are bugs).
"""

from __future__ import annotations

import abc
import copy
import functools
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from tools.protocol import StudyActions


class Args(BaseModel):
    """Base of every tool's arguments: unknown keys are refused (a model cannot smuggle in a 'command')."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ToolResult:
    content: str  # what the model reads (compact JSON or one line)
    data: Any = None  # the same, structured, for programs (chat, web, tests)
    mistake: str | None = None  # kind of model mistake, None when the call was fine
    done: bool = False  # the model declared the study finished

    @classmethod
    def of(cls, data: Any, **kw: Any) -> ToolResult:
        return cls(content=json.dumps(data, separators=(",", ":"), default=str), data=data, **kw)

    @classmethod
    def error(cls, kind: str, message: str) -> ToolResult:
        return cls(content=json.dumps({"error": message}), data={"error": message}, mistake=kind)


def compact_schema(node: Any) -> Any:
    """A JSON schema with what a model does not need removed: titles, ``default: null``, and the
    ``anyOf [X, null]`` of optional fields (absent means null). Tool schemas are resent with every proposal
    request, so their size is money; what they allow is unchanged (the arguments are validated here)."""
    if isinstance(node, list):
        return [compact_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        out[key] = compact_schema(value) if key != "properties" else {k: compact_schema(v) for k, v in value.items()}
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
        other = next(o for o in options if o != {"type": "null"})
        del out["anyOf"]
        out = {**other, **out}
    return out


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return dict(compact_schema(model.model_json_schema()))


def validation_problems(exc: ValidationError, limit: int = 5) -> str:
    """A compact, one-line list of what is wrong with the arguments."""
    parts = []
    for e in exc.errors(include_url=False)[:limit]:
        where = ".".join(str(p) for p in e.get("loc", ())) or "arguments"
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "; ".join(parts)


class Tool(abc.ABC):
    """One action the model may take: a ``name``, a ``description``, a pydantic ``args`` model (its JSON
    schema is what the model sees) and ``run``. ``invoke`` never raises for the model's mistakes: bad
    arguments come back as a ``ToolResult.error`` observation."""

    name: ClassVar[str]
    description: ClassVar[str]
    args: ClassVar[type[Args]]

    def __init__(self, actions: StudyActions) -> None:
        self.actions = actions

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments, as the model sees it."""
        return copy.deepcopy(_schema(self.args))

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters()}

    def invoke(self, arguments: dict[str, Any]) -> ToolResult:
        try:
            args = self.args.model_validate(arguments)
        except ValidationError as exc:
            return ToolResult.error("bad_arguments", f"{self.name}: {validation_problems(exc)}; see the tool's schema")
        return self.run(args)

    @abc.abstractmethod
    def run(self, args: Any) -> ToolResult:
        """Do the work with validated ``args``."""
