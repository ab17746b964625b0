"""Where tunesmith finds its LLM: command-line flags, the study spec, the environment, a config file.

Precedence, first found wins:

=============  ==========================================================================================
setting        sources
=============  ==========================================================================================
model          ``--model`` · spec ``llm.model`` · ``TUNESMITH_MODEL``/``OPENAI_MODEL`` · config ``model`` ·
               ``gpt-4o-mini`` when talking to OpenAI itself (no base URL)
base URL       ``base_url=`` (Python callers) · spec ``llm.base_url`` · ``OPENAI_BASE_URL`` · config ``base_url``
API key        ``OPENAI_API_KEY`` · config ``api_key`` (or the variable named by ``api_key_env``)
=============  ==========================================================================================

The config file is ``$TUNESMITH_CONFIG`` or ``~/.config/tunesmith/config.toml``, with an ``[llm]`` table
(``model``, ``base_url``, ``api_key``, ``api_key_env``, ``timeout``, ``retries``, ``[llm.prices.NAME]``).
An endpoint is *configured* when a base URL or an API key is known. The API key is a ``SecretStr``: it
goes to the SDK and nowhere else (not the spec, the store, prompts, logs, or trial environments).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agent.core.spec import Price
from agent.errors import SpecError

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
CONFIG_ENV = "TUNESMITH_CONFIG"
MODEL_ENVS = ("TUNESMITH_MODEL", "OPENAI_MODEL")

HOW_TO_CONNECT = (
    "to connect one, set OPENAI_BASE_URL (any OpenAI-compatible server: vLLM, Ollama, llama.cpp, LM Studio; "
    "e.g. http://localhost:11434/v1) and/or OPENAI_API_KEY (OpenAI itself), and pick the model with --model "
    "NAME (or TUNESMITH_MODEL); or write them under [llm] in ~/.config/tunesmith/config.toml"
)


class LLMSettings(BaseModel):
    model_config = ConfigDict(frozen=True)
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=3, ge=0)
    backoff: float = Field(default=1.0, ge=0)
    temperature: float | None = 0.0
    prices: dict[str, Price] = Field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.base_url is not None or self.api_key is not None

    def public(self) -> dict[str, Any]:
        """What may be stored with a study: everything but the key."""
        return {"model": self.model, "base_url": self.base_url}

    def study_section(self) -> dict[str, Any]:
        """The ``llm:`` section of a spec drafted with these settings: the model and endpoint, and the configured
        timeout, retries and prices (so the study keeps them on resume); never the key."""
        section: dict[str, Any] = {**self.public(), "timeout": self.timeout, "retries": self.retries}
        if self.prices:
            section["prices"] = {name: price.model_dump() for name, price in self.prices.items()}
        return section


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    return Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "tunesmith" / "config.toml"


def read_config(path: Path) -> dict[str, Any]:
    """The ``[llm]`` table of the config file ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"config file {path}: cannot read it ({exc}); fix the TOML syntax") from None
    llm = data.get("llm", {})
    if not isinstance(llm, dict):
        raise SpecError(f"config file {path}: [llm] must be a table")
    return llm


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def resolve_settings(
    *,
    model: str | None = None,
    base_url: str | None = None,
    spec_llm: Any = None,
    environ: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> LLMSettings:
    """Settings from every source (module docstring); ``spec_llm`` is the spec's ``llm`` section or None."""
    env = os.environ if environ is None else environ
    path = config or config_path(env)
    cfg = read_config(path)
    key_env = str(cfg.get("api_key_env") or "OPENAI_API_KEY")
    url = _first(base_url, getattr(spec_llm, "base_url", None), env.get("OPENAI_BASE_URL"), cfg.get("base_url"))
    key = _first(env.get("OPENAI_API_KEY"), env.get(key_env), cfg.get("api_key"))
    name = _first(model, getattr(spec_llm, "model", None), *(env.get(e) for e in MODEL_ENVS), cfg.get("model"))
    if name is None and url is None and key is not None:
        name = DEFAULT_OPENAI_MODEL
    prices = {**{k: v for k, v in (cfg.get("prices") or {}).items()}, **(getattr(spec_llm, "prices", None) or {})}
    try:
        return LLMSettings(
            model=name,
            base_url=url,
            api_key=SecretStr(str(key)) if key else None,
            timeout=_first(getattr(spec_llm, "timeout", None), cfg.get("timeout"), 60.0),
            retries=_first(getattr(spec_llm, "retries", None), cfg.get("retries"), 3),
            temperature=getattr(spec_llm, "temperature", 0.0) if spec_llm is not None else cfg.get("temperature", 0.0),
            prices=prices,
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SpecError(f"LLM settings: {where}: {first.get('msg')}; fix {path} or the spec's llm section") from None
