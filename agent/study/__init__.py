"""One study folder, run or read: ``Session`` (open/create/run/resume), the ``Engine`` loop and its hooks,
the study's typed state (space, budget, spec: one owner), the ``TrialStore`` (SQLite + fake), proposers and
the proposal queue, trial outcomes, steering (pause/resume/stop/budget across processes), pruning schedulers,
GPU slots, export and the executor wiring.

May import ``agent.errors``, ``agent.core``, ``agent.strategies`` and ``sandbox``; never the LLM (``agent.llm``),
the tools, the hybrid or the faces.
"""
