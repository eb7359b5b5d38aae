# alertpipe: `make help` lists the targets. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install only when the project's metadata changes (fast no-op otherwise). One venv, two
# stamps: what running needs (`make run`), and that plus the test and bench extras (`make test`).
RUN_STAMP := $(VENV)/.runtime-stamp
STAMP     := $(VENV)/.installed-stamp
# Node tools of the contract tests (AsyncAPI parser), pinned by their package-lock.json.
NPM_DIR   := tests/contracts
NPM_STAMP := $(NPM_DIR)/node_modules/.installed-stamp

.PHONY: help install install-runtime npm-tools chromium run test test-faults console-shots pytest lint format typecheck docs contracts kafka-start kafka-stop kafka-status topics bench bench-quick bench-ingress bench-stage1 bench-replay clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

define make-venv
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
endef

# A venv with the extras already up to date has all that running needs.
$(RUN_STAMP): pyproject.toml
	@if [ $(STAMP) -nt pyproject.toml ]; then touch $@; exit 0; fi; \
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")' && \
	{ test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); } && \
	$(BIN)/python -m pip install --quiet --upgrade pip && \
	$(BIN)/python -m pip install --quiet -e . && \
	touch $@

$(STAMP): pyproject.toml
	$(make-venv)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@ $(RUN_STAMP)

install-runtime: $(RUN_STAMP) ## Create .venv with what running needs only (what `make run` installs)

install: $(STAMP) ## Create .venv and install alertpipe with its test and bench extras (idempotent)

$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 18+) is needed for the AsyncAPI contract test"; exit 1; }
	npm ci --prefix $(NPM_DIR) --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

npm-tools: $(NPM_STAMP) ## Install the pinned Node tools the contract tests use (into tests/contracts)

# The console's browser tests drive Debian's chromium through Playwright; Playwright's own
# browser download (`playwright install`) is never used.
chromium: ## Install Debian's chromium for the console's browser tests (when missing)
	@command -v chromium >/dev/null || { \
		command -v apt-get >/dev/null || { echo "chromium is needed for tests/console: install it (Debian: apt-get install chromium)"; exit 1; }; \
		apt-get update && apt-get install -y --no-install-recommends chromium; }

run: install-runtime ## Start Kafka, create topics, run the pipeline in the foreground (Ctrl-C stops all)
	$(BIN)/alertpipe run

test: install lint typecheck pytest ## Lint, type-check and run the whole test suite on a real broker

test-faults: install ## Fault suite at full size (tests/faults; `make test` runs it short; soak 10 min)
	ALERTPIPE_FAULTS=full $(BIN)/pytest -m faults tests/faults $(PYTEST_ARGS)

console-shots: install chromium ## Retake docs/console/*.png (the console's browser tests, saving their screenshots there)
	ALERTPIPE_CONSOLE_SHOTS=docs $(BIN)/pytest tests/console/test_console_flows.py $(PYTEST_ARGS)

pytest: install npm-tools chromium ## Run the tests only (starts its own Kafka broker unless KAFKA_BOOTSTRAP_SERVERS)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install ## mypy --strict on the packages and the tests
	$(BIN)/mypy

docs: install-runtime ## Regenerate docs/configuration.md from the settings code
	$(BIN)/alertpipe config reference --output docs/configuration.md

contracts: install-runtime ## Regenerate the source lists of schemas/asyncapi.yaml and README.md from the registry
	$(BIN)/alertpipe contracts generate

kafka-start: install-runtime ## Start the local Kafka broker (Maven-resolved jars) in the background
	$(BIN)/alertpipe kafka start

kafka-stop: install-runtime ## Stop the local Kafka broker
	$(BIN)/alertpipe kafka stop

kafka-status: install-runtime ## Say whether the local broker runs, and where
	$(BIN)/alertpipe kafka status

topics: install-runtime ## Create the alerts.* topics (idempotent)
	$(BIN)/alertpipe topics create

bench: install ## All benchmarks, full sizes (issue 7): bench-results/<time>.json, table, PNG
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-quick: install ## The same benchmarks at small sizes (under 3 minutes)
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

bench-ingress: install ## Durable webhooks/s of one ingress process vs its no-Kafka ceiling
	$(BIN)/python -m bench.ingress_ceiling $(BENCH_ARGS)

bench-stage1: install ## Validation/pipeline µs per body, worker records/s vs a passthrough
	$(BIN)/python -m bench.run --only micro,worker $(BENCH_ARGS)

bench-replay: install ## `alertpipe replay` records/s and peak memory on 100,000 raw records
	$(BIN)/python -m bench.replay $(BENCH_ARGS)

clean: ## Stop the local broker and remove the venv and caches (jars included)
	-@test -x $(BIN)/alertpipe && $(BIN)/alertpipe kafka stop
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis $(NPM_DIR)/node_modules
