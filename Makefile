# The two commands of the README: `make run` and `make test`. Both set up first.
VENV ?= .venv
BIN := $(VENV)/bin
SARABAN_HOME ?= instance

.PHONY: setup setup-test run test test-fast lint lock bench

setup:
	@VENV=$(VENV) scripts/setup

setup-test:
	@VENV=$(VENV) scripts/setup --test

# The service on the embedded defaults (SQLite, tantivy, files in $(SARABAN_HOME)), filled with
# the seed letters on first start; the demo login is printed.
run: setup
	SARABAN_HOME=$(SARABAN_HOME) $(BIN)/saraban serve --demo

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/typecheck
	$(BIN)/codespell
	$(BIN)/pytest -m "" -q -n auto --maxprocesses 4 --dist loadfile

test-fast: setup-test
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile -m "not pdf and not soffice and not browser"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/python scripts/typecheck && $(BIN)/codespell

# Re-pin every dependency (with hashes) after changing pyproject.toml.
lock:
	python3 -m venv /tmp/saraban-lock && /tmp/saraban-lock/bin/pip install -q pip-tools
	/tmp/saraban-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --extra dev \
		--strip-extras -o requirements.lock pyproject.toml

bench: setup-test
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done
