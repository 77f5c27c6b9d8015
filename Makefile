# Two entry points for a fresh machine: `make run` and `make test`.
# Each sets up its own virtual environment, so either works first.
PYTHON ?= python3
VENV ?= .venv
SCENARIO ?= scenarios/caribbean-2025.yaml
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-m 'not slow'"
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/escsim run $(SCENARIO)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
