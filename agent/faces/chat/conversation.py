"""A chat with a study, behind both faces: the terminal REPL and the web page's chat pane.

``send(text)`` yields the answer in chunks (streamed as they come when an LLM writes them). Lines that
start with ``/`` are slash-commands (slash.py) and need no LLM; anything else goes to the assistant (the
LLM with the agent's tools) or, without one, gets one line saying how to connect a model.

Every exchange about a study is also written to its event log as a ``chat`` event, so a person watching
the same study from another face sees what was asked and answered.

A study the model (or a drafted request) proposes to start waits here, in ``pending_start``, until the
person sends /approve; nothing runs before. A *pinned* conversation (the web page's: one per study, shared
by every page showing it) stays with its study: /start and /open answer with a link to the other study.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agent.core.events import ChatTurn
from agent.core.spec import StudySpec, load_spec
from agent.errors import StudyError, TunesmithError
from agent.faces.catalog import SpecCatalog, resolve_study
from agent.faces.chat import approvals, slash, text
from agent.faces.handle import Handles, StudyHandle
from agent.llm.settings import HOW_TO_CONNECT
from agent.study.folder import default_dir, is_study

NO_LLM = (
    f"free text needs an LLM and none is configured; {HOW_TO_CONNECT}; then start 'tunesmith chat' or "
    "'tunesmith serve' again. Slash-commands work without one (/help)"
)
CHAT_EVENT_CHARS = 2000


@dataclass(frozen=True)
class StartProposal:
    """A study proposed to start, waiting for /approve. ``after``: the id of the open study's proposal that
    was waiting then (0: none), so that /approve decides whichever proposal is newest first."""

    spec: StudySpec
    summary: str
    after: int


class Assistant(Protocol):
    """Free-text answers: the LLM with the agent's tools (see agent/faces/chat/assistant.py)."""

    @property
    def label(self) -> str:
        """Which model answers, and where."""
        ...

    def check(self) -> str | None:
        """None when the endpoint answers; else one line saying why not."""
        ...

    def reply(self, conv: Conversation, text: str) -> Iterator[str]: ...


class Conversation:
    def __init__(
        self,
        *,
        root: Path,
        handles: Handles,
        catalog: SpecCatalog,
        handle: StudyHandle | None = None,
        assistant: Assistant | None = None,
        allow_paths: bool = False,
        pinned: bool = False,
    ) -> None:
        """``allow_paths``: whether /open and /start accept file paths (the terminal) or only names under
        ``root`` and in ``catalog`` (the web app, which never takes a path from a request). ``pinned``:
        the conversation stays with its study (module docstring)."""
        self.root = root.expanduser().resolve()
        self.handles = handles
        self.catalog = catalog
        self.handle = handle
        self.assistant = assistant
        self.allow_paths = allow_paths
        self.pinned = pinned
        self.pending_start: StartProposal | None = None

    @property
    def source(self) -> str:
        return self.handles.source

    # -------------------------------------------------------------- studies
    def open(self, name: str) -> StudyHandle:
        """The study ``name``; it becomes this conversation's study unless the conversation is pinned."""
        path = Path(name).expanduser()
        if self.allow_paths and is_study(path):
            handle = self.handles.get(path)
        elif self.allow_paths and (path.exists() or "/" in name):
            raise StudyError(
                f"{path} is not a study folder (no study.db); check the path, or /studies lists "
                f"the studies under {self.root}"
            )
        else:
            handle = self.handles.get(resolve_study(self.root, name))
        if not self.pinned:
            self.handle = handle
        return handle

    @staticmethod
    def link(handle: StudyHandle) -> str:
        """Where the web page shows ``handle``'s study."""
        return f"/#study={handle.dir.name}"

    def load_spec(self, name: str, overrides: dict[str, Any], *, paths: bool = True) -> StudySpec:
        """The spec named ``name`` in the catalog (or, with ``paths`` in the terminal, a spec file) with
        ``overrides`` (strategy, trials, workers, seed) applied."""
        path = Path(name).expanduser()
        if name not in self.catalog.entries and paths and self.allow_paths and path.is_file():
            spec = load_spec(path)
        else:
            spec = load_spec(self.catalog.get(name).path)  # StudyError lists the known names
        if not overrides:
            return spec
        data = spec.to_dict()
        for key, value in overrides.items():
            if key == "trials":
                data.setdefault("budget", {})["max_trials"] = value
            else:
                data[key] = value
        return load_spec(data)

    def start(self, name: str, overrides: dict[str, Any]) -> str:
        """Create a study from a spec (catalog name, or a path in the terminal) and run it in this process."""
        return self.start_spec(self.load_spec(name, overrides))

    def launch(self, spec: StudySpec) -> tuple[StudyHandle, str]:
        """Create a study folder for ``spec`` under the root and run it here; the handle and what happened."""
        handle = self.handles.create(spec, default_dir(spec.name or "study", self.root))
        reply = handle.start_here()
        head = (
            f"started {handle.dir.name} in {handle.dir} (strategy {spec.strategy}, "
            f"{spec.budget.max_trials} trials, {spec.workers} worker(s))"
        )
        return handle, head if reply.ok else f"{head}\nbut it could not run: {reply.message}"

    def start_spec(self, spec: StudySpec) -> str:
        """Start ``spec`` now (the person asked for it): switch to it, or, pinned, answer with its link."""
        handle, message = self.launch(spec)
        if self.pinned:
            return f"{message}\nopen it: {self.link(handle)}"
        self.handle = handle
        return message

    def propose_start(self, spec: StudySpec, notes: Sequence[str] = ()) -> str:
        """Keep ``spec`` waiting for /approve (replacing an earlier one); the text to show the person."""
        waiting = approvals.pending(self.handle) if self.handle is not None and self.handle.writable else None
        summary = text.start_text(spec)
        self.pending_start = StartProposal(spec=spec, summary=summary, after=waiting.id if waiting else 0)
        lines = [f"proposed: {summary}", *(f"note: {n}" for n in notes)]
        lines.append("send /approve to start it or /reject to drop it")
        return "\n".join(lines)

    # ----------------------------------------------------------------- talk
    def send(self, text: str) -> Iterator[str]:
        """The answer to one message, in chunks."""
        text = text.strip()
        if not text:
            return
        chunks: list[str] = []
        if text.startswith("/"):
            answer = slash.run(self, text)
            chunks.append(answer)
            yield answer
        elif self.assistant is None:
            chunks.append(NO_LLM)
            yield NO_LLM
        else:
            try:
                for chunk in self.assistant.reply(self, text):
                    chunks.append(chunk)
                    yield chunk
            except TunesmithError as exc:
                msg = f"the LLM could not answer ({exc}); slash-commands still work (/help)"
                chunks.append(msg)
                yield msg
        self._record(text, "".join(chunks))

    def ask(self, text: str) -> str:
        """The whole answer to one message (for tests and non-streaming callers)."""
        return "".join(self.send(text))

    def _record(self, text: str, answer: str) -> None:
        handle = self.handle
        if handle is None or not handle.writable:
            return
        try:
            handle.store.record(
                ChatTurn(source=self.source, text=text[:CHAT_EVENT_CHARS], reply=answer[:CHAT_EVENT_CHARS])
            )
        except StudyError:
            pass  # a full or read-only disk must not cost the person their answer

    def close(self) -> None:
        """Stop the runs started from this conversation's process (they stay resumable)."""
        self.handles.close()
