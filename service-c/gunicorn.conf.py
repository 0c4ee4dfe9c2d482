"""gunicorn settings for service-c (`gunicorn -c gunicorn.conf.py`, cwd service-c/).
The worker, the hooks' helpers and the WSGI entry point are in app/server/.

OpenTelemetry starts in each worker after the fork (post_fork) and is
flushed when the worker exits (worker_exit). Never before the fork: the
batch processor's export thread would not survive it. So no preload_app.
"""

import functools
import os
import sys

from app.server import graceful_stop
from app import logging_config
from app.telemetry import tracing
from app.config import ConfigError, Settings

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8083')}"
wsgi_app = "app.server.wsgi:app"
preload_app = False

# One worker with 16 threads. A keep-alive connection stays on the worker
# that accepted it, and a worker accepts even while all its threads are busy
# (the request then waits in its queue): with 2 workers x 4 threads,
# service-a's pooled connections were measured 12-14 of 16 on one worker, so
# that worker's 4 threads, not the CPU, set service-c's throughput. The
# requests mostly wait (simulated latency, downstream calls), so threads
# serve them; a second worker would add an interpreter (~40 MiB) and its own
# span exporter without taking load. Measured side by side with
# benchmarks/saturation.py (`previous` = 2 x 4): saturation of
# /api/demo/parallel x1.5-1.7. More processes: GUNICORN_CMD_ARGS="--workers N",
# or more replicas (compose --scale, Kubernetes).
# The worker is gthread's, reading each request whole before a thread serves
# it (request_buffering.py, docs/contract.md "Slow clients"): clients that
# send slowly cost a socket and a buffer, never one of the 16 threads. It
# answers the requests gunicorn itself refuses in JSON rather than HTML
# (protocol_refusals.py).
worker_class = "app.server.request_buffering.RequestBufferingWorker"
workers = 1
threads = 16
# Connections one worker holds at once: in a thread, kept alive or still
# arriving. Each arriving one holds at most 128 KiB (MAX_BUFFERED_BYTES), so
# 128 of them hold at most 16 MiB of the 128 MiB the container has; gunicorn's
# default, 1000, would allow 125 MiB. Past it the worker stops accepting until
# one ends, and closes answers rather than keep more than 112 idle connections.
worker_connections = 128

# SIGTERM: refuse new connections at once (graceful_stop.py), give in-flight
# requests up to graceful_timeout - _SPAN_FLUSH_S (10 s), end the server spans
# of those still running and flush them, then exit. graceful_timeout is the
# master's limit before it SIGKILLs a worker: it covers all of that and stays
# under the 15 s the native runner and compose grant a stopping service.
# GUNICORN_CMD_ARGS="--graceful-timeout N" overrides it; the drain follows.
graceful_timeout = 14
_SPAN_FLUSH_S = tracing.FLUSH_BUDGET_SECONDS + 1
# With gthread workers this is only the heartbeat of a worker's main loop:
# requests run on its threads, so a slow request (delay_ms up to 10 s plus
# a downstream call) never trips it; a hung main loop does.
timeout = 30

# Keep-alive (docs/contract.md, "Keep-alive connections"). An idle connection
# stays 75 s, longer than any caller's pool keeps one (nginx and service-a:
# 60 s), so the caller lets go first; gunicorn's default, 2 s, had nginx and
# service-a sending requests on connections it was closing. Idle connections
# wait in the worker's poller, not on a thread.
keepalive = 75

# Header limits. A single header line may be up to 16 KiB (like Node's total
# default), so a 10 KB hostile value reaches the app and gets the app's JSON
# answer; anything larger gets gunicorn's own 4xx, never a crash.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16384

# No runtime control socket: nothing here uses gunicornc, and two instances
# (tests, a running stack) would fight over the same default path.
control_socket_disable = True

# All output is JSON lines on stdout (app/logging_config.py); the app writes its
# own request line, so gunicorn's access log stays off.
_log_level = logging_config.log_level_from_env()
loglevel = _log_level.lower()
accesslog = None
logconfig_dict = logging_config.dict_config(_log_level)
logging_config.route_stray_output_to_logging()


def on_starting(server):
    # Check the environment once, in the master: a bad value stops the start
    # with one JSON line, instead of every worker failing to boot (and gunicorn
    # printing each failure raw to stderr).
    try:
        Settings.from_env()
    except ConfigError as error:
        server.log.error("invalid configuration: %s", error)
        sys.exit(1)


def when_ready(server):
    graceful_stop.refuse_on_term(server)


def post_fork(server, worker):
    tracing.start()


def post_worker_init(worker):
    # This worker's copy of the settings: it drains for less than the master
    # waits, so its last spans are flushed before the master's SIGKILL.
    worker.cfg.set("graceful_timeout", max(worker.cfg.graceful_timeout - _SPAN_FLUSH_S, 1))
    graceful_stop.tolerate_stopped_listener(worker)
    # From here on the worker has its signal handlers, its tracing (post_fork)
    # and the app: it serves requests and stops cleanly on SIGTERM. The line
    # is what a supervisor or a test can wait for.
    worker.log.info("worker ready", extra={"pid": worker.pid})


def worker_exit(server, worker):
    tracing.stop()


@functools.cache
def _max_requests_per_connection() -> int:
    # Read once per worker, at its first request: on_starting has checked it.
    return Settings.from_env().max_requests_per_connection


def pre_request(worker, req):
    # The last request a connection may carry (0: no limit). gunicorn drops a
    # Connection header the app sets (hop-by-hop), so the request is marked
    # instead: gunicorn answers it with "Connection: close" and closes.
    limit = _max_requests_per_connection()
    if limit and req.req_number >= limit:
        req.force_close()
