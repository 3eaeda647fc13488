#!/bin/bash
# crash-slow-token.sh - a node crash with corosync's token at 3000 ms (the
# shipped deploy/examples/corosync-3node.conf: token 3000, corosync's default
# token_coefficient) and chorusd's default timing must cost the survivors
# nothing (issue 15, item 1).
#
# 3 nodes, 6 VIPs.  Twice: SIGKILL one node's corosync and chorusd together,
# the address sampler (tests/bench/addrwatch) on every node, the survivors as
# its keep set, from before the kill until 3 s after the dead node's VIPs are
# up on the survivors; then the node comes back.  Asserts, for each kill:
#   - no survivor's own VIP ever left its kernel (survivors wrongly taking
#     corosync's silence during failure detection for a hang of their own
#     would drop them);
#   - the dead node's VIPs were taken over (bench_crash fails otherwise).
# Root, corosync; BUILDDIR=build.  About 1-2 minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CL_TOKEN_MS=3000 CL_TOKEN_COEFF=default CL_CHORUS_TIMING=default
. "$here/../bench/lib-bench.sh"
bench_require
N=3
NV=6
CRASH_HOLD_S=3

cl_init crash-slow-token "$N"
bench_cluster_up
for r in 1 2; do
    d=$(( r + 1 ))
    bench_crash "$r" "$d"
    it_check "kill $r (node $d): no survivor VIP left its kernel (lost: ${RUN_LOST}: $(aw_lost "crash$r"))" \
        [ "$RUN_LOST" = 0 ]
    cl_log "kill $r: membership +$RUN_K2M ms, last VIP +$RUN_K2V ms, longest double $RUN_DOUBLE_MS ms"
done
it_verdict
