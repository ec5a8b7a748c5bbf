#!/usr/bin/env bash
# Who works while the gateway's backlog drains: the peer-config gateway (peer_gateway.sh)
# under wrk -c32 for DURATION s, then every 2 s the CPU of the API process (ingress and
# relay), the worker, PostgreSQL and RabbitMQ (% of one core, from /proc), deliveries a
# second at the peers' sink, the RabbitMQ queue and the outbox rows not yet published.
# At the end, the CPU each delivered message cost from the start of wrk to the end of the
# watch, per process and for the whole machine (ms of one core): the budget the 2 cores
# share, to set beside the peers' own CPU per request (their run's CPU % / rate).
# Needs the peer harness set up (../shared/peers: ./setup.sh, for wrk and its load files).
#   PEERS=/path/to/peers bench/peer_drain_watch.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DURATION="${DURATION:-15}"
source "$HERE/peer_stack.sh"
sleep 1
API=$(pgrep -f "esb serve --no-worker" | head -1)
WORKER=$(pgrep -f "esb worker" | head -1)
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
delivered() { curl -s "http://127.0.0.1:$SINK_PORT/count" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }  # user nice system irq softirq
sample() { echo "$(ticks $API) $(ticks $WORKER) $(ticks $(pgrep -f postgres)) $(ticks $(pgrep -f beam.smp)) $(delivered)"; }
read -r A0 W0 P0 R0 D0 < <(sample); M0=$(busy)
GATEWAY_AUTH="Bearer peer-bench-key-0123" wrk -t1 -c32 -d"${DURATION}s" -s load/order.lua \
  http://127.0.0.1:8080/v1/messages/order -- load/order.json "drain$$" | grep "Requests/sec"
echo "| after wrk | API % | worker % | PostgreSQL % | RabbitMQ % | delivered/s | queue ready/unacked | outbox pending |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for step in 1 2 3 4 5 6 7 8; do
  read -r a0 w0 p0 r0 d0 < <(sample)
  sleep 2
  read -r a1 w1 p1 r1 d1 < <(sample)
  queue=$(rabbitmqctl list_queues name messages_ready messages_unacknowledged 2>/dev/null |
          awk '/^peer/ && ($2+$3) > 0 {print $2 "/" $3}' | tr '\n' ' ')
  pending=$(psql -h 127.0.0.1 -d esb_peer_bench -Atc \
            "SELECT count(*) FROM outbox WHERE status = 'pending'" 2>/dev/null || echo "?")
  echo "| $((step * 2)) s | $(( (a1 - a0) / 2 )) | $(( (w1 - w0) / 2 )) | $(( (p1 - p0) / 2 )) |" \
       "$(( (r1 - r0) / 2 )) | $(( (d1 - d0) / 2 )) | ${queue:-0/0} | $pending |"
done
read -r A1 W1 P1 R1 D1 < <(sample); M1=$(busy)
awk -v n=$((D1 - D0)) -v a=$((A1 - A0)) -v w=$((W1 - W0)) -v p=$((P1 - P0)) -v r=$((R1 - R0)) \
    -v m=$((M1 - M0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { f = 1000 / hz / n;
    printf "CPU ms per delivered message (%d delivered): API %.2f, worker %.2f, PostgreSQL %.2f, RabbitMQ %.2f; whole machine %.2f\n",
           n, a * f, w * f, p * f, r * f, m * f }'
