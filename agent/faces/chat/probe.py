"""Is the chat's LLM endpoint reachable? One cheap request, before a person starts typing to it.

``unreachable(base_url)`` sends ``GET BASE/models`` (served by OpenAI and the OpenAI-compatible servers;
no tokens are spent) without the API key, which goes to the SDK and nowhere else. Any HTTP answer, even
401 or 404, means something is listening there; only a failure to connect or to get an answer in time
counts as unreachable. Proxies from the environment are used the way the SDK uses them.
"""

from __future__ import annotations

import urllib.error
import urllib.request

OPENAI_URL = "https://api.openai.com/v1"
TIMEOUT_S = 3.0


def unreachable(base_url: str | None, *, timeout: float = TIMEOUT_S) -> str | None:
    """None when ``base_url`` (None: OpenAI itself) answers; otherwise one line saying why it does not."""
    base = (base_url or OPENAI_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        return f"{base} is not an http(s) address; fix OPENAI_BASE_URL (e.g. http://localhost:11434/v1)"
    try:
        with urllib.request.urlopen(urllib.request.Request(base + "/models"), timeout=timeout):
            return None
    except urllib.error.HTTPError:
        return None  # it answered (an error status is still an answer)
    except urllib.error.URLError as exc:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
        return f"cannot reach {base} ({reason})"
    except TimeoutError:
        return f"cannot reach {base} (no answer within {timeout:g} s)"
    except (OSError, ValueError) as exc:  # a malformed URL, a reset connection
        return f"cannot reach {base} ({exc})"
