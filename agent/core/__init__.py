"""The vocabulary every layer speaks: trial records, the search space (and the one ``config_key``), the
study spec (+ ``Price``) and the fix-it messages for bad input.

No I/O beyond reading a spec file, no Optuna, no LLM: imports only ``agent.errors`` and third-party
validation (pydantic, yaml).
"""
