#!/bin/bash
# tests/bench/rogue.sh - failover with a silent CPG member: 3 chorusd nodes, 64 VIPs.
#
# Run as root from a built tree:
#     BUILDDIR=build tests/bench/rogue.sh                 # RUNS=5
#
# As tests/bench/failover.sh (kill a node's corosync and chorusd, measure on
# the survivors, bring it back), with one more member in the chorus CPG
# group that joins and never sends: tests/integration/cpg_peer in "silent"
# mode (a wedged chorusd, an incompatible build, any process that joined the
# group name).  It runs on a fourth corosync node that runs no chorusd, so
# it stays in the group through every kill (nodes 1, 2, 3, 1, ...; the ring
# of 4 stays quorate with 3).  Measured per run:
#   membership_to_vips_ms  "[TOTEM ] A new membership" on a survivor -> the
#                          dead node's last VIP up on a survivor (ip monitor)
#   kill_to_vips_ms        kill -> that last VIP
# Output: one line per run, then the summary as the very last line:
#   rogue runs=R membership_to_vips_ms_p50=X membership_to_vips_ms_max=Y kill_to_vips_ms_p50=Z
# Goal (issue 15): p50 <= 50 (a member that never proved itself must not make
# a failover wait; today every round waits round_timeout for it).
#
# Environment: RUNS (default 5), BUILDDIR, CL_KEEP_LOGS=DIR, CL_TOKEN_MS.
# Exit 0 when every run converged, 1 when one did not within its bound (or
# the silent member died), 77 when it cannot run here.  The lib's trap tears
# everything down on exit, error or signal.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-bench.sh"
RUNS=${RUNS:-5}
bench_uint RUNS 1
bench_require jq cpg_peer
N=3
NV=64

cl_init rogue 4
bench_cluster_up
bench_silent_member_up 4

M2V=() K2V=()
for (( r = 1; r <= RUNS; r++ )); do
    bench_crash "$r" $(( (r - 1) % N + 1 ))
    cl__pid_of "$SILENT_NAME" >/dev/null || cl_fail "run $r: the silent member died"
    M2V+=("$RUN_M2V"); K2V+=("$RUN_K2V")
    echo "run $r: kill_to_membership_ms=$RUN_K2M membership_to_vips_ms=$RUN_M2V kill_to_vips_ms=$RUN_K2V"
done

echo "rogue runs=$RUNS membership_to_vips_ms_p50=$(ms_median "${M2V[@]}")" \
    "membership_to_vips_ms_max=$(ms_max "${M2V[@]}") kill_to_vips_ms_p50=$(ms_median "${K2V[@]}")"
exit 0
