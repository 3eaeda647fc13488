# shellcheck shell=bash
# tests/integration/lib-tickle.sh - helpers shared by tests/integration/tickle.sh
# and tests/bench/reconnect.sh.  Source after lib.sh and tests/bench/lib-measure.sh.
#
# A request/response service (echo.py server, port TK_PORT) runs on every node,
# bound to 0.0.0.0, so whichever node holds a VIP answers on it with its own
# name; clients (echo.py client) run in the client namespace, one per VIP,
# each logging to $CL_DIR/clients/<k>.log with epoch-ms stamps.
#
# A node "dies" with its link first (so nothing it does while dying, such as
# FINs from the killed echo server, reaches a client), then corosync, chorusd
# and the echo server get SIGKILL.

TK_PORT=${TK_PORT:-7000}
TK_SERVER=${TK_SERVER:-server}     # server6: dual-stack on ::
TK_ECHO="$CL_LIB_DIR/echo.py"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 needed" >&2; exit 77; }

# tk_conf I NV CONNECTIONS_JSON : chorusd config for node I with NV VIPs and the
# given "connections" object
tk_conf() {
    local i=$1 nv=$2 conns=$3 f; f="$(cl_ndir "$i")/chorusd.conf"
    cl_write_chorus_conf "$i" "$f" "$nv"
    sed -i '$ s/}$/,\n"connections":'"$conns"'}/' "$f"
}

tk_echo_start() {                   # tk_echo_start I
    local d; d=$(cl_ndir "$1")
    cl__spawn "echo.$1" "$1" "$d/echo.out" python3 "$TK_ECHO" "$TK_SERVER" "$TK_PORT" "n$1"
    cl_wait_until 10 grep -q listening "$d/echo.out" || cl_fail "echo server on node $1 did not start"
}

# tk_spawn_cl NAME LOG ARGS... : "echo.py ARGS..." in the client namespace, recorded
# as NAME, output to LOG.  Do not call it inside $(...).
tk_spawn_cl() {
    local name=$1 log=$2 pid; shift 2
    mkdir -p "$CL_DIR/clients"
    ip netns exec "$(cl_ns_cl)" python3 "$TK_ECHO" "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null
    cl__record "$name" "$pid"
    echo "$pid $name" >> "$CL_DIR/pids.all"
}
tk_client_log() { echo "$CL_DIR/clients/$1.log"; }
# tk_client_start K ADDR : client K (one request per 50 ms, 60 s answer timeout)
tk_client_start() { tk_spawn_cl "client.$1" "$(tk_client_log "$1")" client "$2" "$TK_PORT" 50 60; }
tk_client_stop() { cl__kill_recorded "client.$1" TERM 5; }

# tk_first_after LOG WORD AFTER_MS : epoch ms of the first "<ms> WORD ..." line at or
# after AFTER_MS; prints "<ms> <rest>"
tk_first_after() {
    awk -v w="$2" -v t="$3" '$2 == w && $1 >= t { print; found = 1; exit } END { exit !found }' "$1" 2>/dev/null
}

# tk_listed NODE_FROM ADDR N ON_NODE : ON_NODE's chorusd logged that NODE_FROM lists
# N connection(s) on ADDR
tk_listed() {
    grep -qF "conns: node $1 lists $3 connection(s) on $2" "$(cl_ndir "$4")/chorusd.log" 2>/dev/null
}

# tk_node_die I : link down, then SIGKILL corosync, chorusd and echo; sets
# TK_T_KILL (epoch ms of the link cut).  Not inside $(...): the variable is the
# result.
tk_node_die() {
    local i=$1 p pids=()
    cl_link_down "$i"
    # shellcheck disable=SC2034  # read by the sourcing script
    TK_T_KILL=$(cl_now_ms)
    for p in "corosync.$i" "chorusd.$i" "echo.$i"; do
        pids+=("$(cl__pid_of "$p")")
    done
    kill -KILL "${pids[@]}" 2>/dev/null
    cl_wait_until 10 tk__all_gone "${pids[@]}" || cl_fail "node $i's processes survived SIGKILL"
    for p in "${pids[@]}"; do cl__shm_cleanup "$p"; done
}
tk__all_gone() { local p; for p in "$@"; do ! cl__alive "$p" || return 1; done; }

# tk_node_back I : link up, wait for its addresses to expire, start corosync,
# chorusd and the echo server again
tk_node_back() {
    local i=$1
    cl_link_up "$i"
    # the dead daemon's addresses run out on their own (their derived lifetime)
    cl_wait_until 10 tk__no_vips "$i" || cl_fail "node $i still has addresses after its lifetime"
    cl_corosync_start "$i"
    cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
    tk_echo_start "$i"
}
tk__no_vips() { [ -z "$(cl_vips_on "$1")" ]; }

# tk_spread_is "1 1 1" : VIP counts on nodes 1..N
tk_spread_is() {
    local want=$1 got="" i
    for (( i = 1; i <= CL_N; i++ )); do got+="$(cl_vips_on "$i" | wc -l) "; done
    [ "${got% }" = "$want" ]
}

