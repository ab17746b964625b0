"""Translate third-party LLM exceptions (openai SDK, httpx, LangChain providers) into ``agent.errors``.

Only the adapters call this. ``translate`` returns None for exceptions that are not endpoint failures
(a ``TypeError`` from our own code is a bug and must keep propagating).
"""

from __future__ import annotations

from agent.errors import LLMBadResponse, LLMError, LLMRateLimited, LLMTimeout, LLMUnavailable

#: modules whose exceptions mean "the provider failed", whatever their class
_PROVIDER_MODULES = (
    "openai",
    "httpx",
    "httpx2",
    "httpcore",
    "langchain",
    "anthropic",
    "google",
    "ollama",
    "requests",
    "urllib3",
    "aiohttp",
    "mistralai",
    "groq",
    "cohere",
    "boto",
)


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return None if value is None else max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def _short(exc: BaseException, limit: int = 200) -> str:
    from agent.llm.redact import KEY_PATTERN, REDACTED

    # Some servers echo (part of) a bad key in their error; messages end up in events and logs.
    text = KEY_PATTERN.sub(REDACTED, " ".join(str(exc).split())) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def translate(exc: BaseException, *, endpoint: str = "the LLM endpoint") -> LLMError | None:
    """Our ``LLMError`` for a provider exception, or None when ``exc`` is not one."""
    if isinstance(exc, LLMError):
        return exc
    name = type(exc).__name__
    module = type(exc).__module__.split(".")[0]
    provider = any(module == m or module.startswith(m + "_") for m in _PROVIDER_MODULES)
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return LLMTimeout(f"{endpoint} did not answer in time ({_short(exc)}); raise llm.timeout or check the server")
    if status == 429 or "RateLimit" in name:
        return LLMRateLimited(
            f"{endpoint} is rate-limiting us (HTTP 429): {_short(exc)}", retry_after=_retry_after(exc)
        )
    if not provider and not isinstance(exc, ConnectionError | OSError):
        return None
    if status in (401, 403) or "Authentication" in name or "PermissionDenied" in name:
        return LLMUnavailable(f"{endpoint} refused our credentials (HTTP {status}); check OPENAI_API_KEY")
    if status == 404 or "NotFound" in name:
        return LLMUnavailable(
            f"{endpoint} does not know this model or path (HTTP 404): {_short(exc)}; check "
            "--model and OPENAI_BASE_URL (it usually ends in /v1)"
        )
    if isinstance(status, int) and status >= 500:
        return LLMUnavailable(f"{endpoint} failed (HTTP {status}): {_short(exc)}")
    if isinstance(status, int) and 400 <= status < 500:
        return LLMBadResponse(f"{endpoint} rejected the request (HTTP {status}): {_short(exc)}")
    if "Connection" in name or isinstance(exc, ConnectionError | OSError):
        return LLMUnavailable(
            f"cannot reach {endpoint} ({_short(exc)}); is the server running and OPENAI_BASE_URL right?"
        )
    return LLMBadResponse(f"{endpoint} failed: {type(exc).__name__}: {_short(exc)}")
