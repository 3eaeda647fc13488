#!/bin/bash
# tests/bench/reconnect.sh - how long clients of a lost node's VIPs hang, with
# tickle ACKs off and on.
#
# Run as root from a built tree:
#     sudo BUILDDIR=build tests/bench/reconnect.sh            # RUNS=3 per mode
#     sudo BUILDDIR=build RUNS=5 CL_KEEP_LOGS=/tmp/rc tests/bench/reconnect.sh
#
# A 3-node cluster of real corosync + chorusd in network namespaces
# (tests/integration/lib.sh) with 6 VIPs (2 per node), a request/response
# service on every node (tests/integration/echo.py, bound on 0.0.0.0) and one
# client per VIP in the client namespace, each sending a request every 50 ms
# and waiting up to 60 s for the answer (so only TCP itself, or a tickle,
# can tell it the connection is gone).  For each mode (connections.tickle
# false, then true; everything else at its defaults) the daemons are
# (re)started with that config, then each run:
#   - waits until the cluster is spread 2/2/2 and every client has been quiet
#     (no reconnect) for 5 s, so the owners' lists have been collected and
#     replicated (collect_ms 1000 + update_ms 2000 by default)
#   - kills node d (1, 2, 3, 1, ...): its link goes down first, then its
#     corosync, chorusd and echo server get SIGKILL
#   - for each client of d's VIPs, measures from corosync's new membership
#     (the earliest "[TOTEM ] A new membership" line in the survivors' logs)
#     to the client's first answer after it reconnected
#   - brings node d back and waits until it has its share again
# Output: one line per run, then as the very last line
#   reconnect clients=C membership_to_client_ok_ms_p50_off=A membership_to_client_ok_ms_p50_on=B
# where C is the number of client measurements per mode (2 per run).
# Exit 0 when every client came back within its bound, 1 otherwise, 77 when
# it cannot run here.  Everything lives in namespaces and a temp dir named
# after this script's PID; the lib's trap tears it all down.
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/lib-measure.sh"
RUNS=${RUNS:-3}
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] ||
    { echo "reconnect.sh: RUNS must be a positive integer (got '$RUNS')" >&2; exit 2; }
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "SKIP: chorusd not built at $CHORUSD (set BUILDDIR)" >&2; exit 77; }
N=3
NV=6
T_BACK=60          # the client answered again after the kill (bound)
QUIET_MS=5000      # clients without a reconnect for this long before a kill

cl_init reconnect "$N"
. "$here/../integration/lib-tickle.sh"

VIPS=()
for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done

min_of_survivors() {
    local fn=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$("$fn" "$(cl_ndir "$s")/corosync.log" "$after") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] && ms_min "${out[@]}"
}
quiet() {          # every client connected and without a reconnect for QUIET_MS
    local k last now; now=$(cl_now_ms)
    for (( k = 0; k < NV; k++ )); do
        last=$(awk 'END { print $1 }' "$(tk_client_log "$k")" 2>/dev/null)
        [[ $last =~ ^[0-9]+$ ]] || return 1
        [ $(( now - last )) -ge "$QUIET_MS" ] || return 1
        [ "$(awk 'END { print $2 }' "$(tk_client_log "$k")")" != error ] || return 1
    done
}
start_all() {      # start_all MODE
    local i
    for (( i = 1; i <= N; i++ )); do
        tk_conf "$i" "$NV" "{\"tickle\":$1}"
        cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
    done
    cl_wait_until 60 tk_spread_is "2 2 2" || cl_fail "mode $1: VIPs not spread 2/2/2"
}

for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i"; done
for (( i = 1; i <= N; i++ )); do cl_wait_members "$i" "$N" 30 || cl_fail "no $N-node ring"; done
for (( i = 1; i <= N; i++ )); do tk_echo_start "$i"; done

declare -A P50
C=0
run=0
for mode in false true; do
    name=$([ "$mode" = true ] && echo on || echo off)
    if [ "$mode" = true ]; then
        for (( i = 1; i <= N; i++ )); do cl_chorusd_kill "$i" TERM; done
    fi
    start_all "$mode"
    if [ "$mode" = false ]; then
        for (( k = 0; k < NV; k++ )); do tk_client_start "$k" "${VIPS[k]}"; done
    fi
    S=()
    for (( r = 1; r <= RUNS; r++ )); do
        run=$(( run + 1 ))
        d=$(( (run - 1) % N + 1 ))
        surv=(); for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
        cl_wait_until 60 tk_spread_is "2 2 2" || cl_fail "run $run: VIPs not spread 2/2/2"
        cl_wait_until 60 quiet || cl_fail "run $run: clients not settled: $(tail -qn1 "$CL_DIR"/clients/*.log)"
        ks=()
        for (( k = 0; k < NV; k++ )); do
            [ "$(cl_vip_owner "${VIPS[k]}")" = "$d" ] && ks+=("$k")
        done
        [ ${#ks[@]} -gt 0 ] || cl_fail "run $run: node $d holds none of the clients' VIPs"
        tk_node_die "$d"
        cl_wait_until 20 min_of_survivors ms_membership_time_ms "$TK_T_KILL" "${surv[@]}" >/dev/null ||
            cl_fail "run $run: no new membership after killing node $d"
        t_mem=$(min_of_survivors ms_membership_time_ms "$TK_T_KILL" "${surv[@]}")
        line=""
        for k in "${ks[@]}"; do
            cl_wait_until "$T_BACK" tk_first_after "$(tk_client_log "$k")" ok_after_reconnect "$TK_T_KILL" >/dev/null ||
                cl_fail "run $run ($name): client of ${VIPS[k]} not answered within ${T_BACK}s of the kill"
            t_ok=$(tk_first_after "$(tk_client_log "$k")" ok_after_reconnect "$TK_T_KILL" | awk '{ print $1 }')
            S+=($(( t_ok - t_mem )))
            line+=" ${VIPS[k]}=$(( t_ok - t_mem ))"
        done
        echo "run $run: tickle=$name node=$d kill_to_membership_ms=$(( t_mem - TK_T_KILL )) membership_to_client_ok_ms:$line"
        tk_node_back "$d"
        cl_wait_until 60 tk_spread_is "2 2 2" || cl_fail "run $run: node $d did not get its share back"
    done
    P50[$name]=$(ms_median "${S[@]}")
    C=${#S[@]}
    cl_log "tickle=$name: membership -> client ok: p50 ${P50[$name]} ms, max $(ms_max "${S[@]}") ms over $C clients"
done

echo "reconnect clients=$C membership_to_client_ok_ms_p50_off=${P50[off]}" \
    "membership_to_client_ok_ms_p50_on=${P50[on]}"
exit 0
