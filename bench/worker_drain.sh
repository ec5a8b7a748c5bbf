#!/usr/bin/env bash
# One `esb worker` alone draining a backlog, the peers' job (peer-config): what a delivery
# costs the worker when nothing else competes for the machine. wrk posts orders for
# DURATION s to a gateway started with no worker (peer_gateway.sh, ESB_BENCH_WORKERS=0);
# once the relay has published them all, one worker starts and delivers them to the
# peers' sink. Prints the deliveries a second (from the worker's first delivery to its
# last) and the worker's CPU per delivery. With PROFILE=FILE the worker runs under py-spy
# (raw stacks into FILE; bench/profile_stages.py sorts them into the delivery's stages).
# Needs the peer harness set up (../shared/peers: ./setup.sh, for wrk and its load files).
#   PEERS=/path/to/peers [PROFILE=/tmp/worker.raw] bench/worker_drain.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DURATION="${DURATION:-10}"
ESB="$HERE/../.venv/bin/esb"
export ESB_BENCH_WORKERS=0  # the backlog first; the worker below starts once it is published
source "$HERE/peer_stack.sh"
API=$(pgrep -f "esb serve --no-worker" | head -1)
delivered() { curl -s "http://127.0.0.1:$SINK_PORT/count" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
pending() { psql -h 127.0.0.1 -d esb_peer_bench -Atc "SELECT count(*) FROM outbox WHERE status = 'pending'"; }
GATEWAY_AUTH="Bearer peer-bench-key-0123" wrk -t1 -c32 -d"${DURATION}s" -s load/order.lua \
  http://127.0.0.1:8080/v1/messages/order -- load/order.json "wdrain$$" | grep "Requests/sec"
until [ "$(pending)" = 0 ]; do sleep 0.5; done
ACCEPTED=$(psql -h 127.0.0.1 -d esb_peer_bench -Atc "SELECT count(*) FROM deliveries")
# the worker's settings are the gateway's (peer_gateway.sh exports them to its processes)
while IFS= read -r -d '' kv; do case "$kv" in ESB_*) export "${kv?}";; esac; done < "/proc/$API/environ"
if [ -n "${PROFILE:-}" ]; then
  py-spy record -r 250 -f raw -o "$PROFILE" -- "$ESB" worker >/dev/null 2>&1 &
else
  "$ESB" worker >/dev/null 2>&1 &
fi
for _ in $(seq 100); do WORKER=$(pgrep -f "python.* worker$" | head -1 || true); [ -n "$WORKER" ] && break; sleep 0.1; done
STOP_ALSO=$WORKER
until [ "$(delivered)" -gt 0 ]; do sleep 0.05; done
t0=$(date +%s.%N); c0=$(awk '{print $14+$15}' "/proc/$WORKER/stat")
until [ "$(delivered)" -ge "$ACCEPTED" ]; do sleep 0.1; done
t1=$(date +%s.%N); c1=$(awk '{print $14+$15}' "/proc/$WORKER/stat")
kill -INT "$WORKER"; sleep 2
awk -v n="$ACCEPTED" -v t="$(echo "$t1 - $t0" | bc)" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
    printf "%d deliveries in %.1f s: %.0f a second; worker CPU %.2f ms a delivery (%.0f %% of a core)\n",
           n, t, n / t, c * 1000 / hz / n, c * 100 / hz / t }'
