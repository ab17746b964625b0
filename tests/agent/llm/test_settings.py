"""Where the LLM settings come from, and that the key stays a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.spec import load_spec
from agent.errors import LLMUnavailable, SpecError
from agent.llm.factory import build_stack
from agent.llm.settings import LLMSettings, resolve_settings


def test_nothing_configured(tmp_path: Path) -> None:
    s = resolve_settings(environ={}, config=tmp_path / "none.toml")
    assert not s.configured and s.model is None
    with pytest.raises(LLMUnavailable, match="OPENAI_BASE_URL"):
        build_stack(s)


def test_environment_and_defaults(tmp_path: Path) -> None:
    s = resolve_settings(environ={"OPENAI_API_KEY": "sk-x"}, config=tmp_path / "none.toml")
    assert s.configured and s.model == "gpt-4o-mini" and s.base_url is None
    s = resolve_settings(
        environ={"OPENAI_BASE_URL": "http://localhost:11434/v1", "TUNESMITH_MODEL": "llama3.1"},
        config=tmp_path / "none.toml",
    )
    assert s.base_url == "http://localhost:11434/v1" and s.model == "llama3.1" and s.api_key is None


def test_precedence_flag_spec_env_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[llm]\nmodel = "from-config"\nbase_url = "http://cfg/v1"\napi_key = "sk-config-key"\ntimeout = 9\n'
        '[llm.prices."from-config"]\nprompt = 1.0\ncompletion = 2.0\n'
    )
    s = resolve_settings(environ={}, config=cfg)
    assert (s.model, s.base_url, s.timeout) == ("from-config", "http://cfg/v1", 9)
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-config-key"
    assert s.prices["from-config"].completion == 2.0
    s = resolve_settings(environ={"TUNESMITH_MODEL": "from-env", "OPENAI_API_KEY": "sk-env"}, config=cfg)
    assert s.model == "from-env" and s.api_key.get_secret_value() == "sk-env"  # type: ignore[union-attr]
    spec = load_spec(
        {
            "objective": {"metric": "y", "direction": "maximize"},
            "function": "m:f",
            "space": {"x": {"low": 0.0, "high": 1.0}},
            "llm": {"model": "from-spec", "timeout": "2m"},
        }
    )
    s = resolve_settings(environ={"TUNESMITH_MODEL": "from-env"}, config=cfg, spec_llm=spec.llm)
    assert s.model == "from-spec" and s.timeout == 120
    s = resolve_settings(model="from-flag", environ={"TUNESMITH_MODEL": "from-env"}, config=cfg, spec_llm=spec.llm)
    assert s.model == "from-flag"


def test_key_is_never_printed_or_stored() -> None:
    s = LLMSettings(model="m", api_key="sk-hidden-value-123")  # type: ignore[arg-type]
    assert "sk-hidden" not in repr(s) and "sk-hidden" not in str(s.public()) and "sk-hidden" not in s.model_dump_json()


def test_a_spec_refuses_keys_and_bad_urls() -> None:
    base = {
        "objective": {"metric": "y", "direction": "maximize"},
        "function": "m:f",
        "space": {"x": {"low": 0.0, "high": 1.0}},
    }
    with pytest.raises(SpecError, match="never put an API key in a spec"):
        load_spec({**base, "llm": {"api_key": "sk-123"}})
    with pytest.raises(SpecError, match="must start with http"):
        load_spec({**base, "llm": {"base_url": "localhost:8000"}})
    with pytest.raises(SpecError, match="did you mean 'share'"):
        load_spec({**base, "llm": {"shar": 0.5}})
    assert load_spec(base).to_dict().get("llm") is None  # classical specs are unchanged


def test_broken_config_file_says_where(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[llm\nmodel = 1")
    with pytest.raises(SpecError, match=r"config\.toml: cannot read it"):
        resolve_settings(environ={}, config=cfg)
