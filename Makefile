# Two commands do all the set-up: `make demo` and `make test`. Each makes the virtual environment
# .venv (override with VENV=...) with the Python found as $(PYTHON). `make demo` installs hpconfig
# alone; `make test` adds the test tools, and Microsoft's SARIF multitool where npm can get it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.hpconfig-installed
TOOLS := $(VENV)/.hpconfig-test-installed
MULTITOOL := $(VENV)/.sarif-multitool
MULTITOOL_VERSION := 5.7.0
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check

# PYTHON=... given for an existing .venv of another interpreter: rebuild it rather than
# silently keep the old one.
ifneq ($(filter environment command,$(firstword $(origin PYTHON))),)
_IDENTITY := import sys; print(sys.base_prefix, sys.version_info[:3])
_WANT := $(shell $(PYTHON) -c '$(_IDENTITY)' 2>/dev/null)
ifeq ($(_WANT),)
$(error PYTHON=$(PYTHON) does not run; give the name or path of a Python 3.10+ interpreter)
endif
ifneq ($(wildcard $(VENV)/pyvenv.cfg),)
_HAVE := $(shell $(BIN)/python -c '$(_IDENTITY)' 2>/dev/null)
ifneq ($(_HAVE),$(_WANT))
$(info $(VENV) was made with another Python ($(_HAVE)); rebuilding it with $(PYTHON) ($(_WANT)))
_ := $(shell rm -rf $(VENV))
endif
endif
endif

.PHONY: demo test lint bench clean

$(RUNTIME): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("hpconfig needs Python 3.10 or newer") if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $(RUNTIME)

$(TOOLS): $(RUNTIME)
	$(PIP) -e '.[test]'
	@touch $(TOOLS)

# Optional: without npm (or offline) the SARIF tests use the schema and explicit checks instead.
$(MULTITOOL): | $(RUNTIME)
	@if command -v npm > /dev/null 2>&1 && npm install --silent --no-audit --no-fund \
	    --prefix $(VENV)/sarif-multitool @microsoft/sarif-multitool@$(MULTITOOL_VERSION) \
	    > /dev/null 2>&1; then \
	  chmod u+x $(VENV)/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool 2> /dev/null || true; \
	else \
	  echo "note: no SARIF multitool (npm missing or offline); the SARIF tests use the schema"; \
	fi
	@touch $(MULTITOOL)

demo: $(RUNTIME)
	$(BIN)/hpconfig demo --check

test: $(TOOLS) $(MULTITOOL)
	$(BIN)/python -m pytest -q

# Exactly what CI's lint job runs.
lint: $(TOOLS)
	$(BIN)/ruff check hpconfig tests benchmarks
	$(BIN)/ruff format --check hpconfig tests benchmarks
	$(BIN)/mypy hpconfig

bench: $(TOOLS)
	$(BIN)/python benchmarks/validate_bench.py
	$(BIN)/python benchmarks/sandbox_bench.py
	$(BIN)/python benchmarks/plan_bench.py
	$(BIN)/python benchmarks/import_bench.py
	$(BIN)/python benchmarks/refresh_bench.py
	$(BIN)/python benchmarks/check_bench.py
	$(BIN)/python benchmarks/hostile_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
