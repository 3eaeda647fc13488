#!/bin/bash
# daemon-freeze.sh - a chorusd that stops answering while its corosync lives
# (SIGSTOP: as a D-state hang or a deadlock) must be noticed by its peers,
# its VIPs taken over once their kernel lifetime ran out, and it must rejoin
# cleanly when it wakes (issue 15, item 2).
#
# 3 nodes, 6 VIPs, the lib's timing (address lifetime derived: 1 s).  A 6 s freeze of
# node 2's chorusd, then a 20 s freeze of node 3's, each with the address
# sampler (tests/bench/addrwatch) on every node and node (d % 3 + 1)'s
# `chorusctl status --json` polled every ~200 ms.  Asserts, for each freeze:
#   - before SIGCONT every VIP of the frozen node is on exactly one other node;
#   - no VIP was ever on two nodes (a takeover before the lifetime ran out);
#   - the peer's status names the frozen node "unresponsive" (.nodes[].state)
#     and `chorusctl status` exits non-zero at the end of the freeze;
#   - its VIPs are never reported "up" while the sampler saw them on no node;
#   - after SIGCONT the cluster settles (every VIP exactly once, spread even)
#     and the peer's status is healthy with the node "active" again (within
#     60 s, else bench_freeze fails), and nothing was on two nodes after the
#     wake (the woken node re-adds nothing it no longer owns).
# Root, corosync, jq; BUILDDIR=build.  About 2 minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../bench/lib-bench.sh"
bench_require jq
N=3
NV=6

cl_init daemon-freeze "$N"
bench_cluster_up
r=0
for spec in "2 6000" "3 20000"; do
    read -r d ms <<< "$spec"
    r=$(( r + 1 ))
    bench_freeze "$r" "$d" "$ms"
    w="freeze of ${ms} ms (node $d)"
    it_check "$w: its VIPs each on one other node before SIGCONT ($FZ_MOVED of $FZ_NV)" \
        [ "$FZ_MOVED" = "$FZ_NV" ]
    it_check "$w: no VIP on two nodes ($FZ_DOUBLES episodes, longest $FZ_DOUBLE_MS ms)" \
        [ "$FZ_DOUBLES" = 0 ]
    it_check "$w: the peer's status says \"unresponsive\" at the end ($FZ_END_STATE; $FZ_UNRESP of $FZ_SAMPLES samples)" \
        [ "$FZ_END_STATE" = unresponsive ]
    it_check "$w: chorusctl status exits non-zero at the end (exit $FZ_END_RC; $FZ_RC_BAD of $FZ_SAMPLES samples non-zero)" \
        [ "$FZ_END_RC" != 0 ]
    it_check "$w: its VIPs never \"up\" while on no node ($FZ_VIP_LIES of $FZ_SAMPLES samples)" \
        [ "$FZ_VIP_LIES" = 0 ]
    it_check "$w: nothing on two nodes after the wake ($FZ_WAKE_DOUBLES episodes)" \
        [ "$FZ_WAKE_DOUBLES" = 0 ]
    cl_log "$w: outage ${FZ_OUTAGE_MS} ms, settled ${FZ_SETTLE_MS} ms and healthy ${FZ_REJOIN_MS} ms after SIGCONT"
done
it_verdict
