#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, beside any node already running (which it
# never touches): its own node names, ports, cookie, data, log and config folders.
#
#   deploy/rabbitmq/cluster.sh start    start the nodes that are down, join them, wait (idempotent)
#   deploy/rabbitmq/cluster.sh stop     stop every node and remove its folder (idempotent)
#   deploy/rabbitmq/cluster.sh status   the cluster as node 1 sees it; exit 1 if a node is down
#   deploy/rabbitmq/cluster.sh uri      the AMQP_URI of the three nodes (kombu's failover list)
#   deploy/rabbitmq/cluster.sh pid N    the operating-system process of node N (to kill -9 it)
#
# Settings (environment): KOMPAS_CLUSTER_DIR (default /tmp/kompas-rabbitmq-cluster),
# KOMPAS_CLUSTER_NAME (node names <name>-1@<host> ...; default kompas), KOMPAS_CLUSTER_HOST
# (default localhost), and the first node's ports, the next nodes taking the next ones:
# KOMPAS_CLUSTER_AMQP_PORT (5681), KOMPAS_CLUSTER_MANAGEMENT_PORT (15681),
# KOMPAS_CLUSTER_DIST_PORT (25681), KOMPAS_CLUSTER_STREAM_PORT (5581);
# KOMPAS_CLUSTER_MEMORY (each node's memory high watermark, default 512MiB);
# RABBITMQ_BIN (default /usr/lib/rabbitmq/bin).
set -euo pipefail

DIR="${KOMPAS_CLUSTER_DIR:-/tmp/kompas-rabbitmq-cluster}"
NAME="${KOMPAS_CLUSTER_NAME:-kompas}"
HOST="${KOMPAS_CLUSTER_HOST:-localhost}"
AMQP_PORT="${KOMPAS_CLUSTER_AMQP_PORT:-5681}"
MANAGEMENT_PORT="${KOMPAS_CLUSTER_MANAGEMENT_PORT:-15681}"
DIST_PORT="${KOMPAS_CLUSTER_DIST_PORT:-25681}"
STREAM_PORT="${KOMPAS_CLUSTER_STREAM_PORT:-5581}"
MEMORY="${KOMPAS_CLUSTER_MEMORY:-512MiB}"
BIN="${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"
NODES=(1 2 3)

node() { echo "$NAME-$1@$HOST"; }

# Every command runs with the node's own environment; HOME holds the cluster's own cookie.
with_node() {  # N command...
    local n="$1" base="$DIR/node-$1"
    shift
    env HOME="$DIR" \
        RABBITMQ_NODENAME="$(node "$n")" \
        RABBITMQ_NODE_PORT=$((AMQP_PORT + n - 1)) \
        RABBITMQ_DIST_PORT=$((DIST_PORT + n - 1)) \
        RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$base/data" \
        RABBITMQ_LOG_BASE="$base/log" \
        RABBITMQ_PID_FILE="$base/pid" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        ERL_CRASH_DUMP="$base/log/erl_crash.dump" \
        "$@"
}

ctl() { with_node "$1" "$BIN/rabbitmqctl" -n "$(node "$1")" "${@:2}"; }

# Without the cluster's folder no node of it runs (and rabbitmqctl could not read the cookie).
running() { [[ -s "$DIR/.erlang.cookie" ]] && ctl "$1" -q await_startup --timeout 2 >/dev/null 2>&1; }

prepare() {
    mkdir -p "$DIR"
    [[ -s "$DIR/.erlang.cookie" ]] || {
        head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/.erlang.cookie"
        chmod 400 "$DIR/.erlang.cookie"
    }
    echo "ERL_EPMD_ADDRESS=127.0.0.1" >"$DIR/rabbitmq-env.conf"
    echo "[rabbitmq_management,rabbitmq_stream]." >"$DIR/enabled_plugins"
    for n in "${NODES[@]}"; do
        local base="$DIR/node-$n"
        mkdir -p "$base/data" "$base/log"
        cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.default = $((AMQP_PORT + n - 1))
management.tcp.port = $((MANAGEMENT_PORT + n - 1))
stream.listeners.tcp.1 = $((STREAM_PORT + n - 1))
vm_memory_high_watermark.absolute = $MEMORY
disk_free_limit.absolute = 100MB
cluster_partition_handling = pause_minority
EOF
        echo "[]." >"$base/advanced.config"
    done
}

start_node() {
    running "$1" && return 0
    with_node "$1" "$BIN/rabbitmq-server" -detached
    await "$1"
}

await() {  # N: until the node runs its application (it is unreachable while it boots)
    for _ in $(seq 120); do
        ctl "$1" -q await_startup --timeout 5 >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "$(node "$1") did not start; see $DIR/node-$1/log" >&2
    return 1
}

join() {  # N: into node 1's cluster, unless it is a member already
    ctl 1 -q cluster_status --formatter json | grep -q "\"$(node "$1")\"" && return 0
    ctl "$1" -q stop_app
    ctl "$1" -q join_cluster "$(node 1)"
    ctl "$1" -q start_app
}

start() {
    prepare
    local pids=()
    for n in "${NODES[@]}"; do
        start_node "$n" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    for n in "${NODES[@]:1}"; do join "$n"; done
    for n in "${NODES[@]}"; do await "$n"; done
    wait_running_nodes
    echo "cluster up: $(uri)"
}

wait_running_nodes() {
    for _ in $(seq 120); do
        local up
        up=$(ctl 1 -q cluster_status --formatter json | grep -o "\"running_nodes\":\[[^]]*\]" | grep -o "@" | wc -l)
        ((up == ${#NODES[@]})) && return 0
        sleep 1
    done
    echo "not every node is running in the cluster" >&2
    return 1
}

stop() {
    for n in "${NODES[@]}"; do
        if running "$n"; then ctl "$n" -q stop >/dev/null 2>&1 || true; fi
        if [[ -s "$DIR/node-$n/pid" ]]; then kill -9 "$(cat "$DIR/node-$n/pid")" 2>/dev/null || true; fi
    done
    rm -rf "$DIR"
    echo "cluster stopped and removed"
}

status() {
    local down=0
    for n in "${NODES[@]}"; do
        if running "$n"; then echo "$(node "$n"): running"; else echo "$(node "$n"): down"; down=1; fi
    done
    ((down == 0)) && ctl 1 -q cluster_status
    return "$down"
}

uri() {
    local uris=()
    for n in "${NODES[@]}"; do uris+=("amqp://guest:guest@localhost:$((AMQP_PORT + n - 1))/"); done
    (IFS=';'; echo "${uris[*]}")
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    uri) uri ;;
    pid) cat "$DIR/node-${2:?node number}/pid" ;;
    *) echo "usage: $0 start|stop|status|uri|pid N" >&2; exit 2 ;;
esac
