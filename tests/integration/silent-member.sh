#!/bin/bash
# silent-member.sh - a CPG member that joined the chorus group and never sends
# must not make failovers wait (issue 15, item 4).
#
# 3 chorusd nodes and a fourth corosync node with tests/integration/cpg_peer
# in "silent" mode in the group.  Twice: SIGKILL a chorusd node's corosync and
# chorusd; the dead node's VIPs must all be up on the survivors within 1000 ms
# of the survivors' new membership (corosync log -> ip monitor), where today
# every round waits round_timeout (3000 ms here) for the silent member.  The
# silent member must still be there after both.
# Root, corosync, jq; BUILDDIR=build.  About 1-2 minutes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../bench/lib-bench.sh"
bench_require jq cpg_peer
N=3
NV=6

cl_init silent-member 4
bench_cluster_up
bench_silent_member_up 4
for r in 1 2; do
    d=$r
    bench_crash "$r" "$d"
    it_check "kill $r (node $d): membership -> last VIP up within 1000 ms ($RUN_M2V ms)" \
        [ "$RUN_M2V" -le 1000 ]
done
silent_alive() { cl__pid_of "$SILENT_NAME" >/dev/null; }
it_check "the silent member stayed in the group" silent_alive
it_verdict
