#!/bin/bash
# tests/bench/detect.sh - what a shorter corosync token buys and what it costs:
# 3 nodes, 64 VIPs, one token (CL_TOKEN_MS, CL_CONSENSUS_MS).
#
# Run as root from a built tree, one at a time under the shared lock:
#     flock /tmp/chorus-cluster.lock env BUILDDIR=$PWD/build tests/bench/detect.sh
#     ... env BUILDDIR=$PWD/build CL_TOKEN_MS=500 CL_KNET_PING=50,1000 CL_KNET_PMTUD_S=30 \
#             SOAK_S=180 tests/bench/detect.sh     # deploy/examples/corosync-fast.conf
#
# Two phases on the same cluster:
#   1. power loss, RUNS times (node 1, 2, 3, 1, ...): the node's link goes down,
#      its corosync and chorusd are SIGKILLed and its VIPs vanish with its
#      kernel; measured on the survivors (lib-bench.sh bench_crash with
#      CRASH_POWER=1, address observers outside chorusd):
#        kill_to_membership_ms  the cut -> the first membership without the
#                               node in a survivor's corosync log:
#                               corosync's detection, about token + consensus
#        membership_to_vips_ms  -> the last of the node's VIPs up on a survivor:
#                               chorus's part, mostly its hold-off for a node
#                               that might be cut off and still hold them
#                               (heartbeat + formation + skew, README "Failure
#                               timing")
#        kill_to_vips_ms        the sum: the outage a client sees
#        survivor_vips_lost     survivors' own VIPs that left their kernel
#                               (the survivors split instead of forming one
#                               ring, lost quorum and released): must be 0
#      then the node comes back and the cluster settles.
#   2. a soak of SOAK_S seconds with nothing killed: both cores saturated (a
#      CPU burner per core) and every node's cluster link lossy (LOSS_PCT of
#      the packets it sends dropped at random, nft numgen in its namespace;
#      this kernel has no netem, so no added jitter: the saturated cores
#      supply what scheduling jitter there is).  Every membership corosync
#      forms in that time is false: counted as distinct ring ids in all
#      nodes' logs.  Also counted: chorusd's releases of everything past its
#      quiet limit (corosync silent that long).
#
# Output: one line per run, the soak's line, then the summary as the last line:
#   detect token_ms=T kill_to_vips_ms_p50=.. kill_to_vips_ms_max=.. false_changes=F consensus_ms=C kill_to_membership_ms_p50=.. membership_to_vips_ms_p50=.. survivor_vips_lost=V runs=R soak_s=S loss_pct=L knet_ping=I,T knet_pmtud_s=P
# token_ms, consensus_ms and knet_ping (interval,timeout of link 0) are
# corosync's effective values (cmap runtime.config).
# Exit 0 when every run converged (false changes are measured, not failed), 1
# naming what did not, 77 when it cannot run here.
#
# Environment: RUNS (default 5), SOAK_S (default 60), LOSS_PCT (default 5),
# BURNERS (default: one per core), CL_TOKEN_MS (default 1000), CL_CONSENSUS_MS
# (default: corosync's 1.2 x token), CL_TOKEN_COEFF (default 0), CL_KNET_PING
# ("INTERVAL,TIMEOUT"; default corosync's token / 4, token / 2), CL_KNET_PMTUD_S
# (default 2, the harness's; corosync's own is 30),
# CL_CHORUS_TIMING (default "default": chorusd derives its timing from
# corosync's, as a deployment of the profile would), CL_KEEP_LOGS=DIR.
# Namespaces, burners and the temp dir are named after this script's PID;
# the lib's trap tears it all down on exit, error or signal.
# shellcheck disable=SC2317,SC2034  # functions called through cl_wait_until; NV, CRASH_POWER are for lib-bench.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CL_CHORUS_TIMING:=default}"
. "$here/lib-bench.sh"
RUNS=${RUNS:-5} SOAK_S=${SOAK_S:-60} LOSS_PCT=${LOSS_PCT:-5} BURNERS=${BURNERS:-$(nproc)}
bench_uint RUNS 1
bench_uint SOAK_S 0 86400
bench_uint LOSS_PCT 0 100
bench_uint BURNERS 0 64
bench_require jq
N=3
NV=64
CRASH_POWER=1

cl_init detect "$N"
bench_cluster_up
token=$(cl_exec 1 corosync-cmapctl -g runtime.config.totem.token | sed 's/.*= //')
consensus=$(cl_exec 1 corosync-cmapctl -g runtime.config.totem.consensus | sed 's/.*= //')
# what corosync made of CL_KNET_PING: it ignores the pair outside interface {}
ping=$(for k in interval timeout; do
           cl_exec 1 corosync-cmapctl -g "runtime.config.totem.interface.0.knet_ping_$k" | sed 's/.*= //'
       done | paste -sd,)
cl_log "corosync: token $token ms, consensus $consensus ms, knet ping interval,timeout $ping ms"
# what chorusd made of them, and whatever it warned about
for (( i = 1; i <= N; i++ )); do
    grep -iE 'timing|warn' "$(cl_ndir "$i")/chorusd.log" 2>/dev/null | head -n 3 |
        while read -r l; do cl_log "chorusd $i: $l"; done
done

K2M=() M2V=() K2V=() LOST=0
for (( r = 1; r <= RUNS; r++ )); do
    bench_crash "$r" $(( (r - 1) % N + 1 ))
    K2M+=("$RUN_K2M"); M2V+=("$RUN_M2V"); K2V+=("$RUN_K2V"); LOST=$(( LOST + RUN_LOST ))
    echo "run $r: kill_to_membership_ms=$RUN_K2M membership_to_vips_ms=$RUN_M2V kill_to_vips_ms=$RUN_K2V survivor_vips_lost=$RUN_LOST double_ms_max=$RUN_DOUBLE_MS phases: $RUN_PHASES"
done

# --- soak ---------------------------------------------------------------
# detect_lossy I PCT : node I drops PCT % of what it sends on its cluster link
detect_lossy() {
    cl_exec "$1" nft -f - <<EOF
table inet chorus_detect {
    chain out {
        type filter hook output priority 0; policy accept;
        oifname "eth0" numgen random mod 100 < $2 drop
    }
}
EOF
}
# detect_rings AFTER_MS : the distinct rings formed in any node's corosync log
# at or after the time (a ring appears once in each of its members' logs)
detect_rings() {
    local i
    for (( i = 1; i <= N; i++ )); do
        awk -v after="$1" "$MS__AWK_TIME"'
        BEGIN {
            split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " ")
            for (k = 1; k <= 12; k++) mon[mn[k]] = k
            days = int(after / 86400000); y = 1970
            while (ms_days(y + 1, 1, 1) <= days) y++
        }
        /\[TOTEM \] A new membership \(/ && ($1 in mon) {
            split($3, t, /[:.]/)
            if (ms_epoch(y, mon[$1], $2 + 0, t[1] + 0, t[2] + 0, t[3] + 0, t[4]) < after) next
            r = $0; sub(/.*A new membership \(/, "", r); sub(/\).*/, "", r); print r
        }' "$(cl_ndir "$i")/corosync.log"
    done | sort -u
}

rel0=()
for (( i = 1; i <= N; i++ )); do read -r _ "rel0[i]" < <(bench_silence "$i"); done
t_soak=$(cl_now_ms)
for (( i = 1; i <= N; i++ )); do
    [ "$LOSS_PCT" = 0 ] || detect_lossy "$i" "$LOSS_PCT" || cl_fail "nft on node $i"
done
for (( b = 1; b <= BURNERS; b++ )); do
    # bounded on its own too, should the trap never run
    timeout $(( SOAK_S + 60 )) sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
    cl__record "burn.$b" "$!"; disown "$!" 2>/dev/null
    echo "$! burn.$b" >> "$CL_DIR/pids.all"
done
cl_log "soak: $SOAK_S s, $BURNERS CPU burners, $LOSS_PCT % loss on every node's eth0"
for (( n = 0; n < SOAK_S * 10; n++ )); do
    [ $(( $(cl_now_ms) - t_soak )) -ge $(( SOAK_S * 1000 )) ] && break
    sleep 0.1
done
for (( b = 1; b <= BURNERS; b++ )); do cl__kill_recorded "burn.$b" TERM 5; done
for (( i = 1; i <= N; i++ )); do cl_exec "$i" nft delete table inet chorus_detect 2>/dev/null; done
rings=$(detect_rings "$t_soak")
FALSE=$(grep -c . <<< "$rings")
rel=0
for (( i = 1; i <= N; i++ )); do
    read -r _ n < <(bench_silence "$i")
    rel=$(( rel + n - ${rel0[i]:-0} ))
done
echo "soak: seconds=$SOAK_S burners=$BURNERS loss_pct=$LOSS_PCT false_changes=$FALSE rings=$(paste -sd, <<< "${rings:--}") self_releases=$rel"
wait_settled "after the soak"

echo "detect token_ms=$token kill_to_vips_ms_p50=$(ms_median "${K2V[@]}")" \
    "kill_to_vips_ms_max=$(ms_max "${K2V[@]}") false_changes=$FALSE consensus_ms=$consensus" \
    "kill_to_membership_ms_p50=$(ms_median "${K2M[@]}")" \
    "membership_to_vips_ms_p50=$(ms_median "${M2V[@]}") survivor_vips_lost=$LOST runs=$RUNS soak_s=$SOAK_S" \
    "loss_pct=$LOSS_PCT knet_ping=$ping knet_pmtud_s=$CL_KNET_PMTUD_S"
exit 0
