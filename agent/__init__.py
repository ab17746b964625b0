"""tunesmith's engine room, by role, in dependency order (a lower layer never imports a higher one).

    errors.py     the exception tree, imported by every layer
    core/         the vocabulary: records, search space (+ the one ``config_key``), spec, messages
    strategies/   classical proposers behind the ``Strategy`` seam (Optuna-backed), ``auto``, priors
    llm/          ``LLMClient`` adapters (OpenAI SDK, LangChain), cache, retry, usage; imports only errors, core
    study/        one study folder, run or read: session, engine, state, store, proposers, steering, ...
    hybrid/       the LLM as a proposer: what the model sees and may do (needs llm/ and tools/)
    faces/        how a person holds a study: Python API, CLI, chat, web page, plots

    errors <- core <- strategies <- study <- hybrid <- faces;  llm <- hybrid, faces

Only ``hybrid`` and ``faces`` import ``agent.llm`` or ``tools``; nothing here imports ``evals``; only the
``tunesmith`` facade imports the CLI. ``tests/test_architecture.py`` enforces all of it, naming file and line.
"""
