# Steward — one command surface. `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTHON ?= python3
UV_VERSION := 0.13.8
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup system-deps run serve worker demo init test test-fast lint bench lock clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(PY) requirements.lock
	$(BIN)/uv pip install --quiet --python $(PY) --no-deps -e .
	touch $@

setup: $(VENV)/.installed ## Create the virtual environment with the pinned dependencies

system-deps: ## Install Debian's postgresql and chromium when missing (tests need them)
	bash scripts/system-deps.sh

init: setup ## Create or upgrade the database (SQLite under ./var by default)
	$(BIN)/steward init

demo: init ## Load the demo data (prints the demo accounts)
	$(BIN)/steward demo

run: demo ## Set everything up and serve Steward with demo data on http://127.0.0.1:8000
	@$(BIN)/steward worker > var/worker.log 2>&1 & echo $$! > var/worker.pid; \
	trap 'kill $$(cat var/worker.pid) 2>/dev/null' EXIT INT TERM; \
	echo "Steward on http://127.0.0.1:8000 (worker log: var/worker.log)"; \
	$(BIN)/steward serve --host 127.0.0.1 --port 8000

lint: setup ## ruff and mypy (strict on the pure domain modules)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/mypy bench

test: setup system-deps lint ## Set up and run the whole test suite (SQLite, PostgreSQL, browser)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q $(PYTEST_ARGS)

test-fast: setup ## Unit tests only
	$(BIN)/pytest tests/unit -q

bench: setup system-deps ## Benchmarks (ratios against baselines measured in the same run)
	@set -e; for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

lock: ## Re-pin dependencies into requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev -o requirements.lock --python $(PY)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var .mypy_cache .ruff_cache
