"""What a face may open: the study folders under a root, and the spec files a study can be started from.

The web app never takes a path from a request: studies are named by their folder's name under the root,
specs by their catalog name, and both are looked up here (``resolve_study`` refuses anything that is not
a direct child folder of the root holding a ``study.db``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent.errors import StudyError
from agent.study.folder import is_study

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
BUNDLED_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def list_studies(root: Path) -> list[Path]:
    """Study folders directly under ``root`` (symlinks to elsewhere are not), newest first."""
    if not root.is_dir():
        return []
    base = root.resolve()
    found = [
        p
        for p in base.iterdir()
        if NAME.match(p.name) and not p.is_symlink() and p.is_dir() and is_study(p) and p.resolve().parent == base
    ]
    return sorted(found, key=lambda p: (p / "study.db").stat().st_mtime, reverse=True)


def resolve_study(root: Path, name: str) -> Path:
    """The study folder ``root/name``; StudyError unless ``name`` is a plain folder name holding a study."""
    if not NAME.match(name) or name in (".", ".."):
        raise StudyError(f"{name!r} is not a study name; use a folder name listed under {root}")
    base = root.resolve()
    path = (base / name).resolve()
    if path.parent != base or not is_study(path):
        raise StudyError(f"no study named {name!r} under {base}; the list of studies shows what exists")
    return path


@dataclass(frozen=True)
class SpecEntry:
    name: str
    path: Path


class SpecCatalog:
    """Spec files found in some folders: ``NAME/spec.yaml`` (named NAME) and ``*.yaml`` (named by stem)."""

    def __init__(self, folders: list[Path]) -> None:
        entries: dict[str, SpecEntry] = {}
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*/spec.yaml")) + sorted(folder.glob("*.yaml")):
                name = path.parent.name if path.name == "spec.yaml" else path.stem
                if NAME.match(name) and name not in entries:
                    entries[name] = SpecEntry(name=name, path=path.resolve())
        self.entries = entries

    @classmethod
    def default(cls, extra: list[Path] | None = None) -> SpecCatalog:
        """``extra`` folders, then ./examples, then the examples bundled with tunesmith's source."""
        return cls([*(extra or []), Path.cwd() / "examples", BUNDLED_EXAMPLES])

    def names(self) -> list[str]:
        return list(self.entries)

    def get(self, name: str) -> SpecEntry:
        entry = self.entries.get(name)
        if entry is None:
            known = ", ".join(self.entries) or "none found"
            raise StudyError(f"no spec named {name!r}; choose one of: {known}")
        return entry
