"""The hybrid loop against an OpenAI-compatible server that misbehaves, through the real openai and
LangChain clients: each scenario ends with the budget finished, zero invalid configurations executed,
and the right events recorded."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent.llm.base import LLMClient
from agent.llm.factory import build_stack
from agent.llm.langchain_client import LangChainClient
from agent.llm.settings import LLMSettings
from tests.agent.llm.helpers import assert_sound, make_spec, nth_config, run_hybrid
from tests.fake_openai import FakeOpenAI, Reply, hang, status, text, tool

KEY = "sk-test-THIS-KEY-MUST-NEVER-LEAK-0123456789"


class Server:
    """Replies per request: reflections get prose; decision requests get ``bad`` replies first, then good ones."""

    def __init__(self, bad: list[Reply], *, forever: Reply | None = None) -> None:
        self.bad = list(bad)
        self.forever = forever
        self.counter = itertools.count()

    def __call__(self, body: dict[str, Any], n: int) -> Reply:
        if self.forever is not None:
            return self.forever
        if not body.get("tools"):
            return text("Moderate learning rates do best; batches of 256 and more run out of memory.")
        if self.bad:
            return self.bad.pop(0)
        prompt = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        k = int(prompt.rsplit("Propose ", 1)[1].split()[0])
        return tool(
            "run_trials",
            {
                "configs": [
                    {"params": nth_config(next(self.counter)), "rationale": "a moderate learning rate"}
                    for _ in range(k)
                ]
            },
        )


def adapter(kind: str, server: FakeOpenAI, timeout: float) -> LLMClient | None:
    if kind == "openai":
        return None  # the stack builds the OpenAI adapter from the settings
    from langchain_openai import ChatOpenAI

    return LangChainClient(
        ChatOpenAI(
            model="fake-model",
            base_url=server.base_url,
            api_key=KEY,  # type: ignore[arg-type]
            max_retries=0,
            timeout=timeout,
        )
    )


def study(
    kind: str, script: Server, tmp_path: Path, *, timeout: float = 5.0, retries: int = 2, trials: int = 8
) -> tuple[Any, FakeOpenAI]:
    spec = make_spec(budget={"max_trials": trials})
    with FakeOpenAI(script) as server:
        settings = LLMSettings(
            model="fake-model",
            base_url=server.base_url,
            api_key=SecretStr(KEY),
            timeout=timeout,
            retries=retries,
            backoff=0.01,
        )
        stack = build_stack(settings, adapter=adapter(kind, server, timeout))
        store, _, _ = run_hybrid(stack.client, tmp_path, spec=spec, meter=None)
        stack.close()
    assert_sound(store, spec)
    # the key went to the endpoint as a credential only, never into a request body
    assert all(KEY not in json.dumps(body) for body in server.requests)
    assert all(h.get("authorization") == f"Bearer {KEY}" for h in server.headers)
    return store, server


CLIENTS = ["openai", "langchain"]


@pytest.mark.parametrize("kind", CLIENTS)
def test_good_tool_calls(kind: str, tmp_path: Path) -> None:
    store, _ = study(kind, Server([]), tmp_path)
    assert not store.events("fallback") and not store.events("llm_mistake")
    llm = [t for t in store.trials() if t.proposer.value == "llm"]
    assert len(llm) >= 3 and all(t.model == "fake-model" for t in llm)
    assert store.events("reflection")


@pytest.mark.parametrize("kind", CLIENTS)
def test_malformed_json_arguments(kind: str, tmp_path: Path) -> None:
    store, _ = study(kind, Server([tool("run_trials", '{"configs": [{"params": {"lr": 0.01,')] * 3), tmp_path)
    assert [e.data["kind"] for e in store.events("llm_mistake")][:3] == ["malformed_arguments"] * 3
    assert store.events("fallback")[0].data["kind"] == "mistakes"


@pytest.mark.parametrize("kind", CLIENTS)
def test_unknown_tool(kind: str, tmp_path: Path) -> None:
    store, _ = study(kind, Server([tool("delete_files", {"path": "/"})] * 3), tmp_path)
    assert [e.data["kind"] for e in store.events("llm_mistake")][:3] == ["unknown_tool"] * 3
    assert store.events("fallback")[0].data["kind"] == "mistakes"


@pytest.mark.parametrize("kind", CLIENTS)
def test_out_of_range_and_hallucinated_params(kind: str, tmp_path: Path) -> None:
    out_of_range = {"configs": [{"params": {"lr": 3.0, "batch_size": 48, "optimizer": "adam"}, "rationale": "big"}]}
    made_up = {
        "configs": [
            {"params": {"lr": 0.01, "batch_size": 32, "optimizer": "adamw", "warmup": 100}, "rationale": "made up"}
        ]
    }
    store, server = study(kind, Server([tool("run_trials", out_of_range), tool("run_trials", made_up)]), tmp_path)
    details = [e.data["detail"] for e in store.events("llm_mistake")]
    assert len(details) == 2 and "outside" in details[0] and "unknown parameter 'warmup'" in details[1]
    assert not store.events("fallback")
    # the observation went back to the model in the next request
    tool_msgs = [m for m in server.requests[2]["messages"] if m["role"] == "tool"]
    assert tool_msgs and "outside" in tool_msgs[0]["content"]


@pytest.mark.parametrize("kind", CLIENTS)
def test_prose_without_tool_call(kind: str, tmp_path: Path) -> None:
    store, _ = study(kind, Server([text("Let me think about learning rates...")] * 3), tmp_path)
    assert [e.data["kind"] for e in store.events("llm_mistake")][:3] == ["no_tool_call"] * 3
    assert store.events("fallback")[0].data["kind"] == "mistakes"


@pytest.mark.parametrize("kind", CLIENTS)
def test_rate_limited_then_success(kind: str, tmp_path: Path) -> None:
    store, server = study(kind, Server([status(429, retry_after=0.05)]), tmp_path)
    assert not store.events("fallback")
    assert store.trials()[1].proposer.value == "llm"  # the retry got the answer; no slot was lost
    assert len(server.requests) >= 2


@pytest.mark.parametrize("kind", CLIENTS)
def test_500_forever(kind: str, tmp_path: Path) -> None:
    store, server = study(kind, Server([], forever=status(500)), tmp_path, retries=1)
    assert {t.proposer.value for t in store.trials()} == {"default", "strategy"}
    fallbacks = store.events("fallback")
    assert fallbacks and all(f.data["kind"] == "endpoint" for f in fallbacks)
    # the breaker spaces out the attempts: far fewer than one per trial, each retried once
    assert len(server.requests) == 2 * len(fallbacks) and len(fallbacks) <= 3


@pytest.mark.parametrize("kind", CLIENTS)
def test_hang_past_the_timeout(kind: str, tmp_path: Path) -> None:
    store, _ = study(kind, Server([hang(1.5)]), tmp_path, timeout=0.3, retries=0)
    fallback = store.events("fallback")[0]
    assert fallback.data["kind"] == "endpoint" and "in time" in fallback.data["reason"]
    assert any(t.proposer.value == "llm" for t in store.trials())  # it answers again later
