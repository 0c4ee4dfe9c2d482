"""One request's trace and log lines in the terminal (`python3 -m tools.trace`):
source (which store, which trace, when complete), layout (the waterfall's
structured model), render (rich); the log files are read by tests/support/logs.py."""
