# make run   serve the API (SQLite under instance/, migrated on start) on 127.0.0.1:8000
# make test  the whole test suite (SQLite and PostgreSQL; PostgreSQL tests skip if none runs)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint format bench

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: $(BIN)/.installed
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.installed
	$(BIN)/python -m bench.topology --postgres $(BENCH_ARGS)
	$(BIN)/python -m bench.scale run $(SCALE_ARGS)
