# The two commands a user needs: `make test` and `make demo`. Both start from nothing but
# Python 3.11+ and build .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# pytest on PYTEST_WORKERS processes (pytest-xdist; tests/support/parallel.py says how the
# tests are spread). Most tests wait on real processes, so 3 workers beat 2 even on 2 cores.
# PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 3
PARALLEL := -n $(PYTEST_WORKERS)

.PHONY: test lint unit soak demo bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest $(PARALLEL)

unit: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m "not sim and not broker and not e2e and not slow"

soak: $(STAMP)
	FISCAL_EDGE_SOAK=1 $(BIN)/pytest -m soak tests/soak

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

bench: $(STAMP)
	$(BIN)/python bench/agent_receipts.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
