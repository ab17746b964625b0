"""Imports point one way: tunesmith -> evals -> agent -> {tools, sandbox, prompts}.

tools/, sandbox/ and prompts/ import nothing from the project at run time (imports under
``if TYPE_CHECKING:`` are allowed). A wrong arrow fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tunesmith", "evals", "agent", "tools", "sandbox", "prompts")
ALLOWED = {
    "tunesmith": {"tunesmith", "evals", "agent", "tools", "sandbox", "prompts"},
    "evals": {"evals", "agent", "tools", "sandbox", "prompts"},
    "agent": {"agent", "tools", "sandbox", "prompts"},
    "tools": {"tools"},
    "sandbox": {"sandbox"},
    "prompts": {"prompts"},
}


def _runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) of every import not guarded by ``if TYPE_CHECKING``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If):
            test = node.test
            is_tc = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
            for child in node.body:
                visit(child, guarded or is_tc)
            for child in node.orelse:
                visit(child, guarded)
            return
        if not guarded:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, a.name.split(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((node.lineno, node.module.split(".")[0]))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def violations() -> list[str]:
    bad = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, mod in _runtime_imports(tree):
                if mod in PACKAGES and mod not in ALLOWED[pkg]:
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} ({pkg} may not)")
    return bad


def test_imports_point_one_way() -> None:
    assert violations() == []


def test_the_checker_catches_a_wrong_arrow(tmp_path: Path) -> None:
    tree = ast.parse("import agent.core.spec\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import agent\n")
    assert _runtime_imports(tree)[0] == (1, "agent")
    assert (4, "agent") not in _runtime_imports(tree)


def test_sandbox_imports_only_the_standard_library() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names) | {"sandbox", "ray", "__future__"}
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        for line, mod in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert mod in stdlib, f"{path.name}:{line} imports {mod}; sandbox must run in a bare trial env"
