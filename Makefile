# make run   migrate, then serve the API (SQLite under instance/) on 127.0.0.1:8000, with
#            the event dispatcher beside it
# make test  the whole test suite (SQLite and PostgreSQL; PostgreSQL tests skip if none runs)
# make up    build and start compose.yaml (PostgreSQL, proc-service, nginx on 127.0.0.1:8080)
# make down  stop and remove it (the database volume stays; deploy/compose down -v drops it)
# make ha-up    build and start compose.ha.yaml (Patroni cluster, haproxy, 2 app replicas, nginx)
# make ha-down  stop and remove it (the volumes stay; add -v by hand to drop them)
# make drill    the failover drill on a throwaway HA stack (DRILL_ARGS=--short: CI's version)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint format bench up down ha-up ha-down drill

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

# The event dispatcher (docs/api.md §15) runs beside gunicorn and stops with it.
run: $(BIN)/.installed
	$(BIN)/flask --app wsgi migrate
	$(BIN)/flask --app wsgi events run & dispatcher=$$!; \
	trap 'kill $$dispatcher 2>/dev/null; wait $$dispatcher' EXIT; \
	PROC_MIGRATE_ON_START=0 $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

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
	$(BIN)/python -m bench.workers --postgres
	$(BIN)/python -m bench.scale run $(SCALE_ARGS)

# deploy/compose: docker compose when a Docker daemon answers, else podman-compose from .venv.
up: $(BIN)/.installed
	deploy/compose up -d --build
	@port=$${PROC_HTTP_PORT:-8080}; for _ in $$(seq 1 60); do \
		curl -fs -o /dev/null http://127.0.0.1:$$port/readyz && break; sleep 1; done; \
	curl -fsS http://127.0.0.1:$$port/readyz; echo

down: $(BIN)/.installed
	deploy/compose down

# The HA stack (README, "High availability"). The first start elects a leader and copies it
# to two standbys before the app can migrate: allow it two minutes.
ha-up: $(BIN)/.installed
	deploy/compose -f compose.ha.yaml up -d --build
	@port=$${PROC_HTTP_PORT:-8080}; for _ in $$(seq 1 120); do \
		curl -fs -o /dev/null http://127.0.0.1:$$port/readyz && break; sleep 1; done; \
	curl -fsS http://127.0.0.1:$$port/readyz; echo

ha-down: $(BIN)/.installed
	deploy/compose -f compose.ha.yaml down

drill: $(BIN)/.installed
	deploy/ha/drill $(DRILL_ARGS)
