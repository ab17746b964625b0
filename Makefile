# tunesmith — the two commands of the README:
#   make demo   set up a fresh machine and tune the bundled sklearn example (no LLM, no API key)
#   make test   set up and run the checks: ruff, mypy, pytest
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install install-test peers sysdeps demo test test-slow test-fast bench bench-agent bench-tracking lint clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0   # CPU build; a plain 'torch' pulls several GB of CUDA
	$(BIN)/python -m pip install -q -e '.[dev,web]'
	touch $@

install: $(BIN)/.installed

# Test-only extras: the Ray executor's tests run a local two-node cluster; the peers' tests (tests/evals/test_peers.py)
# run HEBO and SMAC3 (about a minute of installing with a warm pip cache).
$(BIN)/.test-installed: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[dev,web,ray,peers]' torch==2.13.0
	$(BIN)/python -m pip install -q --no-deps HEBO==0.3.6   # pins numpy<1.25; runs on numpy 2 (evals/peers/hebo.py)
	touch $@

# The eval contenders hebo, hebo-2020, smac, smac-hpo (evals/peers/): the extra, then HEBO without its pins.
$(BIN)/.peers-installed: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[dev,web,peers]' torch==2.13.0
	$(BIN)/python -m pip install -q --no-deps HEBO==0.3.6
	touch $@

peers: $(BIN)/.peers-installed

install-test: sysdeps $(BIN)/.test-installed

# Debian packages the tests use: bubblewrap (isolation: strict) and chromium (browser tests; never
# 'playwright install'). Installed when we may; otherwise their tests are skipped with a note.
sysdeps:
	@missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo -n"; fi; \
	  if command -v apt-get >/dev/null && { [ -z "$$sudo" ] || sudo -n true 2>/dev/null; }; then \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing; \
	  else echo "note:$$missing not installed (apt-get install$$missing); the tests that need them are skipped"; fi; \
	fi

demo: install
	$(BIN)/tunesmith tune examples/sklearn-digits/spec.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-test lint
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: install-test
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS) || test $$? -eq 5   # 5: no slow tests collected

test-fast: install
	$(BIN)/python -m pytest -m "not slow" -x -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python scripts/bench_overhead.py
	$(BIN)/python scripts/bench_strict.py

bench-agent: install
	$(BIN)/python scripts/bench_agent.py

bench-tracking: install
	$(BIN)/python scripts/bench_tracking.py

clean:
	rm -rf $(VENV) studies .pytest_cache .mypy_cache .ruff_cache
