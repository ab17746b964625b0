"""Before a study runs: can the spec's ``function: module:fn`` (or ``file.py:fn``) be found at all?

A misspelt file, module or function name fails every trial the same way, so it is refused before the
first one, like a missing command script (``agent.core.spec.script_problem``). The check imports nothing
(the user's module may be slow or have side effects): it finds the module the way a trial's Python would
(the trial's working directory first, then this interpreter's path) and reads the top-level names of
its source. Only what is certain is reported; a module that builds its names dynamically (``from x
import *``, ``__getattr__``, ``globals()``) is given the benefit of the doubt.
"""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from agent.core.define_by_run import suggested_space
from agent.core.function_source import find_module
from agent.core.spec import StudySpec
from agent.errors import SpecError

_DYNAMIC = {"globals", "locals", "vars", "exec", "setattr", "__getattr__"}
_RELATIVE = "it is relative to workdir, which is relative to the spec file"


def function_problem(spec: StudySpec) -> str | None:
    """Why ``spec.function`` cannot be loaded by a trial (one line with the fix), or None."""
    if not spec.function:
        return None
    workdir = Path(spec.workdir or ".")
    module_ref, _, name = spec.function.rpartition(":")
    if module_ref.endswith(".py") or "/" in module_ref:
        path = workdir / module_ref
        if not path.is_file():
            return f"function: file {module_ref} not found in {workdir}; fix the path in function ({_RELATIVE})"
        return _name_problem(path, module_ref, name) or _suggest_problem(spec, path, name)
    found, problem = find_module(module_ref, workdir)
    if problem is not None:
        return problem
    origin = found.origin if found is not None else None
    if origin is None or not origin.endswith(".py"):
        return None  # built in, compiled or a namespace package: nothing to read
    return _name_problem(Path(origin), module_ref, name) or _suggest_problem(spec, Path(origin), name)


def _suggest_problem(spec: StudySpec, path: Path, name: str) -> str | None:
    """An Optuna objective given its own ``space:`` that suggests a param the space lacks: its
    ``trial.suggest_*`` would fail every trial that reaches it (agent/core/define_by_run.py)."""
    try:
        suggested = suggested_space(path, name)
    except SpecError:
        return None  # not readable before the run: the space given is all there is to go by
    missing = [n for n in suggested or {} if n not in spec.space.names]
    if not missing:
        return None
    return (
        f"function: {name} suggests {', '.join(missing[:4])}, which the spec's space lacks (it has "
        f"{', '.join(spec.space.names[:6])}); add {missing[0]} to space:, or leave space: out to read the space "
        "from the function"
    )


def _name_problem(path: Path, module_ref: str, name: str) -> str | None:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except OSError:
        return None
    except SyntaxError as exc:
        return f"function: {module_ref} does not compile (line {exc.lineno}: {exc.msg}); fix the syntax"
    except ValueError:  # NUL bytes and the like: the trial's own error will say
        return None
    names = _top_level_names(tree)
    if names is None or name in names:
        return None
    hint = difflib.get_close_matches(name, sorted(names), n=1)
    meant = f"; did you mean '{hint[0]}'?" if hint else ""
    return f"function: {module_ref} has no function '{name}'{meant} (fix the name in function)"


def _top_level_names(tree: ast.Module) -> set[str] | None:
    """Names a module binds at import time; None when it may bind others dynamically."""
    if any(isinstance(n, ast.Name) and n.id in _DYNAMIC for n in ast.walk(tree)):
        return None
    binder = _Binder()
    binder.visit(tree)
    return None if binder.star else binder.names


class _Binder(ast.NodeVisitor):
    """Collects the module-level bindings: defs, classes, imports and assigned names (any nesting in
    if/try/with/for), but not what functions, classes, lambdas and comprehensions bind inside."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.star = False

    def _scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.names.add(node.name)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def _skip(self, node: ast.AST) -> None:
        return None

    visit_Lambda = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _skip

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            self.names.add(node.id)

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(a.asname or a.name.split(".")[0] for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.star = self.star or any(a.name == "*" for a in node.names)
        self.names.update(a.asname or a.name for a in node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.names.add(node.name)
        self.generic_visit(node)
