# Every target creates the virtualenv on first use, so a fresh clone needs only `make run`
# or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test pytest prefetch unit integration lint typecheck check format schemas bench bench-ingress bench-e2e bench-dispatcher bench-credentials rotate-keys infra run-distributed docs-settings deploy-check clean-var

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

## The platform on this machine: four services in one process, no Kafka or MongoDB needed.
run: $(STAMP)
	$(BIN)/integrations dev

## The whole suite: lint, types, then unit, contract, integration and e2e tests.
test: check pytest

pytest: $(STAMP) prefetch
	$(BIN)/pytest -m "unit or contract or integration or e2e"

unit: $(STAMP)
	$(BIN)/pytest -m "unit or (contract and not integration)"

integration: $(STAMP) prefetch
	$(BIN)/pytest -m "integration or e2e"

## Fetch and build the test servers and deployment checkers (cached; minutes on a cold machine).
prefetch: $(STAMP)
	$(BIN)/python -m tests.harness.prefetch

check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schemas: $(STAMP)
	$(BIN)/integrations schemas docs

## Every benchmark, one after the other, then one table of their figures (loopback only,
## about 4 min; BENCH_ARGS=--quick for a smoke run). See docs/performance.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.report $(BENCH_ARGS)

## Ingress against a real Kafka broker next to a bare ASGI endpoint (about 1 min).
bench-ingress: $(STAMP)
	$(BIN)/python -m benchmarks.ingress

## Webhook POST to execution request, the four services as processes (about 1.5 min).
bench-e2e: $(STAMP)
	$(BIN)/python -m benchmarks.end_to_end

bench-dispatcher: $(STAMP)
	$(BIN)/python -m benchmarks.dispatcher

bench-credentials: $(STAMP)
	$(BIN)/python -m benchmarks.credentials

## Re-encrypt every stored secret under the newest key (DATABASE_URL, ENCRYPTION_KEYS).
rotate-keys: $(STAMP)
	$(BIN)/integrations keys rotate

## Kafka + MongoDB-wire server on this machine, no Docker; prints the env to export.
infra: $(STAMP)
	$(BIN)/python deploy/local/infra.py

## The four services as separate processes (infra's env if exported, else starts it).
run-distributed: $(STAMP)
	$(BIN)/python deploy/local/run_distributed.py

## Regenerate the settings tables of docs/operations.md.
docs-settings: $(STAMP)
	$(BIN)/python -m integrations.settings_reference docs/operations.md

## Deployment files: compose parses, K8s manifests build and validate, proxy routes match the services.
deploy-check: $(STAMP)
	$(BIN)/pytest -m integration tests/integration/test_deploy_compose.py tests/integration/test_deploy_k8s.py tests/integration/test_deploy_proxy.py

clean-var:
	rm -rf var
