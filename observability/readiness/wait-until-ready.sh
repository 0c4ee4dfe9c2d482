#!/bin/sh
# Readiness probe for the compose stack (the `ready` service, busybox image).
#
# Asks every URL in READY_URLS, in order, until it answers 2xx, each at most
# once a second, all within READY_TIMEOUT_S seconds. When all have answered it
# writes READY_MARKER, which the service's healthcheck tests; then it idles
# until stopped. On timeout it names the URL that never answered and exits 1,
# so `docker compose up --wait` fails instead of waiting forever.
set -eu

: "${READY_URLS:?space-separated URLs to wait for}"
: "${READY_TIMEOUT_S:=240}"
: "${READY_MARKER:=/tmp/stack-ready}"

# Compose stops this container with SIGTERM; exit at once rather than after
# the grace period, taking the idle sleep along.
idle=""
trap 'if [ -n "$idle" ]; then kill "$idle" 2>/dev/null; fi; exit 0' TERM INT

# A restarted container keeps its files: the stack is not ready until proven again.
rm -f "$READY_MARKER"
deadline=$(( $(date +%s) + READY_TIMEOUT_S ))
for url in $READY_URLS; do
    until wget -q -T 2 -O /dev/null "$url" 2>/dev/null; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "not ready after ${READY_TIMEOUT_S}s: $url" >&2
            exit 1
        fi
        sleep 1
    done
    echo "ready: $url"
done

touch "$READY_MARKER"
echo "stack ready"
# sleep in the background and wait on it, so the TERM trap runs immediately.
while :; do
    sleep 3600 >/dev/null 2>&1 &
    idle=$!
    wait "$idle"
done
