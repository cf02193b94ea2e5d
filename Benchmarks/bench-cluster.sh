# scripts/bench --cluster: one node on SQLite, one node on PostgreSQL, three nodes on PostgreSQL, side by side.
# Sourced by scripts/bench after bench-lib.sh, not run.
#
# PostgreSQL is a private cluster (scripts/test-postgres) in a temporary folder, on a Unix socket, stopped at the
# end; synchronous_commit and fsync stay on. Every setup gets a database of its own. The nodes and PostgreSQL run on
# core 0 (PostgreSQL's processes are moved there once started; its backends, forked later, inherit it), the
# generators on core 1; CLUSTER_PG_CORE (scripts/bench --postgres-core) puts PostgreSQL on another core instead.
# Nodes listen on 127.0.0.1 only.

CLUSTER_NODE_PIDS=()
CLUSTER_PG_DIR=""
CLUSTER_PG_URL=""
CLUSTER_PG_PID=""

cluster_start_postgres() {
    CLUSTER_PG_DIR="$(mktemp -d /tmp/commune-bench-pg.XXXXXX)"
    bench_log "starting a private PostgreSQL in $CLUSTER_PG_DIR"
    CLUSTER_PG_URL="$("$BENCH_ROOT/scripts/test-postgres" start "$CLUSTER_PG_DIR")" || return 1
    CLUSTER_PG_PID="$(head -n 1 "$CLUSTER_PG_DIR/data/postmaster.pid")"
    local pid
    for pid in "$CLUSTER_PG_PID" $(pgrep -P "$CLUSTER_PG_PID"); do
        taskset -a -p -c "${CLUSTER_PG_CORE:-$BENCH_SERVER_CORE}" "$pid" >/dev/null 2>&1 || true
    done
    local version sync fsync
    version="$(psql "$CLUSTER_PG_URL" -Atc 'SHOW server_version')"
    sync="$(psql "$CLUSTER_PG_URL" -Atc 'SHOW synchronous_commit')"
    fsync="$(psql "$CLUSTER_PG_URL" -Atc 'SHOW fsync')"
    bench_log "PostgreSQL $version: synchronous_commit = $sync, fsync = $fsync"
    CLUSTER_PG_SETTINGS="PostgreSQL $version, synchronous_commit = $sync, fsync = $fsync, on core ${CLUSTER_PG_CORE:-$BENCH_SERVER_CORE} (nodes on core $BENCH_SERVER_CORE, generators on core $BENCH_CLIENT_CORE)"
}

# A fresh database; prints its URL.
cluster_database() {
    psql "$CLUSTER_PG_URL" -q -c "CREATE DATABASE $1" >&2 || return 1
    cluster_database_url "$1"
}

cluster_database_url() {
    local base="${CLUSTER_PG_URL%%\?*}" query="${CLUSTER_PG_URL#*\?}"
    printf '%s/%s?%s\n' "${base%/*}" "$1" "$query"
}

cluster_start_node() {  # port, data folder, database URL ("" for SQLite in the data folder)
    local port=$1 dir=$2 url=$3
    bench_port_free "$port" || { bench_log "port $port is busy"; return 1; }
    local args=(serve --host 127.0.0.1 --port "$port" --data "$dir" --log-level warning --no-rate-limits)
    [[ -n $url ]] && args+=(--database "$url")
    taskset -c "$BENCH_SERVER_CORE" "$BENCH_BIN/commune" "${args[@]}" >"$dir.$port.log" 2>&1 &
    CLUSTER_NODE_PIDS+=("$!")
    bench_wait_port "$port" 60 || { bench_log "the node on $port did not start:"; cat "$dir.$port.log" >&2; return 1; }
}

cluster_stop_nodes() {
    local pid i
    for pid in "${CLUSTER_NODE_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${CLUSTER_NODE_PIDS[@]}"; do
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    CLUSTER_NODE_PIDS=()
}

cluster_cleanup() {
    cluster_stop_nodes
    if [[ -n $CLUSTER_PG_DIR ]]; then
        "$BENCH_ROOT/scripts/test-postgres" stop "$CLUSTER_PG_DIR" || true
        CLUSTER_PG_DIR=""
    fi
}

# Prints an invite link with $1 uses for node $2's port, made on the setup's store ($3: data folder; $4: database).
cluster_invite() {
    local uses=$1 port=$2 dir=$3 url=$4 link
    if [[ -n $url ]]; then
        link="$("$BENCH_BIN/commune" invite create --uses "$uses" --database "$url" | tail -n 1)"
    else
        link="$("$BENCH_BIN/commune" invite create --uses "$uses" --data "$dir" | tail -n 1)"
    fi
    printf 'http://127.0.0.1:%s/#invite=%s\n' "$port" "${link##*#invite=}"
}

# One setup: $1 label (sqlite-1, pg-1, pg-3), $2 nodes, $3 "sqlite" or "postgres". Ingest, then paced fan-out, then
# catch-up, all on the same community.
cluster_setup() {
    local label=$1 nodes=$2 store=$3 url="" dir port i
    dir="$(mktemp -d "$BENCH_TMP/$label.XXXXXX")"
    [[ $store == postgres ]] && { url="$(cluster_database "bench_${label//-/_}")" || return 1; }
    local ports=()
    for ((i = 0; i < nodes; i++)); do ports+=("$((COMMUNE_PORT + i))"); done
    bench_log "$label: starting $nodes node(s) on ports ${ports[*]} ($store)"
    # The first node alone first: it migrates the schema and makes the community.
    for port in "${ports[@]}"; do cluster_start_node "$port" "$dir" "$url" || return 1; done
    local all_ports others=() pg=()
    all_ports="$(IFS=,; echo "${ports[*]}")"
    for ((i = 1; i < nodes; i++)); do others+=("${CLUSTER_NODE_PIDS[$i]}"); done
    local cpu=(--server-pid "${CLUSTER_NODE_PIDS[0]}")
    ((${#others[@]})) && cpu+=(--other-server-pids "$(IFS=,; echo "${others[*]}")")
    [[ -n $url ]] && pg=(--postgres-pid "$CLUSTER_PG_PID")

    bench_log "$label: durable ingest: 20 senders, 64 messages in flight each, ${CLUSTER_INGEST} messages each"
    taskset -c "$BENCH_CLIENT_CORE" "$BENCH_BIN/commune-bench" "${cpu[@]}" "${pg[@]}" --ports "$all_ports" \
        --label "cluster/$label/ingest" --json-out "$out" --mode ingest --name-prefix ingest \
        --invite "$(cluster_invite 20 "${ports[0]}" "$dir" "$url")" \
        --clients 20 --senders 20 --messages "$CLUSTER_INGEST" --window 64 --duration 12 --drain 10 >&2 ||
        bench_log "$label ingest ended with status $?"

    bench_log "$label: paced fan-out: 1 sender on node 1, $CLUSTER_RECEIVERS receivers (on the other nodes if any), $CLUSTER_RATE msg/s"
    taskset -c "$BENCH_CLIENT_CORE" "$BENCH_BIN/commune-bench" "${cpu[@]}" "${pg[@]}" --ports "$all_ports" \
        --label "cluster/$label/latency" --json-out "$out" --name-prefix paced \
        --invite "$(cluster_invite "$((CLUSTER_RECEIVERS + 1))" "${ports[0]}" "$dir" "$url")" \
        --clients "$((CLUSTER_RECEIVERS + 1))" --senders 1 --messages "$CLUSTER_PACED" --rate "$CLUSTER_RATE" \
        --concurrency 50 --duration 30 --drain 10 >&2 || bench_log "$label latency ended with status $?"

    if [[ $store == postgres ]]; then
        # Half the rate: cross-node latency when the one core the nodes and PostgreSQL share is not saturated.
        bench_log "$label: paced fan-out at half the rate, $((CLUSTER_RATE / 2)) msg/s"
        taskset -c "$BENCH_CLIENT_CORE" "$BENCH_BIN/commune-bench" "${cpu[@]}" "${pg[@]}" --ports "$all_ports" \
            --label "cluster/$label/latency-half" --json-out "$out" --name-prefix half \
            --invite "$(cluster_invite "$((CLUSTER_RECEIVERS + 1))" "${ports[0]}" "$dir" "$url")" \
            --clients "$((CLUSTER_RECEIVERS + 1))" --senders 1 --messages "$((CLUSTER_PACED / 2))" \
            --rate "$((CLUSTER_RATE / 2))" --concurrency 50 --duration 30 --drain 10 >&2 ||
            bench_log "$label latency-half ended with status $?"
    fi

    local first=${ports[0]} send=${ports[0]} resume=${ports[0]}
    ((nodes >= 3)) && { send=${ports[1]}; resume=${ports[2]}; }
    bench_log "$label: catch-up: disconnect on $first, 1,000 messages sent on $send, resume on $resume (3 rounds)"
    python3 "$BENCH_ROOT/Benchmarks/catchup-bench.py" --invite "$(cluster_invite 5 "$first" "$dir" "$url")" \
        --first-port "$first" --send-port "$send" --resume-port "$resume" --count 1000 --rounds 3 --senders 4 \
        --label "cluster/$label/catchup" | tee -a "$out" >&2 || bench_log "$label catch-up ended with status $?"
    cluster_stop_nodes
}

# The cluster stream's ceiling: appends/s straight from pgbench, no node running, on a database migrated by a node
# ($1), each append one transaction as PostgresClusterStream.append makes it (take the cluster_stream row, insert
# the record, pg_notify, commit) with a 400-byte body; beside it the same insert numbered by a sequence instead of
# the row (no lock held to the commit). 1 and 16 clients, 5 s each. Prints one JSON line per run into $out.
cluster_stream_ceiling() {
    local url=$1 pgbench scripts
    pgbench="$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)"
    scripts="$(mktemp -d "$BENCH_TMP/pgbench.XXXXXX")"
    psql "$url" -q -c "CREATE TABLE bench_records (LIKE cluster_records INCLUDING ALL)" -c "CREATE SEQUENCE bench_positions" >&2
    cat >"$scripts/row.sql" <<'SQL'
BEGIN;
UPDATE cluster_stream SET position = position + 1 RETURNING position \gset
INSERT INTO cluster_records (position, origin, kind, member_id, body) VALUES (:position, 'bench', 'event', '', repeat('x', 400));
SELECT pg_notify('commune_stream', :position::text);
COMMIT;
SQL
    cat >"$scripts/sequence.sql" <<'SQL'
BEGIN;
INSERT INTO bench_records (position, origin, kind, member_id, body) VALUES (nextval('bench_positions'), 'bench', 'event', '', repeat('x', 400));
COMMIT;
SQL
    local kind clients tps
    for kind in row sequence; do
        for clients in 1 16; do
            tps="$(taskset -c "$BENCH_CLIENT_CORE" "$pgbench" -n -T 5 -c "$clients" -j 1 -f "$scripts/$kind.sql" "$url" 2>&1 |
                sed -n 's/^tps = \([0-9.]*\).*/\1/p')"
            bench_log "stream appends ($kind, $clients clients): ${tps:-?} transactions/s"
            printf '{"label":"cluster/stream/%s-%s","tps":%s}\n' "$kind" "$clients" "${tps:-null}" >>"$out"
        done
    done
}

cluster_run() {
    CLUSTER_INGEST=${CLUSTER_INGEST:-500}
    CLUSTER_RECEIVERS=${CLUSTER_RECEIVERS:-100}
    CLUSTER_RATE=${CLUSTER_RATE:-100}
    CLUSTER_PACED=${CLUSTER_PACED:-1000}
    # scripts/bench --cluster --only LABEL[,LABEL…]: those setups alone (no ceiling run), to profile or repeat one.
    local setups=${1:-sqlite-1,pg-1,pg-3} setup
    for setup in ${setups//,/ }; do
        case $setup in
            sqlite-1 | pg-1 | pg-3) ;;
            *) bench_log "unknown cluster setup $setup (sqlite-1, pg-1, pg-3)"; return 64 ;;
        esac
    done
    # The catch-up runs speak the protocol from Python (Tests/browser/browserkit.py).
    local module missing=()
    for module in selenium websockets cryptography; do python3 -c "import $module" 2>/dev/null || missing+=("$module"); done
    if ((${#missing[@]})); then
        bench_log "installing ${missing[*]} from PyPI (the catch-up runs' client)"
        python3 -m pip install -q "${missing[@]}" >&2 || return 1
    fi
    cluster_start_postgres || return 1
    [[ ,$setups, == *,sqlite-1,* ]] && cluster_setup sqlite-1 1 sqlite
    [[ ,$setups, == *,pg-1,* ]] && cluster_setup pg-1 1 postgres
    [[ ,$setups, == *,pg-3,* ]] && cluster_setup pg-3 3 postgres
    if [[ -z ${1:-} ]]; then
        bench_log "the cluster stream's ceiling (pgbench on the pg-3 database, nodes stopped)"
        cluster_stream_ceiling "$(cluster_database_url bench_pg_3)"
    fi
    bench_log "raw figures: $out"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $CLUSTER_PG_SETTINGS"
    python3 "$BENCH_ROOT/Benchmarks/bench-table.py" --cluster "$out"
}
