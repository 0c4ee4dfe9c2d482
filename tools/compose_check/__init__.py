"""`make compose-check`: the compose stack's acceptance check on a real engine.

Runs each pinned image's own validator on the project's configs, brings the
stack up (`docker compose up --build --wait`, with the direct service ports;
without Grafana where its image is absent), recreates the services and checks
the gateway routes at once, runs the e2e and chaos suites against Tempo,
checks Loki, Tempo's service graph in Prometheus and TraceQL metrics, then
Grafana (or reports its checks as not run), and every container's memory
peak, restarts and OOM kills over the whole run. It tears the stack down and
prints a summary (docs/compose.md, "make compose-check").

validators.py: the validator table; stack.py: docker and the containers'
facts; checks.py: each check; responses.py and panels.py: verdicts on the
components' answers, unit-tested on recorded examples (tests/compose_check);
run.py: the order; ci.py: CI's compose stage.
"""
