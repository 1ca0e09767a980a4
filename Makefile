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

.PHONY: test lint unit soak demo bench clean browser

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

# The support page's browser tests need Debian's chromium and chromium-driver. Installed with
# apt-get where this runs as root (CI); otherwise, or when apt-get fails, those tests are
# skipped with the reason (tests/support/browser.py). Nothing to do when both are there.
browser:
	-@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make: no chromium/chromedriver and not root with apt-get: the browser tests will be skipped"; \
	else \
	  echo "make: installing chromium and chromium-driver with apt-get (the browser tests)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 \
	         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }; } \
	  || echo "make: apt-get could not install chromium: the browser tests will be skipped"; \
	fi

test: lint browser
	$(BIN)/pytest $(PARALLEL)

unit: $(STAMP)
	$(BIN)/pytest $(PARALLEL) -m "not sim and not broker and not e2e and not slow"

soak: $(STAMP)
	FISCAL_EDGE_SOAK=1 $(BIN)/pytest -m soak tests/soak

# make demo PROTOCOL=atol: the same story on an ATOL register (ATOL's driver web server);
# PROTOCOL=smartone: on a SmartOne e-kassa cashbox in Azerbaijan (AZN, VAT 18 %, doc_id).
PROTOCOL ?= shtrih
demo: $(STAMP)
	$(BIN)/python scripts/demo.py --protocol $(PROTOCOL)

bench: $(STAMP)
	$(BIN)/python bench/agent_receipts.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
