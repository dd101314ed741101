#!/usr/bin/env bash
# Many nodes, one hub: starts redis-server, two demo nodes (axum and actix by default) on it,
# and nginx in front of them, all on loopback, then waits; Ctrl-C stops everything.
#
#   examples/cluster/run.sh                  # nginx on 127.0.0.1:8080
#   PORT=9000 FRAMEWORKS="warp axum" examples/cluster/run.sh
#
# Then open http://127.0.0.1:8080/ (the demo page, through nginx) or:
#   curl -N http://127.0.0.1:8080/events                       # lands on either node
#   curl -d '{"data":"hi"}' -H 'content-type: application/json' http://127.0.0.1:8080/publish
# Kill one node (its PID is printed): clients reconnect through nginx to the other and resume
# from their Last-Event-ID, with no event lost or doubled.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-8080}
FRAMEWORKS=${FRAMEWORKS:-"axum actix"}
for tool in redis-server nginx; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install redis-server nginx)" >&2; exit 2; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on $1" >&2; return 1
}

DIR=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

cargo build --release -q -p sse-examples --bin demo
DEMO=${CARGO_TARGET_DIR:-target}/release/demo

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR" --save "" --appendonly no \
    >"$DIR/redis.log" 2>&1 &
PIDS+=($!)
wait_port "$REDIS_PORT"
echo "redis-server on 127.0.0.1:$REDIS_PORT (pid $!)"

NODE_PORTS=()
for framework in $FRAMEWORKS; do
    port=$(free_port)
    "$DEMO" --framework "$framework" --addr "127.0.0.1:$port" \
        --redis "redis://127.0.0.1:$REDIS_PORT/" >"$DIR/$framework-$port.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    echo "node $framework on 127.0.0.1:$port (pid $!)"
    NODE_PORTS+=("$port")
done

sed -e "s|@DIR@|$DIR|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@NODE_A@|${NODE_PORTS[0]}|g" -e "s|@NODE_B@|${NODE_PORTS[1]}|g" \
    examples/cluster/nginx.conf.template >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -e "$DIR/error.log" &
PIDS+=($!)
wait_port "$PORT"
echo "nginx on http://127.0.0.1:$PORT/ (pid $!); logs in $DIR; Ctrl-C stops everything"
wait -n "${PIDS[@]}"
