"""The LLM adapters against the fake OpenAI-compatible server, through the real openai and LangChain clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spec import Price
from agent.errors import LLMBadResponse, LLMBudgetExhausted, LLMRateLimited, LLMTimeout, LLMUnavailable
from agent.llm.base import LLMClient, Message, ToolCall, ToolSpec
from agent.llm.cache import CachingClient, load_recording
from agent.llm.langchain_client import LangChainClient
from agent.llm.openai_client import OpenAIClient
from agent.llm.retry import RetryingClient
from agent.llm.usage import MeteredClient, UsageMeter
from tests.fake_openai import FakeOpenAI, hang, status, text, tool

TOOLS = [
    ToolSpec(
        name="run_trials",
        description="run configurations",
        parameters={"type": "object", "properties": {"x": {"type": "number"}}},
    )
]
ASK = [Message(role="system", content="be brief"), Message(role="user", content="propose x")]


def openai_client(server: FakeOpenAI, timeout: float = 5.0) -> LLMClient:
    return OpenAIClient(model="fake-model", base_url=server.base_url, api_key="dummy-key-123", timeout=timeout)


def langchain_client(server: FakeOpenAI, timeout: float = 5.0) -> LLMClient:
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(
        model="fake-model",
        base_url=server.base_url,
        api_key="dummy-key-123",  # type: ignore[arg-type]
        max_retries=0,
        timeout=timeout,
    )
    return LangChainClient(chat)


CLIENTS = [openai_client, langchain_client]


@pytest.mark.parametrize("make", CLIENTS)
def test_tool_call_round_trip(make: Any) -> None:
    with FakeOpenAI([tool("run_trials", {"x": 0.5})]) as server:
        client = make(server)
        c = client.complete(ASK, TOOLS)
        assert c.tool_calls[0].name == "run_trials" and c.tool_calls[0].arguments == {"x": 0.5}
        assert c.usage.prompt_tokens == 100 and c.usage.completion_tokens == 20
        # the conversation goes back with the call and its result
        follow = [
            *ASK,
            Message(role="assistant", tool_calls=c.tool_calls),
            Message(role="tool", tool_call_id=c.tool_calls[0].id, content="ok"),
        ]
        client.complete(follow, TOOLS)
        sent = server.requests[1]["messages"]
        assert sent[2]["tool_calls"][0]["function"]["name"] == "run_trials" and sent[3]["role"] == "tool"
        assert server.requests[0]["tools"][0]["function"]["name"] == "run_trials"
        assert server.headers[0]["authorization"] == "Bearer dummy-key-123"


@pytest.mark.parametrize("make", CLIENTS)
def test_malformed_arguments_become_a_tool_call_with_an_error(make: Any) -> None:
    with FakeOpenAI([tool("run_trials", '{"x": 0.5,')]) as server:
        c = make(server).complete(ASK, TOOLS)
    call = c.tool_calls[0]
    assert call.name == "run_trials" and call.arguments is None and call.error
    assert call.raw_arguments == '{"x": 0.5,'


@pytest.mark.parametrize("make", CLIENTS)
def test_prose_without_tool_call(make: Any) -> None:
    with FakeOpenAI([text("I think x should be 0.5")]) as server:
        c = make(server).complete(ASK, TOOLS)
    assert c.text == "I think x should be 0.5" and c.tool_calls == []


@pytest.mark.parametrize("make", CLIENTS)
@pytest.mark.parametrize(
    ("code", "error"),
    [
        (429, LLMRateLimited),
        (500, LLMUnavailable),
        (503, LLMUnavailable),
        (400, LLMBadResponse),
        (401, LLMUnavailable),
        (404, LLMUnavailable),
    ],
)
def test_http_errors_are_ours(make: Any, code: int, error: type[Exception]) -> None:
    with FakeOpenAI([status(code)]) as server, pytest.raises(error):
        make(server).complete(ASK, TOOLS)


@pytest.mark.parametrize("make", CLIENTS)
def test_timeout_is_ours(make: Any) -> None:
    with FakeOpenAI([hang(3.0)]) as server, pytest.raises(LLMTimeout):
        make(server, timeout=0.3).complete(ASK, TOOLS)


def test_connection_refused_is_unavailable() -> None:
    client = OpenAIClient(model="m", base_url="http://127.0.0.1:9/v1", timeout=2)
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        client.complete(ASK, TOOLS)


@pytest.mark.parametrize("make", CLIENTS)
def test_retry_429_then_success_waits_retry_after(make: Any) -> None:
    waits: list[float] = []
    with FakeOpenAI([status(429, retry_after=0.2), status(500), tool("run_trials", {"x": 1})]) as server:
        client = RetryingClient(make(server), retries=3, backoff=0.01, sleep=waits.append)
        c = client.complete(ASK, TOOLS)
    assert c.tool_calls[0].arguments == {"x": 1}
    assert len(waits) == 2 and waits[0] >= 0.2 and waits[1] == pytest.approx(0.02)


def test_retries_give_up_and_bad_responses_are_not_retried() -> None:
    waits: list[float] = []
    with FakeOpenAI([], then=status(500)) as server:
        with pytest.raises(LLMUnavailable):
            RetryingClient(openai_client(server), retries=2, backoff=0.01, sleep=waits.append).complete(ASK)
        assert len(server.requests) == 3
    with FakeOpenAI([], then=status(400)) as server:
        with pytest.raises(LLMBadResponse):
            RetryingClient(openai_client(server), retries=2, sleep=waits.append).complete(ASK)
        assert len(server.requests) == 1


def test_cache_records_and_replays_answers_and_failures(tmp_path: Path) -> None:
    with FakeOpenAI([tool("run_trials", {"x": 1}), status(500), text("bye")]) as server:
        rec = CachingClient(openai_client(server))
        first = rec.complete(ASK, TOOLS)
        rec.record_to(tmp_path)  # calls before the folder existed are written too
        with pytest.raises(LLMUnavailable):
            rec.complete(ASK, TOOLS)
        last = rec.complete([Message(role="user", content="and now?")])
        rec.close()
    entries = load_recording(tmp_path)
    assert [("error" in e) for e in entries] == [False, True, False]
    replay = CachingClient(replay=entries)
    assert replay.complete(ASK, TOOLS) == first
    with pytest.raises(LLMUnavailable):
        replay.complete(ASK, TOOLS)
    assert replay.complete([Message(role="user", content="and now?")]) == last
    assert replay.mismatches == 0
    with pytest.raises(LLMUnavailable, match="no more answers"):
        replay.complete(ASK, TOOLS)


def test_replay_of_a_changed_request_keeps_the_recorded_order() -> None:
    rec = [{"seq": 0, "key": "a", "completion": {"text": "one"}}, {"seq": 1, "key": "b", "completion": {"text": "two"}}]
    replay = CachingClient(replay=rec)
    assert replay.complete([Message(role="user", content="different")]).text == "one"
    assert replay.mismatches == 1


def test_metered_client_counts_prices_and_stops_at_budget() -> None:
    seen: list[dict[str, Any]] = []
    with FakeOpenAI([], then=text("ok")) as server:
        meter = UsageMeter(
            prices={"fake-model": Price(prompt=1.0, completion=2.0)}, max_tokens=200, on_change=seen.append
        )
        client = MeteredClient(openai_client(server), meter)
        client.complete(ASK)
        client.complete(ASK)
        with pytest.raises(LLMBudgetExhausted, match="token budget"):
            client.complete(ASK)
        assert len(server.requests) == 2
    assert seen[-1]["total_tokens"] == 240 and seen[-1]["calls"] == 2
    assert seen[-1]["cost"] == pytest.approx((200 * 1.0 + 40 * 2.0) / 1e6)


def test_unknown_price_is_flagged_and_missing_usage_estimated() -> None:
    from agent.llm.base import Completion
    from agent.llm.scripted import ScriptedClient

    meter = UsageMeter()
    MeteredClient(ScriptedClient([Completion(text="hello there")], model="local-llama"), meter).complete(ASK)
    t = meter.snapshot()
    assert t["prompt_tokens"] > 0 and t["estimated_calls"] == 1 and t["cost_known"] is False and t["cost"] == 0


def test_toolcall_error_shape_is_stable() -> None:
    call = ToolCall(id="1", name="x", raw_arguments="{", error="bad")
    assert call.arguments is None


def test_error_messages_never_carry_a_key() -> None:
    from agent.llm.translate import translate

    class APIError(Exception):
        status_code = 500

    APIError.__module__ = "openai"
    mapped = translate(APIError("upstream said: bad key sk-proj-abcdefghijklmnopqrstuvwx"))
    assert mapped is not None and "sk-proj" not in str(mapped) and "[redacted]" in str(mapped)
