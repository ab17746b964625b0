"""LLM clients behind one seam (``LLMClient``): OpenAI SDK, LangChain chat models, scripted fake, cache,
retry, usage and settings.

Imports only ``agent.errors`` and ``agent.core`` (and the SDKs, translated at the adapters); only
``agent.hybrid`` and ``agent.faces`` (and evals/) import it.
"""

from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec, Usage

__all__ = ["Completion", "LLMClient", "Message", "ToolCall", "ToolSpec", "Usage"]
