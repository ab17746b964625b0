"""The LLM as a proposer: the hybrid proposer and its decision loop, what the model sees (prompting, the
task context, the study summary) and may do (the actions behind ``tools/``, space edits that wait for a
person), the adaptive share, the circuit breaker, drafting a spec from a request, and the wiring from
settings to a running hybrid.

May import everything below it (errors, core, strategies, study), ``agent.llm``, ``tools`` and ``prompts``;
never the faces.
"""
