"""`make compose-check`: the compose stack's acceptance check, for machines with Docker.

Brings the stack up (`docker compose up --build --wait`, with the direct
service ports), runs the e2e suite against it with E2E_STORE=tempo, then
checks what only the Grafana stack can show: one request's log lines from all
four processes in Loki by trace id, Tempo's service graph in Prometheus, a
TraceQL metrics answer from Tempo, every Grafana data source's health check,
every dashboard panel's query, and Grafana's log free of errors. It tears the
stack down and prints a summary.

responses.py and panels.py read the components' documented response formats
and are unit-tested on recorded examples (tests/compose_check); run.py does
the HTTP and the docker commands.
"""
