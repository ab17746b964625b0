# tunesmith — the two commands of the README:
#   make demo   set up a fresh machine and tune the bundled sklearn example (no LLM, no API key)
#   make test   set up and run the checks: ruff, mypy, pytest
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install demo test test-slow test-fast bench bench-agent lint clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0   # CPU build; a plain 'torch' pulls several GB of CUDA
	$(BIN)/python -m pip install -q -e '.[dev,web]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/tunesmith tune examples/sklearn-digits/spec.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS) || test $$? -eq 5   # 5: no slow tests collected

test-fast: install
	$(BIN)/python -m pytest -m "not slow" -x -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python scripts/bench_overhead.py
	$(BIN)/python scripts/bench_strict.py

bench-agent: install
	$(BIN)/python scripts/bench_agent.py

clean:
	rm -rf $(VENV) studies .pytest_cache .mypy_cache .ruff_cache
