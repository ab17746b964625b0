"""One study folder, run or read: ``Session`` (open/create/run/resume), the ``Engine`` loop and its hooks,
the study's typed state (space, budget, spec: one owner), the ``TrialStore`` (SQLite + fake), proposers and
the proposal queue, the engine's intake of new trials and handling of their results, trial outcomes,
steering (pause/resume/stop/budget across processes), pruning schedulers and Population Based Training
(``pbt``), functional hashing (``dedupe``: duplicate configurations, equivalent functions), GPU slots, export
(files, Optuna, MLflow, W&B) and the executor wiring, and the checks that a setup works: before the first
trial (what a script shows: ``script``; a function that cannot be found: ``function_check``; what would fail
every trial on this machine: ``wiring.preflight``) and while it runs (failures or results that repeat
whatever the params: ``doctor``).

May import ``agent.errors``, ``agent.core``, ``agent.strategies`` and ``sandbox``; never the LLM (``agent.llm``),
the tools, the hybrid or the faces.
"""
