# Sourced by the scripts that run the peer-config gateway by hand (peer_drain_watch.sh,
# worker_drain.sh), with HERE set to bench/: the peers' sink and peer_gateway.sh started
# from the harness folder ($PEERS) and ready; on exit the pids in STOP_ALSO get SIGINT,
# then the gateway's process group and the sink are stopped.
PEERS="${PEERS:-$HERE/../../shared/peers}"
SINK_PORT="${SINK_PORT:-9201}"
PY="$HERE/../.venv/bin/python"
cd "$PEERS"
"$PY" sink/sink.py --port "$SINK_PORT" >/dev/null 2>&1 &
SINK=$!
export SINK_URL="http://127.0.0.1:$SINK_PORT/orders"
export ESB_BENCH_BROKER="${ESB_BENCH_BROKER:-amqp://guest:guest@127.0.0.1:5672/}"
setsid bash "$HERE/peer_gateway.sh" >/dev/null 2>&1 &
GATEWAY=$!
STOP_ALSO=""
trap 'for p in $STOP_ALSO; do kill -INT "$p" 2>/dev/null || true; done
      kill -- -$GATEWAY 2>/dev/null || true; kill $SINK 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 120); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && break; sleep 0.5; done
