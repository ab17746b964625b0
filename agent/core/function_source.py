"""Where a spec's ``function: module:fn`` (or ``file.py:fn``) lives, found the way a trial's Python would find
it (the trial's working directory first, then this interpreter's path) and without importing anything: the
user's module may be slow or have side effects."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path


def source_file(function: str, workdir: Path) -> Path | None:
    """The ``.py`` file that defines ``function`` (``module:fn`` or ``file.py:fn``), or None when it cannot be
    found or is not Python source (``function_check`` says why)."""
    module_ref = function.rpartition(":")[0]
    if module_ref.endswith(".py") or "/" in module_ref:
        path = workdir / module_ref
        return path if path.is_file() else None
    found, _ = find_module(module_ref, workdir)
    origin = found.origin if found is not None else None
    return Path(origin) if origin is not None and origin.endswith(".py") else None


def find_module(dotted: str, workdir: Path) -> tuple[ModuleSpec | None, str | None]:
    """The module's spec, found without importing it (parent packages' ``__init__`` included)."""
    parts = dotted.split(".")
    try:
        found = importlib.machinery.PathFinder.find_spec(parts[0], [str(workdir)]) or importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None, None  # a broken finder: let the trial say what is wrong
    if found is None:
        return None, (
            f"function: module '{parts[0]}' not found in workdir {workdir} or on the Python path; fix the module "
            "in function, or install it"
        )
    for i in range(1, len(parts)):
        parent, full = ".".join(parts[:i]), ".".join(parts[: i + 1])
        if parent in sys.modules:  # loaded already (os, for os.path): asking imports nothing new
            try:
                sub = importlib.util.find_spec(full)
            except (ImportError, ValueError):
                return None, None
        elif found.submodule_search_locations is None:
            return None, f"function: '{parent}' is a module, not a package; fix the module in function"
        else:
            sub = importlib.machinery.PathFinder.find_spec(full, list(found.submodule_search_locations))
        if sub is None:
            return None, (
                f"function: module '{full}' not found (no {parts[i]} in {parent}); fix the module in function"
            )
        found = sub
    return found, None
