# caredesk — the commands a new user and CI need. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Tests run in parallel; override with PYTEST_ARGS="-n 0 -x" for a serial run.
PYTEST_ARGS ?= -n auto
export CAREDESK_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run demo test test-postgres check bench clean

$(STAMP): pyproject.toml requirements.lock scripts/system-deps.sh
	scripts/system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(STAMP)

# Migrate, load the demo, make the first admin, then run web + worker + scheduler.
run: install
	$(BIN)/caredesk migrate --noinput -v 0
	$(BIN)/caredesk collectstatic --noinput -v 0
	$(BIN)/caredesk demo
	$(BIN)/caredesk createadmin
	$(BIN)/caredesk run --host 127.0.0.1 --port 8000

test: install
	scripts/system-deps.sh test
	$(BIN)/pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL (a local server with trust auth by default).
test-postgres: install
	DATABASE_URL=$${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest $(PYTEST_ARGS)

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
