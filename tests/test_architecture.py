"""The house's order, checked: a wrong arrow fails here with the file and line.

Top level: ``tunesmith -> evals -> agent -> {tools, sandbox, prompts}``; tools/, sandbox/ and prompts/ import
nothing from the project at run time (imports under ``if TYPE_CHECKING:`` are allowed there).

Inside ``agent/`` (type-only imports count too: the order is about what a layer knows of):
``errors <- core <- strategies <- study <- hybrid <- faces``; ``llm`` imports only errors, core and itself
and is imported only by hybrid and faces (and outside agent/); only hybrid and faces import ``tools``; no
package imports another package's private ``_module``; only the CLI itself and the ``tunesmith`` facade's
entry points import the CLI (``agent.faces.cli``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
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
#: agent's layers, lowest first; a module may import its own layer and the ones before it.
LAYERS = ("errors", "core", "strategies", "study", "hybrid", "faces")
#: llm sits beside the layers: it needs only errors and core, and only hybrid and faces may use it.
LLM_IMPORTS = {"errors", "core", "llm"}
LLM_USERS = {"llm", "hybrid", "faces"}
TOOLS_USERS = {"hybrid", "faces"}
#: The library never imports the command line; only these files may.
CLI = "agent.faces.cli"
CLI_IMPORTERS = {"tunesmith/cli.py", "tunesmith/__main__.py"}


@dataclass(frozen=True)
class Import:
    line: int
    module: str  # the dotted module imported (``from a.b import c`` gives a.b.c when c is a module)
    type_only: bool  # under ``if TYPE_CHECKING:``


def _imports(tree: ast.AST, root: Path = ROOT) -> list[Import]:
    """Every absolute import in ``tree``, with whether it is type-only."""
    found: list[Import] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If):
            test = node.test
            is_tc = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            )
            for child in node.body:
                visit(child, guarded or is_tc)
            for child in node.orelse:
                visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(node.lineno, a.name, guarded) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                path = root / sub.replace(".", "/")
                is_module = path.with_suffix(".py").is_file() or path.is_dir()
                found.append(Import(node.lineno, sub if is_module else base, guarded))
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return found


def _runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every import not guarded by ``if TYPE_CHECKING``."""
    return [(i.line, i.module.split(".")[0]) for i in _imports(tree) if not i.type_only]


def layer_of(module: str) -> str | None:
    """``agent.study.engine`` -> ``study``; ``agent.errors`` -> ``errors``; None outside agent/."""
    parts = module.split(".")
    if parts[0] != "agent" or len(parts) < 2:
        return None
    return parts[1]


def _package(module: str) -> str:
    return module.rsplit(".", 1)[0]


def check_file(rel: str, tree: ast.AST, root: Path = ROOT) -> list[str]:
    """The wrong arrows of one file (``rel``: its path from the repository root, e.g. agent/core/spec.py)."""
    module = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    pkg = module.split(".")[0]
    own_layer = layer_of(module)
    own_package = module if rel.endswith("__init__.py") else _package(module)
    bad: list[str] = []
    for imp in _imports(tree, root):
        target = imp.module
        top = target.split(".")[0]
        where = f"{rel}:{imp.line} imports {target}"
        if top in PACKAGES and top not in ALLOWED[pkg] and not imp.type_only:
            bad.append(f"{where} ({pkg} may not import {top})")
        leaf = target.split(".")[-1]
        if (
            leaf.startswith("_")
            and not leaf.startswith("__")
            and top in PACKAGES
            and not own_package.startswith(_package(target))
        ):
            bad.append(f"{where} (a private module of another package; import its package's public name)")
        if target.startswith(CLI) and rel not in CLI_IMPORTERS and not module.startswith(CLI):
            bad.append(f"{where} (the library must not import the CLI)")
        if own_layer is None:
            continue
        their = layer_of(target)
        if top == "tools" and own_layer not in TOOLS_USERS:
            bad.append(f"{where} (only hybrid and faces may import tools)")
        if their is None:
            continue
        if own_layer == "llm":
            if their not in LLM_IMPORTS:
                bad.append(f"{where} (llm may import only errors and core)")
        elif their == "llm":
            if own_layer not in LLM_USERS:
                bad.append(f"{where} (only hybrid and faces may import llm)")
        elif own_layer in LAYERS and their in LAYERS and LAYERS.index(their) > LAYERS.index(own_layer):
            bad.append(f"{where} ({own_layer} is below {their})")
        elif their not in LAYERS and their != "llm":
            bad.append(f"{where} (agent.{their} is not a layer; see agent/__init__.py)")
    return bad


def violations(root: Path = ROOT) -> list[str]:
    bad = []
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            bad.extend(check_file(rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel), root))
    return bad


def test_imports_point_one_way() -> None:
    assert violations() == []


def test_agent_root_holds_only_the_layers() -> None:
    loose = sorted(p.name for p in (ROOT / "agent").glob("*.py") if p.name not in ("__init__.py", "errors.py"))
    assert loose == [], f"agent/ holds loose modules {loose}; put each in the package of its role"
    packages = sorted(p.name for p in (ROOT / "agent").iterdir() if (p / "__init__.py").is_file())
    assert set(packages) == set(LAYERS[1:]) | {"llm"}, packages
    for name in packages:
        doc = ast.get_docstring(ast.parse((ROOT / "agent" / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"agent/{name}/__init__.py must say what lives there and what it may import"


def _plant(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir(exist_ok=True)
    return violations(tmp_path)


def test_the_checker_catches_a_wrong_arrow(tmp_path: Path) -> None:
    tree = ast.parse("import agent.core.spec\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import agent\n")
    assert _runtime_imports(tree)[0] == (1, "agent")
    assert (4, "agent") not in _runtime_imports(tree)
    base = {
        "agent/__init__.py": "",
        "agent/errors.py": "",
        "agent/core/__init__.py": "",
        "agent/core/spec.py": "",
        "agent/study/__init__.py": "",
        "agent/study/engine.py": "",
        "agent/study/_private.py": "",
        "agent/llm/__init__.py": "",
        "agent/llm/base.py": "",
        "agent/hybrid/__init__.py": "",
        "agent/faces/__init__.py": "",
        "agent/faces/cli/__init__.py": "",
        "agent/faces/api.py": "",
        "tools/__init__.py": "",
        "evals/__init__.py": "",
        "tunesmith/cli.py": "",
    }
    assert _plant(tmp_path, base) == []
    planted = {
        "agent/core/spec.py": "from agent.study.engine import Engine\n",  # a lower layer imports a higher
        "agent/study/engine.py": "from agent.llm.base import LLMClient\nimport tools\n",  # llm and tools in study
        "agent/llm/base.py": "from agent.study import engine\n",  # llm above core
        "agent/hybrid/__init__.py": "from agent.study._private import x\nimport evals\n",  # private; evals
        "agent/faces/api.py": "from agent.faces.cli import app\n",  # the library calls the CLI
    }
    found = _plant(tmp_path, {**base, **planted})
    expected = [
        "agent/core/spec.py:1 imports agent.study.engine (core is below study)",
        "agent/study/engine.py:1 imports agent.llm.base (only hybrid and faces may import llm)",
        "agent/study/engine.py:2 imports tools (only hybrid and faces may import tools)",
        "agent/llm/base.py:1 imports agent.study.engine (llm may import only errors and core)",
        "agent/hybrid/__init__.py:1 imports agent.study._private (a private module of another package",
        "agent/hybrid/__init__.py:2 imports evals (agent may not import evals)",
        "agent/faces/api.py:1 imports agent.faces.cli (the library must not import the CLI)",
    ]
    for line in expected:
        assert any(f.startswith(line) for f in found), (line, found)
    assert len(found) == len(expected), found


def test_sandbox_imports_only_the_standard_library() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names) | {"sandbox", "ray", "__future__"}
    # a framework's callback (sandbox/integrations/NAME.py) imports that framework, which only the trial's script
    # that imports the callback brings; the supervisor and executors never import integrations
    frameworks = {
        "lightning.py": {"lightning", "pytorch_lightning"},
        "huggingface.py": {"transformers"},
        "keras.py": {"keras", "tensorflow"},
    }
    for path in sorted((ROOT / "sandbox").rglob("*.py")):
        allowed = stdlib | (frameworks.get(path.name, set()) if path.parent.name == "integrations" else set())
        for line, mod in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert mod in allowed, f"{path.name}:{line} imports {mod}; sandbox must run in a bare trial env"
    for path in sorted((ROOT / "sandbox").glob("*.py")):
        assert "integrations" not in path.read_text(encoding="utf-8"), f"{path.name} imports a framework callback"
