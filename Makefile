# One task runner. `make run` and `make test` work on a fresh machine with Python 3.11 and root:
# they create .venv if missing, install what is needed (apt packages too), then run.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export ASSISTANT_DATA_DIR ?= $(HOME)/.local/share/survey-assistant

# llama-cpp-python compiles llama.cpp. It is built here, not by pip's resolver, so that the
# build flags are the project's (tools/llama_build_flags.sh: portable, never AMX) and a wheel
# built with other flags is never reused: the wheel folder is keyed by version, flags and
# Python, and pip's own wheel cache (which ignores flags) is bypassed.
LLAMA_VERSION := 0.3.36
CPUINFO ?= /proc/cpuinfo
LLAMA_CMAKE_ARGS := $(shell sh tools/llama_build_flags.sh $(CPUINFO))
LLAMA_KEY := $(shell printf '%s|%s|%s' '$(LLAMA_VERSION)' '$(LLAMA_CMAKE_ARGS)' "$$($(PYTHON) -c 'import sys,sysconfig;print(sys.version_info[:2],sysconfig.get_platform())' 2>/dev/null)" | sha256sum | cut -c1-12)
LLAMA_WHEELS := .wheels/llama-cpp-python-$(LLAMA_VERSION)-$(LLAMA_KEY)
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-8)-$(LLAMA_KEY)

.PHONY: run test test-fast lint format bench eval install system-deps clean-data llama-flags

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel setuptools

# The first build takes 5-10 min on 2 cores; written to a temporary folder and renamed, so an
# interrupted build is never taken for a finished one.
$(LLAMA_WHEELS)/.complete: | $(BIN)/python
	@echo "Building llama-cpp-python $(LLAMA_VERSION) with: $(LLAMA_CMAKE_ARGS)"
	rm -rf $(LLAMA_WHEELS).partial
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python -w $(LLAMA_WHEELS).partial 'llama-cpp-python==$(LLAMA_VERSION)'
	rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).partial $(LLAMA_WHEELS) && touch $@

$(STAMP): $(BIN)/python pyproject.toml $(LLAMA_WHEELS)/.complete
	$(BIN)/pip install -q --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	$(BIN)/pip install -q -e '.[local,test,dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

llama-flags:
	@echo "$(LLAMA_CMAKE_ARGS)  (wheel folder $(LLAMA_WHEELS))"

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
	$(BIN)/ruff check assistant cli index ui tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

# The unit tier only (pure functions, no model, no Chroma): for the edit-test loop. `make test`
# still runs every tier; CI calls it.
test-fast: install
	$(BIN)/python -m pytest -q -m unit

lint: install
	$(BIN)/ruff check assistant cli index ui tests benchmarks
	$(BIN)/ruff format --check assistant cli index ui tests benchmarks
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format assistant cli index ui tests benchmarks
	$(BIN)/ruff check --fix assistant cli index ui tests benchmarks

bench: install
	$(BIN)/python -m benchmarks.run_all

eval: install
	$(BIN)/python -m benchmarks.eval_all
