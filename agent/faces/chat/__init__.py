"""Chatting with a study: slash-commands, approvals, the LLM assistant, the terminal REPL."""
