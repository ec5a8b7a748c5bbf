#!/usr/bin/env bash
# CPU time an embedded `esb serve` spends per accepted message at several open-loop rates,
# with its fdatasync calls per message and the load generator's ingress p50/p99.
#   bench/cpu_per_message.sh [RATE...]        (default: 25 50 100 200 400)
#   SYSTEM=reference bench/cpu_per_message.sh  the reference pipeline (embedded) instead
# Needs Linux `perf` (task-clock and the fdatasync tracepoint). A quiet machine: the
# load generator and the sink run beside the gateway. Results in bench/results/cpu-<time>/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 25 50 100 200 400
PY=.venv/bin/python
OUT=bench/results/cpu-$(date -u +%Y%m%d-%H%M%S); mkdir -p "$OUT"
SINK_PORT=${SINK_PORT:-9131}; GW_PORT=${GW_PORT:-9132}; KEY=cpu-bench-$RANDOM$RANDOM
$PY bench/sink.py --port "$SINK_PORT" > "$OUT/sink.log" 2>&1 & SINK=$!
if [ "${SYSTEM:-gateway}" = reference ]; then
    $PY bench/reference_pipeline.py embedded --port "$GW_PORT" --key "$KEY" \
        --target "http://127.0.0.1:$SINK_PORT/orders" --data-dir "$OUT/data" > "$OUT/reference.log" 2>&1 &
    GW=$!; READY=/healthz
else
    ESB_CONFIG=bench/config ESB_HOST=127.0.0.1 ESB_PORT=$GW_PORT ESB_ADMIN_KEY=cpu-bench-admin-$RANDOM$RANDOM \
        ESB_LOG_LEVEL=WARNING ESB_DATA_DIR=$OUT/data BENCH_KEY=$KEY \
        BENCH_TARGET_URL=http://127.0.0.1:$SINK_PORT/orders $PY -m esb serve > "$OUT/gateway.log" 2>&1 &
    GW=$!; READY=/readyz
fi
trap 'kill $GW $SINK 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 150); do curl -sf "http://127.0.0.1:$GW_PORT$READY" > /dev/null && break; sleep 0.2; done
URL=http://127.0.0.1:$GW_PORT/v1/messages/sales_order
$PY bench/loadgen.py --key "$KEY" --rate 100 --duration 3 "$URL" > /dev/null  # warm-up
echo "| orders/s | ${SYSTEM:-gateway} CPU (cores) | CPU ms per message | fdatasync per message | ingress p50 / p99 ms |"
echo "|---:|---:|---:|---:|---:|"
for rate in "$@"; do
    perf stat -x, -e task-clock,syscalls:sys_enter_fdatasync -p "$GW" -o "$OUT/perf-$rate.csv" -- sleep 12 &
    PERF=$!
    $PY bench/loadgen.py --key "$KEY" --rate "$rate" --duration 12 "$URL" > "$OUT/load-$rate.json"
    wait $PERF
    $PY - "$OUT" "$rate" <<'PY'
import csv, json, sys
out, rate = sys.argv[1], sys.argv[2]
counts = {row[2]: float(row[0]) for row in csv.reader(open(f"{out}/perf-{rate}.csv")) if len(row) > 2}
load = json.load(open(f"{out}/load-{rate}.json"))
n, cpu_ms = load["accepted"], counts["task-clock"]
syncs = counts["syscalls:sys_enter_fdatasync"]
lat = load["latency_ms"]
print(f"| {rate} | {cpu_ms / 12000:.2f} | {cpu_ms / n:.2f} | {syncs / n:.2f} | {lat['p50']:.1f} / {lat['p99']:.1f} |")
PY
done
