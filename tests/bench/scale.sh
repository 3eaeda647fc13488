#!/bin/bash
# tests/bench/scale.sh - scale benchmark: 16 nodes, 1,024 VIPs, real corosync + chorusd.
#
# Run as root from a built tree:
#     sudo BUILDDIR=build tests/bench/scale.sh                 # RUNS=3 by default
#     sudo BUILDDIR=build NODES=8 RUNS=5 CL_TOKEN_MS=2000 tests/bench/scale.sh
#
# What it does: an N-node (default 16) cluster of real corosync + chorusd in network
# namespaces (tests/integration/lib.sh), every node declaring all NV (default 1,024)
# VIPs (the lib's private /16 pool, since NV > 100), chorusd logging at "info" (the
# conf written by cl_write_chorus_conf is post-processed: debug logging of 1,024
# addresses is heavy).  It waits (bounded) until every VIP is held exactly once,
# spread even (max - min <= 1) and unchanged for STABLE_MS, then measures:
#   rss_kb            chorusd VmRSS (/proc/PID/status) on every node, idle after the
#                     first settle (median and max across nodes; again at the end).
#   idle cpu          chorusd utime+stime over an IDLE_S idle window (ms per second).
# and, RUNS times (default 3): with the cluster settled, it starts an address
# observer per node (`ip -ts monitor address`, outside chorusd), SIGKILLs one node's
# corosync and chorusd together, and measures on the survivors:
#   membership_to_vips_ms  the earliest "[TOTEM ] A new membership" line in the
#                          survivors' corosync logs -> the moment the LAST of the
#                          dead node's VIPs appeared on a survivor (observer stamp).
#   cpu_ms                 chorusd utime+stime consumed per survivor from just before
#                          the kill until the survivors are settled again (median and
#                          max over the survivors; also minus the idle rate over the
#                          same window: "net").
#   msgs                   CPG messages multicast by chorusd for the change, summed
#                          over the survivors, counted by corosync: on each node the
#                          IPC stats of chorusd's CPG connection (corosync-cmapctl -m
#                          stats: stats.ipcs.service2.<pid>.<conn>.requests minus
#                          .responses; a cpg_mcast_joined request gets no response,
#                          every other CPG request - join, local_get, a request
#                          refused with TRY_AGAIN - gets one), before and after.
#                          Cross-checks printed alongside: "delivered" = the
#                          connection's .dispatched delta on one survivor (messages
#                          from all nodes + confchg callbacks), and the totem-level
#                          stats.srp.mcast_tx / mcast_retx deltas summed over the
#                          survivors (corosync's own packets: chorusd messages packed
#                          or fragmented, plus corosync's sync traffic).
# The dead node is then restarted (corosync, then chorusd) and the run waits (bounded)
# until the cluster is settled again; the same counters are reported for the rejoin.
#
# Output: one line per run, then the summary as the very last line:
#   phases (membership -> last VIP, p50 of each): sync_ms_p50=.. deliver_ms_p50=.. place_ms_p50=.. holdoff_ms_p50=.. spread_ms_p50=.. confirm_ms_p50=..
#   scale nodes=N vips=NV power=0|1 membership_to_vips_ms_p50=X rss_kb=Y msgs_per_change=Z bytes_per_change=B
# (msgs_per_change / bytes_per_change = median over the runs of what the
# survivors multicast for the node-loss change by chorusd's own count, without
# heartbeats (PING) and the periodic CONNS/LOAD reports; "msgs" in the run lines
# is corosync's IPC count, which includes them; phases as in
# tests/bench/lib-bench.sh bench_crash).
# Harness progress goes to stderr (CL_QUIET=1 silences it).  Exit 0 when every run
# converged, 1 (naming the step) when one did not within its bound, 77 when it cannot
# run here.
#
# Environment: NODES (default 16), NV (default 1024), RUNS (default 3), BUILDDIR,
# CL_TOKEN_MS (default 1000, the lib's), LIFETIME_S (chorusd address
# lifetime, default 6 s), STABLE_MS, IDLE_S, POLL_S,
# CL_KEEP_LOGS=DIR.
#
# Totem timing: the lib's token 1000 ms, token_coefficient 0, consensus 1.2 * token,
# join 50 ms.  Measured stable at 16 nodes on 2 cores (corosync runs SCHED_RR, so the
# chorusd/netlink load does not starve it): no spurious ring re-form in any run (the
# script counts "A new membership" lines: exactly N-1 per loss + N+1 per rejoin).
# CL_TOKEN_MS=3000 also works; it only lengthens detection (~6.2 s instead of
# ~2.2 s), which is not part of membership_to_vips_ms.
#
# chorusd timing: the lib leaves it to be derived from corosync's (a 1 s lifetime
# renewed every 250 ms with the lib's token).  With 16 node
# namespaces on one kernel, every address add/renew/delete of all 16 daemons (1,024
# addresses renewed twice a second, plus the kernel's own lifetime worker) serialises
# on the one global RTNL lock: chorusd blocks in inet_rtm_newaddr/deladdr (state D),
# a renewal pass over 64 addresses takes longer than lifetime - 1 s, chorusd's stall
# guard then drops all its addresses and re-adds them, which adds load: placement
# never settled (446 "loop stalled ... dropping our addresses" lines in 2 minutes,
# up to 23 s stalls).  Real nodes each have their own kernel; here the confs are
# post-processed to a lifetime of 6 s, renewed every 1.5 s (valid with
# restart_grace_ms 8000).
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/lib-measure.sh"
RUNS=${RUNS:-3}
N=${NODES:-16}
NV=${NV:-1024}
for v in RUNS N NV; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] ||
        { echo "scale.sh: $v must be a positive integer (got '${!v}')" >&2; exit 2; }
done
[ "$N" -ge 3 ] || { echo "scale.sh: NODES must be >= 3" >&2; exit 2; }
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "SKIP: chorusd not built at $CHORUSD (set BUILDDIR)" >&2; exit 77; }
CHORUSCTL=${CHORUSCTL:-$(dirname "$CHORUSD")/chorusctl}
TCK=$(getconf CLK_TCK)

# bounds (seconds)
T_FORM=120         # ring of N nodes (first start, after each restart)
T_SETTLE=600       # VIPs placed and stable (first start, after each rejoin)
T_MEMBERSHIP=60    # new membership line in a survivor's log after the kill
T_TAKEOVER=300     # all the dead node's VIPs on the survivors
T_OBSERVED=20      # ... and seen by the observers
STABLE_MS=${STABLE_MS:-3000}   # "settled" = unchanged for this long
IDLE_S=${IDLE_S:-10}
POLL_S=${POLL_S:-0.5}           # extra pause between cluster-wide address snapshots
# chorusd address lifetime / refresh (the lib writes 2 s / 500 ms; see the header)
LIFETIME_S=${LIFETIME_S:-6}
# POWER=1 (default): a power loss, as in detect.sh: the node's link goes down
# and its addresses vanish with its kernel, so the survivors' expiry probes
# find nobody and need not wait out the 6 s lifetime.  POWER=0: only the
# processes die, the kernel keeps answering for the addresses until they
# expire, and the takeover waits for that (a double otherwise).
POWER=${POWER:-1}


cl_init scale "$N"

VIPS=()
for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done

# --- helpers (our own; lib.sh and lib-measure.sh are not ours to edit) ----------
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
owner_map() { local a out=""; for a in "${VIPS[@]}"; do out+="$a:${SNAP_OWN[$a]:--} "; done; echo "$out"; }
problems() {
    local a out=() n=0
    for a in "${VIPS[@]}"; do
        [[ ${SNAP_OWN[$a]:-} =~ ^[0-9]+$ ]] && continue
        n=$(( n + 1 )); [ "$n" -le 8 ] && out+=("$a:${SNAP_OWN[$a]:--}")
    done
    [ "$n" -gt 8 ] && out+=("... ($n in all)")
    echo "${out[*]:-none}"
}
counts() { local i s=""; for (( i = 1; i <= N; i++ )); do s+="${SNAP_CNT[i]}/"; done; echo "${s%/}"; }
placed() {
    local a i min=$NV max=0
    for a in "${VIPS[@]}"; do [[ ${SNAP_OWN[$a]:-} =~ ^[0-9]+$ ]] || return 1; done
    for (( i = 1; i <= N; i++ )); do
        [ "${SNAP_CNT[i]}" -lt "$min" ] && min=${SNAP_CNT[i]}
        [ "${SNAP_CNT[i]}" -gt "$max" ] && max=${SNAP_CNT[i]}
    done
    [ $(( max - min )) -le 1 ]
}
SETTLE_MAP="" SETTLE_SINCE=0
settle_reset() { SETTLE_MAP=""; SETTLE_SINCE=0; }
settled() {
    local m now
    sleep "$POLL_S"
    snapshot
    placed || { settle_reset; return 1; }
    m=$(owner_map); now=$(cl_now_ms)
    if [ "$m" != "$SETTLE_MAP" ]; then SETTLE_MAP=$m; SETTLE_SINCE=$now; return 1; fi
    [ $(( now - SETTLE_SINCE )) -ge "$STABLE_MS" ]
}
wait_settled() {
    local t0; t0=$(cl_now_ms)
    settle_reset
    cl_wait_until "$T_SETTLE" settled ||
        cl_fail "$1: cluster not settled within ${T_SETTLE}s: counts $(counts), not held exactly once: $(problems)"
    cl_log "$1: settled after $(( $(cl_now_ms) - t0 )) ms: $(counts)"
}
taken_over() {
    local a i
    sleep "$POLL_S"
    declare -A hold=()
    for i in "$@"; do
        for a in $(cl_vips_on "$i"); do hold[$a]=$(( ${hold[$a]:-0} + 1 )); done
    done
    for a in "${VIPS[@]}"; do [ "${hold[$a]:-0}" = 1 ] || return 1; done
    return 0
}
settled_surv() {    # settled_surv S... : survivors hold every VIP once, map stable STABLE_MS
    local m now
    taken_over "$@" || { settle_reset; return 1; }
    snapshot; m=$(owner_map); now=$(cl_now_ms)
    if [ "$m" != "$SETTLE_MAP" ]; then SETTLE_MAP=$m; SETTLE_SINCE=$now; return 1; fi
    [ $(( now - SETTLE_SINCE )) -ge "$STABLE_MS" ]
}
wait_ring() {
    local i
    for (( i = 1; i <= N; i++ )); do
        cl_wait_members "$i" "$N" "$T_FORM" || cl_fail "$1: node $i does not see $N members"
    done
}
min_of_survivors() {
    local fn=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$("$fn" "$(cl_ndir "$s")/corosync.log" "$after") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] || return 1
    ms_min "${out[@]}"
}
all_gone() { local p; for p in "$@"; do ! cl__alive "$p" || return 1; done; }
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }
count_ring_changes() {  # "A new membership" lines in all corosync logs so far
    cat "$CL_DIR"/n*/corosync.log 2>/dev/null | grep -c '\[TOTEM \] A new membership (' || true
}

# cpu_ms I : chorusd utime+stime of node I in ms
cpu_ms() {
    local pid s; pid=$(cl_chorusd_pid "$1") || { echo 0; return 1; }
    s=$(cat "/proc/$pid/stat") || { echo 0; return 1; }
    s=${s##*) }
    # shellcheck disable=SC2086  # split on purpose; field 3 (state) is $1:
    set -- $s     # utime = field 14 = $12, stime = $13
    echo $(( (${12} + ${13}) * 1000 / TCK ))
}
rss_kb() {
    local pid; pid=$(cl_chorusd_pid "$1") || return 1
    awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}
# cs_stats I : "req resp disp mcast_tx mcast_retx" for node I: chorusd's CPG (service 2)
# IPC connection counters (summed over chorusd's connections to service 2: one) and
# totem srp counters.
cs_stats() {
    cl_exec "$1" timeout 10 corosync-cmapctl -m stats 2>/dev/null | awk '
        $1 ~ /^stats\.ipcs\.service2\./ {
            n = split($1, p, "."); conn = p[4] "." p[5]; key = p[n]
            if (key == "procname") name[conn] = $NF
            else v[conn, key] = $NF
            conns[conn] = 1
        }
        $1 == "stats.srp.mcast_tx" { tx = $NF }
        $1 == "stats.srp.mcast_retx" { rtx = $NF }
        END {
            for (c in conns) if (name[c] == "chorusd") {
                req += v[c, "requests"]; resp += v[c, "responses"]; disp += v[c, "dispatched"]
            }
            printf "%d %d %d %d %d\n", req, resp, disp, tx, rtx
        }'
}
declare -A ST CPU0
stats_all() {       # stats_all TAG NODES... : ST[TAG,i] = cs_stats, CPU0[TAG,i] = cpu_ms
    local tag=$1 i; shift
    for i in "$@"; do ST[$tag,$i]=$(cs_stats "$i"); CPU0[$tag,$i]=$(cpu_ms "$i"); done
}
# stats_delta A B NODES... : prints "msgs disp_one tx retx" summed over NODES (missing
# A baseline = 0, i.e. a freshly started process)
stats_delta() {
    local A=$1 B=$2 i msgs=0 tx=0 rtx=0 disp1="" a b; shift 2
    for i in "$@"; do
        read -r -a a <<< "${ST[$A,$i]:-0 0 0 0 0}"
        read -r -a b <<< "${ST[$B,$i]:-0 0 0 0 0}"
        msgs=$(( msgs + (b[0] - b[1]) - (a[0] - a[1]) ))
        [ -n "$disp1" ] || disp1=$(( b[2] - a[2] ))
        tx=$(( tx + b[3] - a[3] )); rtx=$(( rtx + b[4] - a[4] ))
    done
    echo "$msgs $disp1 $tx $rtx"
}
# chorusd's own count of what it multicast (chorus_messages_sent_total and
# _bytes_, by type): the change's messages without the heartbeats (PING) and
# the periodic advisory reports (CONNS, LOAD) that corosync's IPC counts mix in
declare -A SENT
sent_all() {        # sent_all TAG NODES... : SENT[TAG,i] = "msgs bytes state_bytes"
    local tag=$1 i; shift
    for i in "$@"; do
        SENT[$tag,$i]=$(timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" metrics 2>/dev/null |
            awk -F'[{}" ]+' '/^chorus_message(s|_bytes)_sent_total\{/ && $3 != "PING" && $3 != "CONNS" && $3 != "LOAD" {
                if ($1 ~ /bytes/) { b += $NF; if ($3 == "STATE") sb += $NF } else m += $NF }
                END { printf "%d %d %d\n", m, b, sb }')
    done
}
sent_delta() {      # sent_delta A B NODES... : "msgs bytes state_bytes" summed
    local A=$1 B=$2 i m=0 b=0 sb=0 x y; shift 2
    for i in "$@"; do
        read -r -a x <<< "${SENT[$A,$i]:-0 0 0}"; read -r -a y <<< "${SENT[$B,$i]:-0 0 0}"
        m=$(( m + y[0] - x[0] )); b=$(( b + y[1] - x[1] )); sb=$(( sb + y[2] - x[2] ))
    done
    echo "$m $b $sb"
}
cpu_deltas() {      # cpu_deltas A B NODES... : per-node cpu ms, one per line
    local A=$1 B=$2 i; shift 2
    for i in "$@"; do echo $(( ${CPU0[$B,$i]:-0} - ${CPU0[$A,$i]:-0} )); done
}

# --- cluster ---------------------------------------------------------------------
cl_log "token ${CL_TOKEN_MS} ms, join ${CL_JOIN_MS} ms, $N nodes, $NV VIPs"
for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i" 30; done
wait_ring "start"
for (( i = 1; i <= N; i++ )); do
    f=$(cl_ndir "$i")/chorusd.conf
    cl_write_chorus_conf "$i" "$f" "$NV"
    sed -i -e 's/"level":"debug"/"level":"info"/' \
        -e "s/\"round_timeout_ms\":3000}/\"round_timeout_ms\":3000,\"address_lifetime_s\":$LIFETIME_S}/" "$f"
    grep -q '"level":"info"' "$f" && grep -q "\"address_lifetime_s\":$LIFETIME_S}" "$f" ||
        cl_fail "could not post-process $f"
done
t_start=$(cl_now_ms)
for (( i = 1; i <= N; i++ )); do start_chorusd "$i"; done
wait_settled "start"
echo "initial placement: all $NV VIPs held exactly once $(( $(cl_now_ms) - t_start )) ms after starting $N chorusds"
rings0=$(count_ring_changes)

# idle: RSS, and CPU over IDLE_S seconds
ALL=(); for (( i = 1; i <= N; i++ )); do ALL+=("$i"); done
stats_all idle0 "${ALL[@]}"; ti0=$(cl_now_ms)
sleep "$IDLE_S"
stats_all idle1 "${ALL[@]}"; ti1=$(cl_now_ms)
RSS=(); for i in "${ALL[@]}"; do RSS+=("$(rss_kb "$i")"); done
idle_cpu=$(cpu_deltas idle0 idle1 "${ALL[@]}" | ms_median)
idle_rate_x1000=$(( idle_cpu * 1000000 / (ti1 - ti0) ))   # cpu ms per 1000 s
read -r idle_msgs _ idle_tx _ <<< "$(stats_delta idle0 idle1 "${ALL[@]}")"
echo "idle: rss_kb median=$(ms_median "${RSS[@]}") max=$(ms_max "${RSS[@]}") min=$(ms_min "${RSS[@]}");" \
    "cpu per node median=${idle_cpu} ms over $(( ti1 - ti0 )) ms; chorusd msgs=$idle_msgs totem mcast_tx=$idle_tx (all nodes)"

M2V=() K2M=() MSGS=() CPUMED=() CPUNET=() JMSGS=() CMSGS=() CBYTES=() ROUNDS=()
declare -A PH=()
for (( r = 1; r <= RUNS; r++ )); do
    d=$(( ((r - 1) * 7) % N + 1 ))
    surv=(); for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
    snapshot
    placed || cl_fail "run $r: not settled before the kill: counts $(counts), not held exactly once: $(problems)"
    dead_vips=$(cl_vips_on "$d" | paste -sd' ')
    n_dead=$(wc -w <<< "$dead_vips")
    [ "$n_dead" -gt 0 ] || cl_fail "run $r: node $d holds no VIP"
    ms_observer_start

    stats_all "k$r" "${surv[@]}"; sent_all "k$r" "${surv[@]}"
    cpid=$(cl_corosync_pid "$d") || cl_fail "run $r: corosync $d not running"
    dpid=$(cl_chorusd_pid "$d") || cl_fail "run $r: chorusd $d not running"
    t_kill=$(cl_now_ms)
    [ "$POWER" = 1 ] && cl_link_down "$d"
    kill -KILL "$cpid" "$dpid"
    cl_wait_until 10 all_gone "$cpid" "$dpid" ||
        cl_fail "run $r: node $d's corosync/chorusd survived SIGKILL"
    cl__shm_cleanup "$cpid"; cl__shm_cleanup "$dpid"
    if [ "$POWER" = 1 ]; then
        p=$(cl_vip_addr 0 "$NV")
        for a in $dead_vips; do ip -n "$(cl_ns "$d")" addr del "$a/${p#*/}" dev eth0 2>/dev/null; done
    fi
    cl_log "run $r: killed node $d (corosync $cpid, chorusd $dpid), $n_dead VIPs to move"

    mons=""; for s in "${surv[@]}"; do mons+=" $(ms_monitor_log "$s")"; done
    cl_wait_until "$T_MEMBERSHIP" min_of_survivors ms_membership_time_ms "$t_kill" "${surv[@]}" \
        >/dev/null || cl_fail "run $r: no new membership in the survivors' corosync logs within ${T_MEMBERSHIP}s of killing node $d"
    cl_wait_until "$T_TAKEOVER" taken_over "${surv[@]}" ||
        cl_fail "run $r: the survivors do not hold every VIP exactly once ${T_TAKEOVER}s after node $d was killed"
    cl_wait_until "$T_OBSERVED" ms_last_vip_time_ms "$mons" "$dead_vips" "$t_kill" >/dev/null ||
        cl_fail "run $r: the observers did not see all of node $d's VIPs appear"
    t_mem=$(min_of_survivors ms_membership_time_ms "$t_kill" "${surv[@]}")
    t_vips=$(ms_last_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    t_sync=$(min_of_survivors ms_sync_time_ms "$t_kill" "${surv[@]}") || t_sync=""
    t_first=$(ms_first_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    bench_phases "$t_mem" "$t_sync" "$t_first" "$t_vips" "${surv[@]}"
    phases=$BENCH_PHASES; ROUNDS+=("$BENCH_ROUNDS")
    for kv in $phases; do [ "${kv#*=}" = - ] || PH[${kv%%=*}]+=" ${kv#*=}"; done
    ms_observer_stop
    [ "$POWER" = 1 ] && cl_link_up "$d"
    # the change is over once the survivors are settled (map stable for STABLE_MS)
    # and chorusd's send queues are empty
    settle_reset
    cl_wait_until "$T_SETTLE" settled_surv "${surv[@]}" ||
        cl_fail "run $r: survivors not settled"
    stats_all "s$r" "${surv[@]}"; sent_all "s$r" "${surv[@]}"; t_s=$(cl_now_ms)
    read -r cmsgs cbytes csbytes <<< "$(sent_delta "k$r" "s$r" "${surv[@]}")"
    CMSGS+=("$cmsgs"); CBYTES+=("$cbytes")
    read -r msgs disp1 tx rtx <<< "$(stats_delta "k$r" "s$r" "${surv[@]}")"
    cpu_med=$(cpu_deltas "k$r" "s$r" "${surv[@]}" | ms_median)
    cpu_max=$(cpu_deltas "k$r" "s$r" "${surv[@]}" | ms_max)
    idle_part=$(( idle_rate_x1000 * (t_s - t_kill) / 1000000 ))
    M2V+=($(( t_vips - t_mem ))); K2M+=($(( t_mem - t_kill ))); MSGS+=("$msgs")
    CPUMED+=("$cpu_med"); CPUNET+=($(( cpu_med - idle_part )))
    echo "run $r: node $d killed ($n_dead VIPs): kill_to_membership_ms=${K2M[-1]} membership_to_vips_ms=${M2V[-1]}" \
        "msgs=$msgs change_msgs=$cmsgs change_bytes=$cbytes state_bytes=$csbytes" \
        "delivered_on_one=$disp1 totem_mcast_tx=$tx totem_retx=$rtx" \
        "cpu_ms_per_survivor median=$cpu_med max=$cpu_max net_of_idle=${CPUNET[-1]} (window $(( t_s - t_kill )) ms)" \
        "phases: $phases"

    # bring the node back: corosync, then chorusd; wait until the cluster has settled
    stats_all "j$r" "${surv[@]}"; t_j=$(cl_now_ms)
    cl_corosync_start "$d" 30
    wait_ring "run $r (rejoin of node $d)"
    start_chorusd "$d"
    wait_settled "run $r (rejoin of node $d)"
    [ "${SNAP_CNT[d]}" -gt 0 ] || cl_fail "run $r: node $d rejoined but holds nothing"
    stats_all "e$r" "${ALL[@]}"; t_e=$(cl_now_ms)
    read -r jmsgs jdisp jtx jrtx <<< "$(stats_delta "j$r" "e$r" "${surv[@]}" "$d")"
    jcpu=$(cpu_deltas "j$r" "e$r" "${surv[@]}" | ms_median)
    JMSGS+=("$jmsgs")
    echo "run $r: node $d rejoined: msgs=$jmsgs (restarted node's own included) delivered_on_one=$jdisp" \
        "totem_mcast_tx=$jtx totem_retx=$jrtx cpu_ms_per_survivor median=$jcpu (window $(( t_e - t_j )) ms)"
done

RSS2=(); for i in "${ALL[@]}"; do RSS2+=("$(rss_kb "$i")"); done
rings=$(( $(count_ring_changes) - rings0 ))
echo "end: rss_kb median=$(ms_median "${RSS2[@]}") max=$(ms_max "${RSS2[@]}");" \
    "'A new membership' lines in all corosync logs during the runs: $rings (exactly $(( RUNS * 2 * N )) without spurious re-forms: N-1 per loss, N+1 per rejoin)"
echo "summary: runs=$RUNS token_ms=$CL_TOKEN_MS kill_to_membership_ms_p50=$(ms_median "${K2M[@]}")" \
    "membership_to_vips_ms_p50=$(ms_median "${M2V[@]}") max=$(ms_max "${M2V[@]}")" \
    "cpu_ms_per_change_p50=$(ms_median "${CPUMED[@]}") net_of_idle_p50=$(ms_median "${CPUNET[@]}")" \
    "rejoin_msgs_p50=$(ms_median "${JMSGS[@]}") rss_kb_max=$(ms_max "${RSS[@]}")"
phases=""
for ph in sync deliver place holdoff spread confirm; do
    # shellcheck disable=SC2086  # a list of numbers
    phases+=" ${ph}_ms_p50=$( [ -n "${PH[$ph]:-}" ] && ms_median ${PH[$ph]} || echo -)"
done
echo "phases (membership -> last VIP, p50 of each):$phases"
echo "scale nodes=$N vips=$NV power=$POWER membership_to_vips_ms_p50=$(ms_median "${M2V[@]}")" \
    "rss_kb=$(ms_median "${RSS[@]}") msgs_per_change=$(ms_median "${CMSGS[@]}")" \
    "bytes_per_change=$(ms_median "${CBYTES[@]}") rounds_before_action=$(ms_max "${ROUNDS[@]}")"
exit 0
