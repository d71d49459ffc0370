# One task runner. `make run` and `make test` work on a fresh machine with Python 3.11 and root:
# they create .venv if missing, install what is needed (apt packages too), then run.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export ASSISTANT_DATA_DIR ?= $(HOME)/.local/share/survey-assistant

.PHONY: run test lint format bench eval install system-deps clean-data

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools

# llama-cpp-python compiles llama.cpp on first install (8-10 min on 2 cores); pip caches the wheel.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[local,test,dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

# Chromium for the browser tests (Playwright drives Debian's build; `playwright install` cannot
# download browsers here).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests"; fi; \
	fi

run: install
	$(BIN)/survey-assistant index
	$(BIN)/survey-assistant serve

test: install system-deps
	$(BIN)/ruff check assistant index ui tests
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check assistant index ui tests
	$(BIN)/ruff format --check assistant index ui tests

format: install
	$(BIN)/ruff format assistant index ui tests
	$(BIN)/ruff check --fix assistant index ui tests

bench: install
	$(BIN)/python -m benchmarks.run_all

eval: install
	$(BIN)/python -m benchmarks.eval_all
