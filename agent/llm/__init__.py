"""LLM clients behind one seam (``LLMClient``): OpenAI SDK, LangChain chat models, scripted fake, cache."""

from agent.llm.base import Completion, LLMClient, Message, ToolCall, ToolSpec, Usage

__all__ = ["Completion", "LLMClient", "Message", "ToolCall", "ToolSpec", "Usage"]
