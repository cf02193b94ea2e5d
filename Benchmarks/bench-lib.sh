# Shared by scripts/bench-peers and scripts/bench: start and stop the servers under test on loopback, each pinned
# to core 0, and run the load generator pinned to core 1. Sourced, not run.
#
# Every server gets a fresh temporary folder and is stopped by its PID. Nothing here listens on or sends to an
# address other than 127.0.0.1.

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_BIN="${BENCH_BIN:-$BENCH_ROOT/.build-release/release}"
BENCH_TMP="${BENCH_TMP:-$(mktemp -d /tmp/commune-bench.XXXXXX)}"
BENCH_SERVER_CORE="${BENCH_SERVER_CORE:-0}"
BENCH_CLIENT_CORE="${BENCH_CLIENT_CORE:-1}"
COMMUNE_PORT="${COMMUNE_PORT:-19841}"
BARE_PORT="${BARE_PORT:-19851}"
PROSODY_PORT="${PROSODY_PORT:-19861}"
SERVER_PID=""
SERVER_DIR=""

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Builds the three release products (the scratch folder keeps the debug build's folder untouched). One
# `swift build` per product: given several `--product` options, SwiftPM builds only the last.
bench_build() {
    local product
    for product in commune commune-bench bare-broadcast; do
        bench_log "building release: $product"
        (cd "$BENCH_ROOT" && swift build -c release --scratch-path .build-release --product "$product") >&2 || return 1
    done
}

# Installs Debian's prosody if it is missing, without letting its system service start.
bench_ensure_prosody() {
    command -v prosody >/dev/null && return 0
    bench_log "installing prosody (apt)"
    local policy=/usr/sbin/policy-rc.d made_policy=""
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
    fi
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prosody >&2
    local status=$?
    [[ -n $made_policy ]] && rm -f "$policy"
    return $status
}

bench_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bench_wait_port() {  # port, seconds
    local deadline=$((SECONDS + $2))
    while ((SECONDS < deadline)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

bench_stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    local i
    for i in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# commune: starts a fresh community (or the one in $1 if given) and sets SERVER_PID, SERVER_DIR. The generator logs
# in thousands of members from one address and sends as fast as it can, so the rate limits are off.
bench_start_commune() {
    SERVER_DIR="${1:-$(mktemp -d "$BENCH_TMP/commune.XXXXXX")}"
    bench_port_free "$COMMUNE_PORT" || { bench_log "port $COMMUNE_PORT is busy"; return 1; }
    taskset -c "$BENCH_SERVER_CORE" "$BENCH_BIN/commune" serve --host 127.0.0.1 --port "$COMMUNE_PORT" \
        --data "$SERVER_DIR" --log-level warning --no-rate-limits >"$SERVER_DIR.log" 2>&1 &
    SERVER_PID=$!
    bench_wait_port "$COMMUNE_PORT" 30 || { bench_log "commune did not start:"; cat "$SERVER_DIR.log" >&2; return 1; }
}

# Prints an invite link with $1 uses for the running community.
bench_commune_invite() {
    "$BENCH_BIN/commune" invite create --uses "$1" --data "$SERVER_DIR" | tail -n 1
}

bench_start_bare() {
    SERVER_DIR="$(mktemp -d "$BENCH_TMP/bare.XXXXXX")"
    bench_port_free "$BARE_PORT" || { bench_log "port $BARE_PORT is busy"; return 1; }
    taskset -c "$BENCH_SERVER_CORE" "$BENCH_BIN/bare-broadcast" --host 127.0.0.1 --port "$BARE_PORT" \
        >"$SERVER_DIR.log" 2>&1 &
    SERVER_PID=$!
    bench_wait_port "$BARE_PORT" 30 || { bench_log "bare-broadcast did not start"; return 1; }
}

# prosody: its own instance on 127.0.0.1 with a config, accounts u1…u$1 (password pw) and data in a temp folder.
bench_start_prosody() {
    local accounts=$1 i
    SERVER_DIR="$(mktemp -d "$BENCH_TMP/prosody.XXXXXX")"
    bench_port_free "$PROSODY_PORT" || { bench_log "port $PROSODY_PORT is busy"; return 1; }
    mkdir -p "$SERVER_DIR/data/localhost/accounts"
    # internal_plain's own storage format, written directly: registering 1,000 accounts with prosodyctl would
    # start 1,000 Lua processes.
    for ((i = 1; i <= accounts; i++)); do
        printf 'return {\n\t["password"] = "pw";\n};\n' >"$SERVER_DIR/data/localhost/accounts/u$i.dat"
    done
    cat >"$SERVER_DIR/prosody.cfg.lua" <<CFG
-- A benchmark peer: loopback only, no TLS, no storage of messages, no rate limits.
run_as_root = true
pidfile = "$SERVER_DIR/prosody.pid"
data_path = "$SERVER_DIR/data"
plugin_paths = { }
modules_enabled = { "saslauth"; "disco"; "ping"; }
modules_disabled = { "s2s"; "offline"; }
interfaces = { "127.0.0.1" }
c2s_ports = { $PROSODY_PORT }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
log = { warn = "$SERVER_DIR/prosody.log" }
certificates = "$SERVER_DIR"
VirtualHost "localhost"
Component "conference.localhost" "muc"
    muc_room_locking = false
    restrict_room_creation = false
    max_history_messages = 0
CFG
    taskset -c "$BENCH_SERVER_CORE" prosody --config "$SERVER_DIR/prosody.cfg.lua" >"$SERVER_DIR.log" 2>&1 &
    SERVER_PID=$!
    bench_wait_port "$PROSODY_PORT" 30 || { bench_log "prosody did not start:"; cat "$SERVER_DIR.log" >&2; return 1; }
}

# Raises the sysctl $1 to $2 if it is lower, and says so (or that it could not).
bench_sysctl_at_least() {
    local current
    current=$(sysctl -n "$1")
    ((current >= $2)) && return 0
    if sysctl -qw "$1=$2"; then bench_log "$1: raised from $current to $2"; else bench_log "$1 is $current (wanted $2; could not raise it)"; fi
    return 0
}

# Prepares this shell (and so the servers and generators it starts) for $1 connections held at once on loopback, both
# ends on this machine: open files for the server and for a generator, system-wide files, conntrack entries; raises
# only what is short, and says what it did. Sets BENCH_SOURCES to how many source addresses the generator should
# connect from: each has ip_local_port_range's ports towards one server port, and connect() takes the even ones first
# (since Linux 4.6); once they are used up, every further connect scans all of them before taking an odd one (at
# 28,232 ports, logins fell from hundreds to 10–40 a second past the 14,116th connection), so at most 85 % of the
# even half is used per address. Returns 1, saying why, when the connections cannot fit.
bench_prepare_connections() {
    local connections=$1 files=$(($1 + 1000)) hard current lo hi ports per_source sources
    hard=$(ulimit -Hn)
    if [[ $hard != unlimited ]] && ((hard < files)); then
        if (ulimit -Hn "$files") 2>/dev/null; then
            ulimit -Hn "$files" && ulimit -n "$files"
            bench_log "open files: hard limit raised from $hard to $files (for the server and each generator)"
        else
            bench_log "open files: the hard limit is $hard and cannot be raised to $files: this shell lacks" \
                "CAP_SYS_RESOURCE (CapBnd $(awk '/^CapBnd/ {print $2}' /proc/self/status)); one process here can hold" \
                "about $((hard - 1000)) connections, not $connections"
            return 1
        fi
    fi
    ulimit -n "$(ulimit -Hn)"
    bench_sysctl_at_least fs.nr_open "$files"
    bench_sysctl_at_least fs.file-max $((2 * files + 100000))  # both ends of every connection, on one machine
    [[ -r /proc/sys/net/netfilter/nf_conntrack_max ]] && bench_sysctl_at_least net.netfilter.nf_conntrack_max $((files + 50000))
    read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
    ports=$((hi - lo + 1))
    per_source=$((ports / 2 * 85 / 100))
    sources=$(((connections + per_source - 1) / per_source))
    # An idle loopback socket holds no buffer pages (sockstat's "mem" stays near 0), so tcp_mem needs no change; the
    # generator opens at most --concurrency connections at once, below somaxconn and the server's backlog.
    bench_log "prepared for $connections connections: open files $(ulimit -n), fs.file-max $(sysctl -n fs.file-max)," \
        "ports $lo–$hi, $per_source connections per source address → $sources source address(es); tcp_mem $(sysctl -n net.ipv4.tcp_mem | tr '\t' ' ')," \
        "now $(awk '/^TCP:/ {print $NF}' /proc/net/sockstat) pages; somaxconn $(sysctl -n net.core.somaxconn)"
    BENCH_SOURCES=$sources
}

# Runs the generator on core 1 against the running server; extra arguments go to commune-bench.
bench_generate() {
    taskset -c "$BENCH_CLIENT_CORE" "$BENCH_BIN/commune-bench" --server-pid "$SERVER_PID" "$@"
}

bench_cleanup() {
    bench_stop_server
    [[ -n ${BENCH_KEEP_TMP:-} ]] || rm -rf "$BENCH_TMP"
}
