"""The load generator: Locust users that send the scenarios of
scenarios/scenarios.json through the gateway, in the mix their `load_weight`
fields give.

    make load RATE=20 USERS=10 DURATION=60s     natively, headless, with a summary
    docker compose --profile load up            in compose, with Locust's web UI

`locustfile.py` is what Locust runs (both ways); `mix.py` and `summary.py` are
plain Python, tested without Locust; `__main__.py` is the `make load` entry point.
"""
