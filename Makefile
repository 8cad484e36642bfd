# One venv, one lock file. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run demo test test-unit check fmt bench asyncapi lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP) ## Run every service, the carrier simulator and a sample district in one process
	$(BIN)/python -m services run

demo: $(STAMP) ## Play one outage end to end (plan, trace, approve, send, reports, cancel)
	$(BIN)/python -m services demo

test: $(STAMP) ## Run every test (PostgreSQL at 127.0.0.1:5432, a tansu broker started by the tests)
	$(BIN)/pytest

test-unit: $(STAMP) ## Only the fast tests that need no database server or broker
	$(BIN)/pytest tests/unit -m "not postgres and not kafka"

check: $(STAMP) ## Lint, format check, types, AsyncAPI and configuration reference freshness
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy shared services tools
	$(BIN)/python -m shared.asyncapi | diff -u docs/asyncapi.yaml - && echo "asyncapi: up to date"
	$(BIN)/python -m tools.settings_doc | diff -u docs/configuration.md - && echo "configuration.md: up to date"

fmt: $(STAMP) ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

asyncapi: $(STAMP) ## Regenerate docs/asyncapi.yaml and docs/configuration.md from the code
	$(BIN)/python -m shared.asyncapi > docs/asyncapi.yaml
	$(BIN)/python -m tools.settings_doc > docs/configuration.md

bench: $(STAMP) ## Run the benchmarks (figures go to BENCHMARKS.md by hand)
	$(BIN)/python -m bench.run

lock: ## Re-resolve requirements*.in into exact pins (needs network)
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet -r requirements.in
	/tmp/lock-venv/bin/pip freeze > requirements.txt
	/tmp/lock-venv/bin/pip install --quiet -r requirements-dev.in
	/tmp/lock-venv/bin/pip freeze --all | grep -v "^pip==" > requirements-dev.txt

clean: ## Remove the venv and local data
	rm -rf $(VENV) var
