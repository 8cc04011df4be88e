# The two set-up commands a fresh machine needs (only Python 3.11+): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Run the whole product on embedded defaults (Temporal dev server + SQLite under .ddrun/).
run: $(STAMP)
	$(BIN)/ddrun dev $(ARGS)

## Run the whole test suite (real Temporal dev server; SQLite and PostgreSQL).
test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/webhook_latency.py $(ARGS)
