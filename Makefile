# The two commands of the README: `make run` and `make test`. Both set up first.
VENV ?= .venv
BIN := $(VENV)/bin
SARABAN_HOME ?= instance

.PHONY: setup setup-test run test test-fast lint lock bench

setup:
	@VENV=$(VENV) scripts/setup

setup-test:
	@VENV=$(VENV) scripts/setup --test

run: setup
	$(BIN)/saraban validate examples/circular.letter.json
	$(BIN)/saraban render examples/circular.letter.json -o out/circular.pdf
	$(BIN)/saraban render examples/circular.letter.json -o out/circular.docx
	@echo "rendered out/circular.pdf and out/circular.docx"

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/pytest -m "" -q

test-fast: setup-test
	$(BIN)/pytest -q -m "not pdf and not soffice"

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Re-pin every dependency (with hashes) after changing pyproject.toml.
lock:
	python3 -m venv /tmp/saraban-lock && /tmp/saraban-lock/bin/pip install -q pip-tools
	/tmp/saraban-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --extra dev \
		--strip-extras -o requirements.lock pyproject.toml

bench: setup-test
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done
