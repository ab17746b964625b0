"""``CachingClient``: records every LLM answer of a study, and replays them offline.

A recording is ``STUDY/llm_cache.jsonl``, one line per call, in call order::

    {"seq": 0, "key": "<sha256 of the canonical request>", "completion": {...}}
    {"seq": 1, "key": "...", "error": {"type": "LLMUnavailable", "message": "..."}}

Endpoint failures are recorded too (after the retries), because they shape the study: a failure
made the strategy take over at that point, and a replay must do the same.

Replay answers call *i* with the recorded entry whose key equals the request's key, preferring entry
*i*. When no entry matches (a request that differs, e.g. because a trial's result differed), it uses
the next unused entry in call order and counts a ``mismatch``: the decisions are still the recorded
ones. When the recording is used up, it raises ``LLMUnavailable`` and the strategy carries on.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from agent import errors
from agent.errors import LLMError, LLMUnavailable, StudyError
from agent.llm.base import Completion, LLMClient, Message, ToolSpec
from agent.llm.wire import request_json

CACHE_NAME = "llm_cache.jsonl"


def request_key(model: str, messages: Sequence[Message], tools: Sequence[ToolSpec], **options: Any) -> str:
    return hashlib.sha256(request_json(messages, tools, model=model, **options).encode()).hexdigest()


def _error_from(data: dict[str, Any]) -> LLMError:
    cls = getattr(errors, str(data.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, LLMError)):
        cls = LLMError
    message = str(data.get("message", "recorded LLM failure"))
    return cls(message)


def load_recording(path: Path) -> list[dict[str, Any]]:
    """The entries of a recording file, or of ``DIR/llm_cache.jsonl`` when ``path`` is a folder."""
    file = path / CACHE_NAME if path.is_dir() else path
    if not file.is_file():
        raise StudyError(
            f"{path} holds no LLM recording ({CACHE_NAME}); replay needs the folder of a study that ran with an LLM"
        )
    entries = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise StudyError(f"{file}:{n} is not valid JSON; the recording is damaged") from None
    return entries


class CachingClient(LLMClient):
    """``inner`` given: calls it and records (``record``). ``inner`` None: answers from ``replay`` only."""

    def __init__(
        self, inner: LLMClient | None = None, *, replay: list[dict[str, Any]] | None = None, model: str | None = None
    ) -> None:
        if (inner is None) == (replay is None):
            raise ValueError("give either an inner client (record) or a recording (replay)")
        self.inner = inner
        self.model = model or (inner.model if inner is not None else "")
        self._tape = list(replay or [])
        self._used = [False] * len(self._tape)
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.mismatches = 0
        if inner is None and not self.model:
            self.model = next((str(e["completion"].get("model", "")) for e in self._tape if "completion" in e), "")

    @property
    def replaying(self) -> bool:
        return self.inner is None

    def record_to(self, directory: Path) -> None:
        """Start writing to ``directory/llm_cache.jsonl`` (calls made before are written first)."""
        if self.replaying:
            return
        with self._lock:
            self._file = open(directory / CACHE_NAME, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            for entry in self._pending:
                self._file.write(json.dumps(entry) + "\n")
            self._file.flush()
            self._pending.clear()

    def _write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if self._file is None:
                self._pending.append(entry)
            else:
                self._file.write(json.dumps(entry) + "\n")
                self._file.flush()

    def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        tool_choice: str | None = None,
        temperature: float | None = None,
    ) -> Completion:
        key = request_key(self.model, messages, tools, tool_choice=tool_choice, temperature=temperature)
        seq, self._seq = self._seq, self._seq + 1
        if self.inner is None:
            return self._replay(seq, key)
        try:
            completion = self.inner.complete(messages, tools, tool_choice=tool_choice, temperature=temperature)
        except LLMError as exc:
            self._write({"seq": seq, "key": key, "error": {"type": type(exc).__name__, "message": str(exc)}})
            raise
        self._write({"seq": seq, "key": key, "completion": completion.model_dump(mode="json")})
        return completion

    def _replay(self, seq: int, key: str) -> Completion:
        index = None
        if seq < len(self._tape) and not self._used[seq] and self._tape[seq].get("key") == key:
            index = seq
        if index is None:
            index = next((i for i, e in enumerate(self._tape) if not self._used[i] and e.get("key") == key), None)
        if index is None:
            index = next((i for i in range(len(self._tape)) if not self._used[i]), None)
            if index is None:
                raise LLMUnavailable("the replayed recording has no more answers; the classical strategy carries on")
            self.mismatches += 1
        self._used[index] = True
        entry = self._tape[index]
        if "error" in entry:
            raise _error_from(entry["error"])
        return Completion.model_validate(entry["completion"])

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        if self.inner is not None:
            self.inner.close()
