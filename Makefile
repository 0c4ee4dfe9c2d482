# Entry points. Everything runs natively (no Docker); see README.md.
# docker compose users need none of this: `docker compose up`.

PYTHON ?= python3

.PHONY: up build test chaos demo load bench compose-check kube-check

up:     ## build what is missing, start the whole stack, Ctrl-C stops it
	$(PYTHON) -c "import tools.run_tests as t; t.bootstrap_tooling()"  # python3 -m tools.trace and make load use .venv
	$(PYTHON) -m tools.native up

build:  ## only install and build the native stack
	$(PYTHON) -m tools.native build

test:   ## the full test run: unit tests, config checks, e2e on the native stack
	$(PYTHON) tools/run_tests.py

chaos:  ## faults under load (Collector, trace store, services): no trace may be lost
	$(PYTHON) tools/run_tests.py --chaos

demo:   ## run every demo scenario against a running stack
	./test-demo.sh

# `make load RATE=50 USERS=20 DURATION=5m`: RATE requests/s in total, at most
# USERS in flight, for DURATION; ends with a summary per scenario (load/).
RATE ?= 10
USERS ?= 10
DURATION ?= 60s

load:   ## steady traffic through the gateway of a running stack (make up), headless, with a summary
	$(PYTHON) -c "import tools.run_tests as t; t.bootstrap_tooling()"
	.venv/bin/python -m load --rate $(RATE) --users $(USERS) --duration $(DURATION)

# `make bench BENCH_ARGS=--quick`: every stage for seconds; `--stages memory,latency`: only those
# (benchmarks/report.py --help lists them).
BENCH_ARGS ?=

bench:  ## starts the native stack, measures, writes docs/performance.md and its plots (about 20 min)
	$(PYTHON) -c "import tools.run_tests as t; t.bootstrap_tooling()"
	.venv/bin/python benchmarks/report.py $(BENCH_ARGS)

# `make compose-check COMPOSE_CHECK_ARGS=--ci` / `make kube-check KUBE_CHECK_ARGS=--ci`: what CI runs
# within its 40 minutes (docs/compose.md, docs/kubernetes.md).
COMPOSE_CHECK_ARGS ?=
KUBE_CHECK_ARGS ?=

compose-check:  ## needs Docker: validators, compose stack up, e2e and chaos suites on Tempo, Loki/Prometheus/Grafana checks, down
	$(PYTHON) -c "import tools.run_tests as t; t.bootstrap_tooling()"
	.venv/bin/python -m tools.compose_check $(COMPOSE_CHECK_ARGS)

kube-check:  ## needs ../shared/kube and Docker: images into the cluster, helm install, e2e, routing and chaos on the cluster, uninstall
	$(PYTHON) -c "import tools.run_tests as t; t.bootstrap_tooling()"
	.venv/bin/python -m tools.kube_check $(KUBE_CHECK_ARGS)
