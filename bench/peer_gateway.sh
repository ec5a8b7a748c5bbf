#!/usr/bin/env bash
# Start the gateway for the peer benchmark (../shared/peers/run.sh, GATEWAY_START):
# production mode on the harness's RabbitMQ ($AMQP_URL, or ESB_BENCH_BROKER for a broker that is
# already running) and a fresh PostgreSQL database,
# ESB_BENCH_API API processes sharing the port (each with its own relay, unless
# ESB_BENCH_RELAYS starts that many `esb relay` processes apart) and
# ESB_BENCH_WORKERS worker processes. run.sh stops it by PID (and its children).
# Usage: see bench/README.md "Against the peers".
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ESB="$HERE/../.venv/bin/esb"
DB="esb_peer_bench"   # recreated on every start, so at most one is left behind
PG="${ESB_BENCH_POSTGRES:-postgresql://127.0.0.1:5432}"
psql "$PG/test" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
export ESB_CONFIG="$HERE/peer-config" ESB_DATABASE_URL="$PG/$DB" \
       ESB_BROKER_URL="${ESB_BENCH_BROKER:-$AMQP_URL}" \
       ESB_BROKER_PREFIX="peer$$" ESB_ADMIN_KEY="peer-bench-admin-key" ESB_LOG_LEVEL=WARNING \
       ESB_QUEUE_TYPE="${ESB_QUEUE_TYPE:-quorum}" ESB_PORT="${GW_PORT:-8080}"
"$ESB" db upgrade >/dev/null
for _ in $(seq "${ESB_BENCH_WORKERS:-1}"); do "$ESB" worker & done
API=(serve --no-worker --reuse-port)
if [ "${ESB_BENCH_RELAYS:-0}" -gt 0 ]; then
    API+=(--no-relay)
    for _ in $(seq "$ESB_BENCH_RELAYS"); do "$ESB" relay & done
fi
for _ in $(seq 2 "${ESB_BENCH_API:-1}"); do "$ESB" "${API[@]}" & done
exec "$ESB" "${API[@]}"
