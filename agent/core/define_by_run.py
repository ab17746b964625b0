"""Optuna objectives as they are written (``def objective(trial): lr = trial.suggest_float(...)``): the search
space read from the function's ``trial.suggest_*`` calls, before trial 1, without running it.

An objective is *define-by-run* when its first parameter is named ``trial`` or annotated as a ``Trial``. Its
space is read from its source (``ast``; nothing is imported or run):

* ``suggest_float(name, low, high, *, step=None, log=False)``, ``suggest_int(name, low, high, step=1,
  log=False)``, ``suggest_categorical(name, choices)`` and Optuna's older ``suggest_uniform``,
  ``suggest_loguniform`` and ``suggest_discrete_uniform``. Arguments are literals, or module-level names bound
  to literals (``N_MAX = 128``).
* A call under ``if opt == "sgd":`` / ``elif`` / ``else`` / ``if opt in ("a", "b"):`` (or in ``... if opt ==
  "sgd" else ...``), where ``opt`` holds a categorical param, is active only for those choices (``when:``);
  under any other condition it is taken as always active (its value is then simply unused when the branch is
  not taken).
* ``for i in range(n):`` with ``n`` a literal or an int param, and names built with ``f"n_units_l{i}"``: one
  param per possible ``i``, the ones past the int param's low active only when it is large enough.
* A module-level function the objective hands the trial to (``model = define_model(trial)``) is read too.
* The same name suggested twice (in two branches) must have the same range, as Optuna requires.

Anything else (a computed name, a bound that is a variable) is refused with the file, the line and the fix:
give the space in the spec. ``sandbox/run_function.py`` hands such a function a ``trial`` whose ``suggest_*``
return the trial's params.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.errors import SpecError

_FLOAT = {"suggest_float", "suggest_uniform", "suggest_loguniform", "suggest_discrete_uniform"}
_SUGGEST = _FLOAT | {"suggest_int", "suggest_categorical"}
_FIX = "write it with literals, or give the space in the spec (space:)"
MAX_LOOP = 32  # loop passes read for names built from the loop variable (n_units_l{i})


def takes_trial(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether ``fn`` is written for Optuna (module docstring), by its first parameter."""
    args = [*fn.args.posonlyargs, *fn.args.args]
    if not args:
        return False
    first = args[0]
    annotation = ast.unparse(first.annotation) if first.annotation is not None else ""
    return first.arg == "trial" or annotation.split(".")[-1].strip("'\"") in ("Trial", "BaseTrial", "FrozenTrial")


def find_function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def is_define_by_run(path: Path, name: str) -> bool:
    """Whether the function ``name`` in ``path`` is an Optuna objective (``takes_trial``)."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    fn = find_function(tree, name)
    return fn is not None and takes_trial(fn)


def suggested_space(path: Path, name: str) -> dict[str, Any] | None:
    """The space of the define-by-run function ``name`` in ``path`` (spec format, in the order of the calls),
    or None when it is not one. Raises SpecError (file, line, fix) when a call cannot be read."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None  # function_check says what is wrong with the file
    fn = find_function(tree, name)
    if fn is None or not takes_trial(fn):
        return None
    args = [*fn.args.posonlyargs, *fn.args.args]
    required = len(args) - len(fn.args.defaults) + sum(1 for d in fn.args.kw_defaults if d is None)
    if required > 1:
        raise SpecError(
            f"{path.name}:{fn.lineno}: {name}() needs more arguments than the trial, and each trial calls it with "
            "the trial only: give the others defaults, or load them inside the function"
        )
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n is not fn}
    reader = _Reader(path, args[0].arg, module_constants(tree), helpers=helpers)
    reader.block(fn.body, {})
    for param in reader.space.values():  # a condition every choice meets is none
        when = param.get("when") or {}
        for parent, values in list(when.items()):
            parent_spec = reader.space.get(parent, {})
            if parent_spec.get("type") == "categorical" and all(c in values for c in parent_spec["choices"]):
                del when[parent]
        if not when:
            param.pop("when", None)
    if not reader.space:
        raise SpecError(
            f"{path.name}:{fn.lineno}: {name}({args[0].arg}) calls no {args[0].arg}.suggest_*; suggest its "
            "params there, or give the space in the spec (space:)"
        )
    return reader.space


def module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level ``NAME = literal`` bindings, for bounds written with a name."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return found


Cond = dict[str, list[Any]]


@dataclass
class _Reader:
    """Walks an objective's body in order, carrying the condition (``when``) and the loop variables' values
    that hold at each statement, and adds each ``trial.suggest_*`` call it meets to ``space`` (module
    docstring); ``holds`` remembers which variable holds which categorical param, for later ``if`` tests."""

    path: Path
    trial: str
    constants: dict[str, Any]
    space: dict[str, dict[str, Any]] = field(default_factory=dict)
    holds: dict[str, str] = field(default_factory=dict)  # variable -> the param it holds
    helpers: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)  # top-level defs
    depth: int = 0

    def block(self, body: list[ast.stmt], cond: Cond, loop: dict[str, int] | None = None) -> None:
        for stmt in body:
            self.stmt(stmt, cond, loop or {})

    def stmt(self, node: ast.stmt, cond: Cond, loop: dict[str, int]) -> None:
        if isinstance(node, ast.If):
            then, other = self._branches(node.test)
            self._calls(node.test, cond, loop)
            self.block(node.body, _and(cond, then), loop)
            self.block(node.orelse, _and(cond, other), loop)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            self._calls(node.iter, cond, loop)
            for i, extra in self._range(node.iter):
                bound = {**loop, node.target.id: i} if i is not None else loop
                self.block(node.body, _and(cond, extra), bound)
            self.block(node.orelse, cond, loop)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            return  # a nested function may run any number of times, or never: its suggest calls are not read
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self.stmt(child, cond, loop)
                else:
                    self._calls(child, cond, loop)
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                param = self._suggest_name(node.value, loop)
                if param is not None:
                    self.holds[node.targets[0].id] = param

    def _calls(self, node: ast.AST, cond: Cond, loop: dict[str, int]) -> None:
        """The suggest calls (and helpers handed the trial) in an expression, in order; the branches of
        ``a if opt == "sgd" else b`` under their conditions, as an ``if`` statement's."""
        if isinstance(node, ast.IfExp):
            then, other = self._branches(node.test)
            self._calls(node.test, cond, loop)
            self._calls(node.body, _and(cond, then), loop)
            self._calls(node.orelse, _and(cond, other), loop)
            return
        if self._is_suggest(node):
            assert isinstance(node, ast.Call)
            self._add(node, cond, loop)
        elif isinstance(node, ast.Call):
            self._helper(node, cond)
        for child in ast.iter_child_nodes(node):
            self._calls(child, cond, loop)

    def _helper(self, call: ast.Call, cond: Cond) -> None:
        """``define_model(trial)``: a module-level function handed the trial is read too, under the caller's
        condition (as Optuna's own PyTorch example builds its model)."""
        fn = self.helpers.get(call.func.id) if isinstance(call.func, ast.Name) else None
        if fn is None or self.depth >= 4:
            return
        params = [*fn.args.posonlyargs, *fn.args.args]
        given = [i for i, a in enumerate(call.args) if isinstance(a, ast.Name) and a.id == self.trial]
        given += [i for i, p in enumerate(params) for k in call.keywords if k.arg == p.arg and _is(k.value, self.trial)]
        if not given or given[0] >= len(params):
            return
        inner = _Reader(self.path, params[given[0]].arg, self.constants, self.space, {}, self.helpers, self.depth + 1)
        inner.block(fn.body, cond)

    def _is_suggest(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _SUGGEST
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == self.trial
        )

    def _suggest_name(self, node: ast.AST, loop: dict[str, int]) -> str | None:
        if not self._is_suggest(node):
            return None
        assert isinstance(node, ast.Call)
        return self._name(node, loop)

    def _where(self, node: ast.AST) -> str:
        return f"{self.path.name}:{getattr(node, 'lineno', '?')}"

    def _name(self, call: ast.Call, loop: dict[str, int]) -> str:
        node = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.append(str(piece.value))
                elif (
                    isinstance(piece, ast.FormattedValue)
                    and isinstance(piece.value, ast.Name)
                    and piece.value.id in loop
                    and piece.format_spec is None
                ):
                    parts.append(str(loop[piece.value.id]))
                else:
                    break
            else:
                return "".join(parts)
        raise SpecError(f"{self._where(call)}: {self.trial}.{_attr(call)}'s name is not a literal; {_FIX}")

    def _value(self, node: ast.expr, what: str, call: ast.Call) -> Any:
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.constants[node.id]
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise SpecError(
                f"{self._where(call)}: {self.trial}.{_attr(call)}'s {what} ({ast.unparse(node)}) is not a literal; "
                f"{_FIX}"
            ) from None

    def _args(self, call: ast.Call, names: tuple[str, ...]) -> dict[str, Any]:
        got: dict[str, Any] = {}
        for key, node in zip(names, call.args[1:], strict=False):
            got[key] = self._value(node, key, call)
        for kw in call.keywords:
            if kw.arg is not None and kw.arg != "name":
                got[kw.arg] = self._value(kw.value, kw.arg, call)
        return got

    def _add(self, call: ast.Call, cond: Cond, loop: dict[str, int]) -> None:
        name, method = self._name(call, loop), _attr(call)
        if method == "suggest_categorical":
            choices = self._args(call, ("choices",)).get("choices")
            if not isinstance(choices, list | tuple) or not choices:
                raise SpecError(f"{self._where(call)}: suggest_categorical('{name}') needs a list of choices; {_FIX}")
            param: dict[str, Any] = {"type": "categorical", "choices": list(choices)}
        else:
            shape = ("low", "high", "q") if method == "suggest_discrete_uniform" else ("low", "high", "step", "log")
            got = self._args(call, shape)
            if "low" not in got or "high" not in got:
                raise SpecError(f"{self._where(call)}: {method}('{name}') needs low and high; {_FIX}")
            kind = "int" if method == "suggest_int" else "float"
            param = {"type": kind, "low": got["low"], "high": got["high"]}
            if got.get("log") or method == "suggest_loguniform":
                param["log"] = True
            step = got.get("q", got.get("step"))
            if step is not None and not (kind == "int" and step == 1):
                param["step"] = step
        earlier = self.space.get(name)
        if earlier is not None:
            if {k: v for k, v in earlier.items() if k != "when"} != param:
                raise SpecError(
                    f"{self._where(call)}: '{name}' is suggested twice with different ranges; Optuna refuses that "
                    "too: give it one range, or two names"
                )
            earlier_when = earlier.get("when")
            merged = _or(earlier_when, cond) if earlier_when else None
            if merged:
                earlier["when"] = merged
            else:
                earlier.pop("when", None)
            return
        if cond:
            param["when"] = {k: list(v) for k, v in cond.items()}
        self.space[name] = param

    def _branches(self, test: ast.expr) -> tuple[Cond, Cond]:
        """The condition under which an ``if``'s body and its ``else`` run, where it names a categorical
        param's choices; an empty condition (always) otherwise."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)):
            return {}, {}
        param = self.holds.get(test.left.id)
        spec = self.space.get(param) if param else None
        if param is None or spec is None or spec["type"] != "categorical":
            return {}, {}
        op, right = test.ops[0], test.comparators[0]
        try:
            value = ast.literal_eval(right)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return {}, {}
        if isinstance(op, ast.Eq | ast.NotEq):
            chosen = [value]
        elif isinstance(op, ast.In | ast.NotIn) and isinstance(value, list | tuple | set):
            chosen = list(value)
        else:
            return {}, {}
        inside = [c for c in spec["choices"] if c in chosen]
        outside = [c for c in spec["choices"] if c not in chosen]
        if isinstance(op, ast.NotEq | ast.NotIn):
            inside, outside = outside, inside
        return {param: inside}, {param: outside}

    def _range(self, node: ast.expr) -> list[tuple[int | None, Cond]]:
        """The values a ``for`` loop's variable takes (with the condition for each), for ``range(n)`` with a
        literal or an int param (up to ``MAX_LOOP``); one pass with the variable unknown otherwise (a name
        built from it is then refused)."""
        once: list[tuple[int | None, Cond]] = [(None, {})]
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"):
            return once
        if len(node.args) != 1:
            return once
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id in self.holds:
            param = self.holds[arg.id]
            spec = self.space[param]
            if spec["type"] != "int" or spec.get("step") or spec.get("log") or int(spec["high"]) > MAX_LOOP:
                return once
            low, high = int(spec["low"]), int(spec["high"])
            return [(i, {} if i < low else {param: list(range(i + 1, high + 1))}) for i in range(high)]
        try:
            count = ast.literal_eval(arg) if not isinstance(arg, ast.Name) else self.constants.get(arg.id)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            count = None
        return [(i, {}) for i in range(count)] if isinstance(count, int) and 0 < count <= MAX_LOOP else once


def _is(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _attr(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else "suggest"


def _and(a: Cond, b: Cond) -> Cond:
    out = {k: list(v) for k, v in a.items()}
    for k, v in b.items():
        out[k] = [x for x in out[k] if x in v] if k in out else list(v)
    return out


def _or(a: Cond, b: Cond) -> Cond | None:
    """Active under ``a`` or ``b``: representable when both name the same single parent (values joined)."""
    if not b or set(a) != set(b) or len(a) != 1:
        return None
    (key,) = a
    return {key: [*a[key], *[v for v in b[key] if v not in a[key]]]}
