#!/bin/bash
# tests/bench/failover.sh - node-crash failover benchmark: 3 nodes, 64 VIPs.
#
# Run as root from a built tree:
#     sudo BUILDDIR=build tests/bench/failover.sh          # RUNS=7 by default
#     sudo BUILDDIR=build RUNS=10 CL_KEEP_LOGS=/tmp/fo tests/bench/failover.sh
#
# What it does: a 3-node cluster of real corosync + chorusd in network namespaces
# (tests/integration/lib.sh), 64 VIPs spread 22/21/21.  Each run, with the
# cluster settled (every VIP held exactly once, spread even, no change for 1 s),
# it starts an address observer per node (`ip -ts monitor address`, outside
# chorusd), SIGKILLs one node's corosync and chorusd together (node 1, 2, 3,
# 1, ...), and measures on the two survivors:
#   kill_to_membership_ms  kill -> the earliest "[TOTEM ] A new membership" line
#                          in the survivors' corosync logs (timestamp: hires).
#                          This is corosync's failure detection, which chorus
#                          does not control: with the lib's default totem timing
#                          (token 1000 ms, token_coefficient 0, consensus 1.2 *
#                          token = 1200 ms, join 50 ms) it is about
#                          token + consensus, i.e. ~2.2 s.  CL_TOKEN_MS changes it.
#   membership_to_vips_ms  that membership line -> the moment the LAST of the dead
#                          node's VIPs appeared on a survivor (observer stamp).
#                          This is chorus's part (plus corosync's service sync and
#                          CPG delivery, which follow the membership line).
#   kill_to_vips_ms        the sum: the outage a client of the last VIP sees.
# The dead node is then restarted (corosync, then chorusd) and the run waits
# (bounded) until it holds its share again and the cluster is settled.
#
# Output: one line per run, then the summary as the very last line:
#   run K: kill_to_membership_ms=.. membership_to_vips_ms=.. kill_to_vips_ms=..
#   failover nodes=3 vips=64 runs=R membership_to_vips_ms_p50=X membership_to_vips_ms_max=Y kill_to_vips_ms_p50=Z
# (harness progress goes to stderr; CL_QUIET=1 silences it).  Exit 0 when every
# run converged, 1 (with the failing run named) when one did not within its
# bound, 77 when it cannot run here (not root, no corosync, chorusd not built).
#
# Environment: RUNS (>= 5, default 7), BUILDDIR (default the repo root),
# CL_KEEP_LOGS=DIR to keep the run dir (corosync/chorusd logs, monitor logs).
# Everything lives in namespaces and a temp dir named after this script's PID;
# the lib's trap tears it all down on exit, error or signal.
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/lib-measure.sh"
RUNS=${RUNS:-7}
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 5 ] ||
    { echo "failover.sh: RUNS must be an integer >= 5 (got '$RUNS')" >&2; exit 2; }
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "SKIP: chorusd not built at $CHORUSD (set BUILDDIR)" >&2; exit 77; }
N=3
NV=64

# bounds (seconds)
T_FORM=30          # initial ring, and the ring after a restart
T_SETTLE=60        # VIPs placed and stable (first start, after each rejoin)
T_MEMBERSHIP=20    # new membership line in a survivor's log after the kill
T_TAKEOVER=30      # all dead node's VIPs on the survivors
T_OBSERVED=5       # ... and seen by the observers
STABLE_MS=1000     # "settled" = unchanged for this long

cl_init failover "$N"

VIPS=()
for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done

# --- helpers (our own; lib.sh and lib-measure.sh are not ours to edit) ----------
# snapshot: SNAP_OWN[addr] = "i" or "i+j" (several holders); SNAP_CNT[i] = #VIPs on i
declare -A SNAP_OWN
SNAP_CNT=()
snapshot() {
    local i a
    SNAP_OWN=(); SNAP_CNT=()
    for (( i = 1; i <= N; i++ )); do
        SNAP_CNT[i]=0
        for a in $(cl_vips_on "$i"); do
            SNAP_OWN[$a]=${SNAP_OWN[$a]:+${SNAP_OWN[$a]}+}$i
            SNAP_CNT[i]=$(( SNAP_CNT[i] + 1 ))
        done
    done
}
owner_map() {       # "addr:owner ..." over all VIPs in order ('-' for none)
    local a out=""
    for a in "${VIPS[@]}"; do out+="$a:${SNAP_OWN[$a]:--} "; done
    echo "${out% }"
}
problems() {        # the VIPs not held exactly once, as "addr:owner" (at most 8)
    local a out=() n=0
    for a in "${VIPS[@]}"; do
        [[ ${SNAP_OWN[$a]:-} =~ ^[0-9]+$ ]] && continue
        n=$(( n + 1 )); [ "$n" -le 8 ] && out+=("$a:${SNAP_OWN[$a]:--}")
    done
    [ "$n" -gt 8 ] && out+=("... ($n in all)")
    echo "${out[*]:-none}"
}
counts() { local i s=""; for (( i = 1; i <= N; i++ )); do s+="${SNAP_CNT[i]}/"; done; echo "${s%/}"; }
# placed: every VIP held exactly once, spread even (max - min <= 1)
placed() {
    local a i min=$NV max=0
    for a in "${VIPS[@]}"; do [[ ${SNAP_OWN[$a]:-} =~ ^[0-9]+$ ]] || return 1; done
    for (( i = 1; i <= N; i++ )); do
        [ "${SNAP_CNT[i]}" -lt "$min" ] && min=${SNAP_CNT[i]}
        [ "${SNAP_CNT[i]}" -gt "$max" ] && max=${SNAP_CNT[i]}
    done
    [ $(( max - min )) -le 1 ]
}
# settled: placed, and the same owner map for STABLE_MS (call it in a wait loop)
SETTLE_MAP="" SETTLE_SINCE=0
settle_reset() { SETTLE_MAP=""; SETTLE_SINCE=0; }
settled() {
    local m now
    snapshot
    placed || { settle_reset; return 1; }
    m=$(owner_map); now=$(cl_now_ms)
    if [ "$m" != "$SETTLE_MAP" ]; then SETTLE_MAP=$m; SETTLE_SINCE=$now; return 1; fi
    [ $(( now - SETTLE_SINCE )) -ge "$STABLE_MS" ]
}
wait_settled() {    # wait_settled WHAT
    settle_reset
    cl_wait_until "$T_SETTLE" settled ||
        cl_fail "$1: cluster not settled within ${T_SETTLE}s: counts $(counts), not held exactly once: $(problems)"
}
# taken_over SURVIVORS... : the survivors together hold every VIP exactly once
# (so the dead node's VIPs are each on exactly one survivor)
taken_over() {
    local a i
    declare -A hold=()
    for i in "$@"; do
        for a in $(cl_vips_on "$i"); do hold[$a]=$(( ${hold[$a]:-0} + 1 )); done
    done
    for a in "${VIPS[@]}"; do [ "${hold[$a]:-0}" = 1 ] || return 1; done
    return 0
}
wait_ring() {       # all nodes see N members
    local i
    for (( i = 1; i <= N; i++ )); do
        cl_wait_members "$i" "$N" "$T_FORM" || cl_fail "$1: node $i does not see $N members"
    done
}
min_of_survivors() {   # min_of_survivors FUNC AFTER S... : earliest FUNC time over survivors' logs
    local fn=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$("$fn" "$(cl_ndir "$s")/corosync.log" "$after") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] || return 1
    ms_min "${out[@]}"
}
all_gone() { local p; for p in "$@"; do ! cl__alive "$p" || return 1; done; }
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }

# --- cluster ---------------------------------------------------------------------
for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i"; done
wait_ring "start"
for (( i = 1; i <= N; i++ )); do
    cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"
    start_chorusd "$i"
done
wait_settled "start"
cl_log "settled: $(counts)"

K2M=() M2V=() K2V=()
for (( r = 1; r <= RUNS; r++ )); do
    d=$(( (r - 1) % N + 1 ))
    surv=(); for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
    snapshot
    placed || cl_fail "run $r: not settled before the kill: counts $(counts), not held exactly once: $(problems)"
    before=$(owner_map)
    dead_vips=$(cl_vips_on "$d" | paste -sd' ')
    n_dead=$(wc -w <<< "$dead_vips")
    [ "$n_dead" -gt 0 ] || cl_fail "run $r: node $d holds no VIP"
    ms_observer_start

    cpid=$(cl_corosync_pid "$d") || cl_fail "run $r: corosync $d not running"
    dpid=$(cl_chorusd_pid "$d") || cl_fail "run $r: chorusd $d not running"
    t_kill=$(cl_now_ms)
    kill -KILL "$cpid" "$dpid"
    cl_wait_until 5 all_gone "$cpid" "$dpid" ||
        cl_fail "run $r: node $d's corosync/chorusd survived SIGKILL"
    cl__shm_cleanup "$cpid"; cl__shm_cleanup "$dpid"
    cl_log "run $r: killed node $d (corosync $cpid, chorusd $dpid), $n_dead VIPs to move"

    mons=""; for s in "${surv[@]}"; do mons+=" $(ms_monitor_log "$s")"; done
    cl_wait_until "$T_MEMBERSHIP" min_of_survivors ms_membership_time_ms "$t_kill" "${surv[@]}" \
        >/dev/null || cl_fail "run $r: no new membership in the survivors' (${surv[*]}) corosync logs within ${T_MEMBERSHIP}s of killing node $d"
    if ! cl_wait_until "$T_TAKEOVER" taken_over "${surv[@]}"; then
        snapshot
        bad=""
        for a in "${VIPS[@]}"; do
            o=$(tr -d "$d+" <<< "${SNAP_OWN[$a]:-}" | sed 's/./&+/g; s/+$//')
            [[ $o =~ ^[0-9]$ ]] || bad+=" $a:${o:--}"
        done
        cl_fail "run $r: the survivors (nodes ${surv[*]}) do not hold every VIP exactly once ${T_TAKEOVER}s after node $d was killed:$bad"
    fi
    cl_wait_until "$T_OBSERVED" ms_last_vip_time_ms "$mons" "$dead_vips" "$t_kill" >/dev/null ||
        cl_fail "run $r: the observers did not see all of node $d's VIPs appear: $(ms_vip_times "$mons" "$dead_vips" "$t_kill" | awk '$2 == "-"' | paste -sd' ')"
    ms_observer_stop
    # only the dead node's VIPs should have moved (not a failure: reported)
    snapshot; moved=0
    for p in $before; do
        a=${p%%:*}; o=${p#*:}
        [ "$o" = "$d" ] || [ "${SNAP_OWN[$a]:-}" = "$o" ] || moved=$(( moved + 1 ))
    done
    [ "$moved" = 0 ] || cl_log "run $r: WARNING: $moved of the survivors' own VIPs moved too"
    t_mem=$(min_of_survivors ms_membership_time_ms "$t_kill" "${surv[@]}")
    t_sync=$(min_of_survivors ms_sync_time_ms "$t_kill" "${surv[@]}") || t_sync=""
    t_first=$(ms_first_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    t_vips=$(ms_last_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    K2M+=($(( t_mem - t_kill ))); M2V+=($(( t_vips - t_mem ))); K2V+=($(( t_vips - t_kill )))
    cl_log "run $r: node $d: membership +$(( t_mem - t_kill )) sync +${t_sync:+$(( t_sync - t_kill ))} first VIP +$(( t_first - t_kill )) last VIP +$(( t_vips - t_kill )) ms ($n_dead VIPs)"
    echo "run $r: kill_to_membership_ms=${K2M[-1]} membership_to_vips_ms=${M2V[-1]} kill_to_vips_ms=${K2V[-1]}"

    # bring the node back: corosync, then chorusd; wait until it has its share
    cl_corosync_start "$d"
    wait_ring "run $r (rejoin of node $d)"
    start_chorusd "$d"
    wait_settled "run $r (rejoin of node $d)"
    [ "${SNAP_CNT[d]}" -gt 0 ] || cl_fail "run $r: node $d rejoined but holds nothing"
    cl_log "run $r: node $d back, settled $(counts)"
done

echo "failover nodes=$N vips=$NV runs=$RUNS" \
    "membership_to_vips_ms_p50=$(ms_median "${M2V[@]}")" \
    "membership_to_vips_ms_max=$(ms_max "${M2V[@]}")" \
    "kill_to_vips_ms_p50=$(ms_median "${K2V[@]}")"
exit 0
