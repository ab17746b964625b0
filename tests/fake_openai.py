"""A scriptable OpenAI-compatible chat-completions server on 127.0.0.1, for tests through the real clients.

    with FakeOpenAI(script) as server:          # server.base_url ends in /v1
        client = openai.OpenAI(base_url=server.base_url, api_key="dummy", max_retries=0)

``script`` is a list of replies used in order (then ``then`` repeats forever), or a callable
``(request_body, n) -> Reply`` that decides per request. Replies: ``tool(name, args)`` (args a dict, or a
raw string for malformed JSON), ``text("prose")``, ``status(429)``, ``hang(seconds)``. Every request body
and its headers are kept in ``server.requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    hang: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] = (100, 20)


def tool(name: str, args: dict[str, Any] | str, *more: tuple[str, dict[str, Any] | str]) -> Reply:
    return Reply(calls=[(name, args), *more])


def text(content: str) -> Reply:
    return Reply(content=content)


def status(code: int, *, retry_after: float | None = None) -> Reply:
    return Reply(status=code, headers={"retry-after": str(retry_after)} if retry_after is not None else {})


def hang(seconds: float) -> Reply:
    return Reply(hang=seconds)


Script = list[Reply] | Callable[[dict[str, Any], int], Reply]


class FakeOpenAI:
    def __init__(self, script: Script, *, then: Reply | None = None, model: str = "fake-model") -> None:
        self.script = script
        self.then = then or text("done")
        self.model = model
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            n = len(self.requests)
            self.requests.append(body)
        if callable(self.script):
            return self.script(body, n)
        return self.script[n] if n < len(self.script) else self.then

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply = fake._next(body)
                if reply.hang:
                    time.sleep(reply.hang)
                if reply.status != 200:
                    self._send(
                        reply.status,
                        {
                            "error": {
                                "message": f"fake error {reply.status}",
                                "type": "server_error",
                                "code": reply.status,
                            }
                        },
                        reply.headers,
                    )
                    return
                calls = [
                    {
                        "id": f"call_{len(fake.requests)}_{i}",
                        "type": "function",
                        "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
                    }
                    for i, (name, args) in enumerate(reply.calls)
                ]
                message: dict[str, Any] = {"role": "assistant", "content": reply.content}
                if calls:
                    message["tool_calls"] = calls
                p, c = reply.usage
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model") or fake.model,
                        "choices": [
                            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
                        ],
                        "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                    },
                )

        return Handler
