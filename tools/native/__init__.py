"""Run the whole stack without Docker.

The same nginx template, Collector config and service code as docker compose,
with Jaeger v2 standing in for Tempo as the trace store. Standard library only,
so `make up` works before any virtualenv exists.
"""
