# The two commands of the README: `make run` and `make test`. Each sets up what it needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= .portchain/demo
HOST ?= 127.0.0.1
PORT ?= 8545

.PHONY: run test lint typecheck setup-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "portchain needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3

$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@ $(VENV)/.run-installed

## run: install portchain, run the demo scenario on a demo network, then serve it on $(HOST):$(PORT)
run: $(VENV)/.run-installed
	$(BIN)/portchain demo --home $(DEMO_HOME)
	$(BIN)/portchain up --home $(DEMO_HOME) --host $(HOST) --port $(PORT)

## test: install test tools, build the pinned CometBFT and its ABCI bindings, lint, type-check, test
test: $(VENV)/.test-installed setup-test lint typecheck
	$(BIN)/pytest

setup-test:
	@command -v go >/dev/null || { echo "error: Go is needed to build CometBFT (go install)"; exit 1; }
	$(BIN)/python -m portchain.engines.cometbft.toolchain

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy
