#!/bin/bash
# corosync-hang.sh - corosync stopped (SIGSTOP) under a running chorusd for
# longer than chorusd's quiet limit, then continued, HANGS times (default 6,
# nodes 1, 2, 3, 1, ...): no address may be on two nodes at any moment, not
# while it hangs (the node must let go before the others take) and not when
# it runs again.  3 nodes, 12 VIPs; the address sampler (tests/bench/addrwatch)
# reads every namespace every 10 ms throughout.
#
# Why: when a stopped corosync runs again it may still hold its old ring's
# token and hand its daemon that daemon's own queued messages at once, in a
# ring the others left seconds ago, before it notices the ring is gone.
# chorusd took those deliveries for "corosync is back" and re-acquired its
# old share while the others held it (chaos seed 204856505, CI 2026-12-07).
# The log line "corosync delivers again after N ms, first a message" marks
# a hang that ended that way; the test counts them ("stale").
#
# Then STALLS times (default 3) the same with the node's chorusd stopped
# too, 300 ms before its quiet limit, as a node whose processes block
# (memory pressure, I/O on a dead LUN) while its kernel still answers on the
# segment: it cannot let go, its kernel keeps the addresses until their
# lifetime runs out (up to L + M after its last renewal), and the others
# must not take them before.  They used to take them at its quiet limit,
# unasked; now they probe from it on and wait while its kernel answers.
#
# HANG_MS defaults to the quiet limit + 2500 ms.  Root, corosync; BUILDDIR.
# About 3 minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${HANGS:=6}" "${STALLS:=3}"
. "$here/../bench/lib-bench.sh"
bench_require jq
N=3
NV=12

cl_init cs-hang "$N"
bench_cluster_up
QUIET_MS=$(timeout 5 "$CHORUSCTL" -s "$(cl_ndir 1)/chorus-run/chorusd.sock" -t 3 status --json |
           jq -r '.cluster.quiet_limit_ms')
[[ "$QUIET_MS" =~ ^[0-9]+$ ]] || cl_fail "no quiet_limit_ms in node 1's status"
: "${HANG_MS:=$(( QUIET_MS + 2500 ))}"

# until T0 MS : sleep (bounded) until MS after T0
until_ms() {
    local n
    for (( n = 0; n < $2 / 20 + 1; n++ )); do
        [ $(( $(cl_now_ms) - $1 )) -ge "$2" ] && break
        sleep 0.02
    done
}

# shellcheck disable=SC2046
aw_start hang -a "$(bench_vip_list)" -e $(bench_node_ns)
stale=0
for (( r = 1; r <= HANGS + STALLS; r++ )); do
    d=$(( (r - 1) % N + 1 ))
    if [ "$r" = $(( HANGS + 1 )) ]; then
        aw_stop hang
        # shellcheck disable=SC2046
        aw_start stall -a "$(bench_vip_list)" -e $(bench_node_ns)
    fi
    log=$(cl_ndir "$d")/chorusd.log
    before=$(grep -c "corosync delivers again" "$log")
    cpid=$(cl_corosync_pid "$d") || cl_fail "run $r: no corosync $d"
    dpid=$(cl_chorusd_pid "$d") || cl_fail "run $r: no chorusd $d"
    held=$(cl_vips_on "$d" | wc -l)
    t0=$(cl_now_ms)
    kill -STOP "$cpid"
    if [ "$r" -gt "$HANGS" ]; then
        until_ms "$t0" $(( QUIET_MS - 300 ))
        kill -STOP "$dpid"
        [ "$(cl_vips_on "$d" | wc -l)" = "$held" ] ||
            cl_fail "run $r: node $d let go before its quiet limit (corosync stopped $(( $(cl_now_ms) - t0 )) ms, quiet limit $QUIET_MS): the stall comes too late to test anything"
    fi
    until_ms "$t0" "$HANG_MS"
    [ "$(cl_vips_on "$d" | wc -l)" = 0 ] ||
        cl_fail "run $r: node $d still holds $(cl_vips_on "$d" | wc -l) VIPs after its corosync hung $(( $(cl_now_ms) - t0 )) ms (quiet limit $QUIET_MS)"
    [ "$r" -gt "$HANGS" ] && kill -CONT "$dpid"
    kill -CONT "$cpid"
    t1=$(cl_now_ms)
    settle_reset
    cl_wait_until "$T_SETTLE" settled ||
        cl_fail "run $r: not settled ${T_SETTLE}s after corosync $d continued: counts $(counts), not held exactly once: $(problems)"
    line=$(grep "corosync delivers again" "$log" | sed -n "$(( before + 1 ))p")
    [ -n "$line" ] || cl_fail "run $r: chorusd $d never said corosync delivers again"
    case $line in *"first a message"*) stale=$(( stale + 1 )); how="its own messages first (stale ring)" ;;
                  *) how="a membership change first" ;; esac
    cl_log "run $r: corosync $d stopped $(( t1 - t0 )) ms$([ "$r" -gt "$HANGS" ] && echo ", chorusd from $(( QUIET_MS - 300 )) ms on"); settled $(( $(cl_now_ms) - t1 )) ms after; $how"
done
[ "$STALLS" -gt 0 ] && aw_stop stall || aw_stop hang
doubles=$(aw_field hang doubles)
double_ms=$(aw_field hang double_ms_max)
it_check "$HANGS hangs of ${HANG_MS} ms ($stale ended with stale-ring deliveries): no VIP on two nodes ($doubles episodes, longest ${double_ms} ms)" \
    [ "$doubles" = 0 ]
if [ "$STALLS" -gt 0 ]; then
    doubles=$(aw_field stall doubles)
    double_ms=$(aw_field stall double_ms_max)
    it_check "$STALLS hangs with chorusd stopped too before its quiet limit: no VIP on two nodes ($doubles episodes, longest ${double_ms} ms; on no node at most $(aw_field stall down_ms_max) ms)" \
        [ "$doubles" = 0 ]
fi
it_verdict
