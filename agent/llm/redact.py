"""Keep secrets out of prompts: a last line of defence at the ``LLMClient`` seam.

Prompts are built from data that tunesmith does not control (trial output, training scripts), so
before a request leaves, ``RedactingClient`` replaces the value of every secret-looking environment
variable (the same names the trial sandbox scrubs: ``*KEY*``, ``*TOKEN*``, ``*SECRET*`` ...), the
configured API key, and strings shaped like common API keys with ``[redacted]``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agent.llm.base import Completion, LLMClient, Message, ToolSpec
from sandbox.envscrub import SECRET_WORDS

REDACTED = "[redacted]"
#: shapes of well-known API keys (OpenAI, Anthropic, GitHub, Hugging Face, AWS access key ids, Slack)
KEY_PATTERN = re.compile(
    r"\b(?:sk-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,})\b"
)
MIN_SECRET_LEN = 6


def secret_values(environ: Mapping[str, str] | None = None, extra: Iterable[str | None] = ()) -> list[str]:
    """Values to redact: secret-looking variables of ``environ`` (default ``os.environ``) and ``extra``."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if any(w in k.upper() for w in SECRET_WORDS)}
    values.update(v for v in extra if v)
    # Longest first, so a secret containing another is replaced whole.
    return sorted((v for v in values if len(v) >= MIN_SECRET_LEN), key=len, reverse=True)


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return KEY_PATTERN.sub(REDACTED, value)

    def message(self, m: Message) -> Message:
        update: dict[str, Any] = {}
        if m.content:
            clean = self.text(m.content)
            if clean != m.content:
                update["content"] = clean
        if m.tool_calls:
            calls = []
            for c in m.tool_calls:
                raw = self.text(c.raw_arguments) if c.raw_arguments else c.raw_arguments
                calls.append(c.model_copy(update={"raw_arguments": raw}) if raw != c.raw_arguments else c)
            update["tool_calls"] = calls
        return m.model_copy(update=update) if update else m


class RedactingClient(LLMClient):
    def __init__(self, inner: LLMClient, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor
        self.model = inner.model

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSpec] = (), **kw: Any) -> Completion:
        return self.inner.complete([self.redactor.message(m) for m in messages], tools, **kw)

    def close(self) -> None:
        self.inner.close()
