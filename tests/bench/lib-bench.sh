# shellcheck shell=bash
# tests/bench/lib-bench.sh - a chorus cluster to hurt and measure: bring-up,
# "settled", node crash with timings, freeze (SIGSTOP of chorusd alone) and
# link flaps, each watched by the address sampler.  Used by the benchmarks
# (failover, rogue, freeze, flap) and the integration tests of issue 15.
# Source it alone (it brings tests/integration/lib.sh and lib-measure.sh), and
# before its functions run, cl_init and set:
#   N          nodes running chorusd (1..N); corosync may run on more (CL_N)
#   NV         VIPs (cl_vip_addr 0..NV-1, every node lists all of them)
#   VIPS       the addresses without prefix (bench_vips fills it)
# Bounds (seconds, overridable): T_FORM ring formed, T_SETTLE placed and
# stable, T_MEMBERSHIP new membership after a kill, T_TAKEOVER the dead
# node's VIPs on the survivors, T_OBSERVED their appearance logged; STABLE_MS
# how long "settled" must last.
# shellcheck disable=SC2317,SC2034,SC2119,SC2120  # called through cl_wait_until; RUN_* and FZ_* are for the caller; bench_node_ns takes nodes or none
if ! declare -F ms_median >/dev/null; then
    . "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib-measure.sh"
fi
: "${T_FORM:=30}" "${T_SETTLE:=60}" "${T_MEMBERSHIP:=20}" "${T_TAKEOVER:=30}"
: "${T_OBSERVED:=5}" "${STABLE_MS:=1000}"

# bench_require [jq] [cpg_peer] : exit 77 (skip) unless this can run here:
# root, corosync, chorusd and the sampler built, and what is named
bench_require() {
    local w
    cl_require_root_corosync
    [ -x "$CHORUSD" ] || { echo "SKIP: chorusd not built at $CHORUSD (set BUILDDIR)" >&2; exit 77; }
    [ -x "$ADDRWATCH" ] || { echo "SKIP: addrwatch not built at $ADDRWATCH (set BUILDDIR)" >&2; exit 77; }
    for w in "$@"; do
        case $w in
            jq) command -v jq >/dev/null || { echo "SKIP: jq not installed" >&2; exit 77; } ;;
            cpg_peer) [ -x "$CPG_PEER" ] || { echo "SKIP: cpg_peer not built at $CPG_PEER (set BUILDDIR)" >&2; exit 77; } ;;
        esac
    done
}

# bench_uint NAME MIN [MAX] : exit 2 unless $NAME is an integer in MIN..MAX
bench_uint() {
    local v=${!1-}
    [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$2" ] && [ "$v" -le "${3:-999999999}" ] && return 0
    echo "${0##*/}: $1 must be an integer in $2..${3:-} (got '$v')" >&2
    exit 2
}

bench_vips() {      # fill VIPS from NV
    local k a
    VIPS=()
    for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done
}

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
wait_ring() {       # every corosync node sees them all
    local i
    for (( i = 1; i <= CL_N; i++ )); do
        cl_wait_members "$i" "$CL_N" "$T_FORM" || cl_fail "$1: node $i does not see $CL_N members"
    done
}
min_of_survivors() {   # min_of_survivors "FUNC [ARG]" AFTER S... : earliest FUNC [ARG] LOG AFTER over survivors' logs
    local fn=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$($fn "$(cl_ndir "$s")/corosync.log" "$after") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] || return 1
    ms_min "${out[@]}"
}
ms_left_time_ms_of() { ms_left_time_ms "$2" "$3" "$1"; }   # NODEID LOG AFTER
all_gone() { local p; for p in "$@"; do ! cl__alive "$p" || return 1; done; }
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }

# bench_cluster_up : corosync on nodes 1..CL_N, chorusd with NV VIPs on 1..N,
# settled
bench_cluster_up() {
    local i
    bench_vips
    for (( i = 1; i <= CL_N; i++ )); do cl_corosync_start "$i"; done
    wait_ring "start"
    for (( i = 1; i <= N; i++ )); do
        cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"
        start_chorusd "$i"
    done
    wait_settled "start"
    cl_log "settled: $(counts)"
}

bench_node_ns() {   # the namespaces of nodes 1..N, or of the nodes given
    local i out=()
    if [ $# -gt 0 ]; then for i in "$@"; do out+=("$(cl_ns "$i")"); done
    else for (( i = 1; i <= N; i++ )); do out+=("$(cl_ns "$i")"); done; fi
    echo "${out[*]}"
}
bench_vip_list() { local IFS=,; echo "${VIPS[*]}"; }   # "a,b,c" for addrwatch -a

# bench_crash R D : SIGKILL node D's corosync and chorusd together, measure on
# the survivors, bring D back.  Sets
#   RUN_K2M RUN_M2V RUN_K2V  kill -> membership line, membership -> the dead
#                            node's last VIP up (ip monitor stamp), their sum
#   RUN_LOST                 survivors' VIPs that left their kernel between the
#                            kill and CRASH_HOLD_S after the takeover
#   RUN_DOUBLE_MS RUN_DOWN_MS  longest time a VIP was on two nodes / on none
#                            (sampler, same span)
#   RUN_PHASES               where membership -> last VIP went, in ms, each
#                            phase from the earliest survivor's stamp
#                            (bench_phases, lib-measure.sh); "-" where a
#                            stamp is missing
#   RUN_ROUNDS               rounds the placement waited for: 0 when members
#                            only left and it placed at once
# A survivor is every other node 1..N (nodes above N run no chorusd).
# CRASH_POWER=1 makes it a power loss: D's link goes down first and its VIPs
# vanish with its kernel, so nobody answers for them (the survivors' expiry
# probes go unanswered and they need not wait for the addresses' lifetime).
: "${CRASH_HOLD_S:=2}" "${CRASH_POWER:=0}"
bench_crash() {
    local r=$1 d=$2 i s surv=() ns_surv=() before dead_vips n_dead cpid dpid t_kill mons
    local bad a o p moved t_mem t_sync t_first t_vips aw="crash$1"
    for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
    for s in "${surv[@]}"; do ns_surv+=("$(cl_ns "$s")"); done
    snapshot
    placed || cl_fail "run $r: not settled before the kill: counts $(counts), not held exactly once: $(problems)"
    before=$(owner_map)
    dead_vips=$(cl_vips_on "$d" | paste -sd' ')
    n_dead=$(wc -w <<< "$dead_vips")
    [ "$n_dead" -gt 0 ] || cl_fail "run $r: node $d holds no VIP"
    ms_observer_start
    # shellcheck disable=SC2046
    aw_start "$aw" -a "$(bench_vip_list)" -k "$(IFS=,; echo "${ns_surv[*]}")" -e $(bench_node_ns)

    cpid=$(cl_corosync_pid "$d") || cl_fail "run $r: corosync $d not running"
    dpid=$(cl_chorusd_pid "$d") || cl_fail "run $r: chorusd $d not running"
    t_kill=$(cl_now_ms)
    [ "$CRASH_POWER" = 1 ] && cl_link_down "$d"
    kill -KILL "$cpid" "$dpid"
    cl_wait_until 5 all_gone "$cpid" "$dpid" ||
        cl_fail "run $r: node $d's corosync/chorusd survived SIGKILL"
    cl__shm_cleanup "$cpid"; cl__shm_cleanup "$dpid"
    if [ "$CRASH_POWER" = 1 ]; then
        p=$(cl_vip_addr 0 "$NV")
        for a in $dead_vips; do ip -n "$(cl_ns "$d")" addr del "$a/${p#*/}" dev eth0 2>/dev/null; done
    fi
    cl_log "run $r: killed node $d (corosync $cpid, chorusd $dpid), $n_dead VIPs to move"

    mons=""; for s in "${surv[@]}"; do mons+=" $(ms_monitor_log "$s")"; done
    cl_wait_until "$T_MEMBERSHIP" min_of_survivors "ms_left_time_ms_of $d" "$t_kill" "${surv[@]}" \
        >/dev/null || cl_fail "run $r: no new membership without node $d in the survivors' (${surv[*]}) corosync logs within ${T_MEMBERSHIP}s of killing node $d"
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
    sleep "$CRASH_HOLD_S"
    aw_stop "$aw"
    RUN_LOST=$(aw_field "$aw" kept_lost)
    RUN_DOUBLE_MS=$(aw_field "$aw" double_ms_max)
    RUN_DOWN_MS=$(aw_field "$aw" down_ms_max)
    [ "$RUN_LOST" = 0 ] || cl_log "run $r: survivors' VIPs that left their kernel: $(aw_lost "$aw")"
    # only the dead node's VIPs should have moved (not a failure: reported)
    snapshot; moved=0
    for p in $before; do
        a=${p%%:*}; o=${p#*:}
        [ "$o" = "$d" ] || [ "${SNAP_OWN[$a]:-}" = "$o" ] || moved=$(( moved + 1 ))
    done
    [ "$moved" = 0 ] || cl_log "run $r: WARNING: $moved of the survivors' own VIPs moved too"
    t_mem=$(min_of_survivors "ms_left_time_ms_of $d" "$t_kill" "${surv[@]}")
    t_sync=$(min_of_survivors ms_sync_time_ms "$t_kill" "${surv[@]}") || t_sync=""
    t_first=$(ms_first_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    t_vips=$(ms_last_vip_time_ms "$mons" "$dead_vips" "$t_kill")
    RUN_K2M=$(( t_mem - t_kill )) RUN_M2V=$(( t_vips - t_mem )) RUN_K2V=$(( t_vips - t_kill ))
    # chorusd's log stamps have ms resolution but may trail the corosync
    # line by a few ms: each phase starts where the previous one ended
    bench_phases "$t_mem" "$t_sync" "$t_first" "$t_vips" "${surv[@]}"
    RUN_PHASES=$BENCH_PHASES RUN_ROUNDS=$BENCH_ROUNDS
    cl_log "run $r: node $d: membership +$RUN_K2M sync +${t_sync:+$(( t_sync - t_kill ))} first VIP +$(( t_first - t_kill )) last VIP +$RUN_K2V ms ($n_dead VIPs)"

    # bring the node back: corosync, then chorusd; wait until it has its share
    [ "$CRASH_POWER" = 1 ] && cl_link_up "$d"
    cl_corosync_start "$d"
    wait_ring "run $r (rejoin of node $d)"
    start_chorusd "$d"
    wait_settled "run $r (rejoin of node $d)"
    [ "${SNAP_CNT[d]}" -gt 0 ] || cl_fail "run $r: node $d rejoined but holds nothing"
    cl_log "run $r: node $d back, settled $(counts)"
}

# bench_freeze R D FREEZE_MS : SIGSTOP node D's chorusd (its corosync runs on)
# for FREEZE_MS, SIGCONT, wait until settled.  A peer's status is polled all
# through the freeze.  Sets
#   FZ_OUTAGE_MS   longest total time one of D's VIPs was on no node
#   FZ_DOUBLES FZ_DOUBLE_MS      double episodes (all VIPs, the whole run), longest
#   FZ_WAKE_DOUBLES              of those, started after SIGCONT
#   FZ_MOVED       D's VIPs each on exactly one other node at the end of the freeze
#   FZ_NV          D's VIPs at the start
#   FZ_ACTUAL_MS   SIGSTOP -> SIGCONT as it happened
#   FZ_UNRESP FZ_ACTIVE FZ_RC_BAD FZ_SAMPLES   status samples during the freeze:
#                  D "unresponsive", D "active", chorusctl status exit != 0, all
#   FZ_LIES        samples with D "active" or one of its VIPs "up" while the
#                  sampler saw that VIP on no node; FZ_VIP_LIES only the latter
#   FZ_END_STATE FZ_END_RC   the last sample before SIGCONT
#   FZ_SETTLE_MS   SIGCONT -> settled
#   FZ_REJOIN_MS   SIGCONT -> the peer's status healthy (exit 0), D "active"
bench_freeze() {
    local r=$1 d=$2 freeze_ms=$3 p i dpid t_stop t_cont a n aw="freeze$1" st
    local dvips=() sum
    p=$(( d % N + 1 ))
    snapshot
    placed || cl_fail "run $r: not settled before the freeze: counts $(counts), not held exactly once: $(problems)"
    mapfile -t dvips < <(cl_vips_on "$d")
    FZ_NV=${#dvips[@]}
    [ "$FZ_NV" -gt 0 ] || cl_fail "run $r: node $d holds no VIP"
    # shellcheck disable=SC2046
    aw_start "$aw" -a "$(bench_vip_list)" -e $(bench_node_ns)
    ms_status_poll_start "$aw" "$p" "$d" "${dvips[*]}"
    dpid=$(cl_chorusd_pid "$d") || cl_fail "run $r: chorusd $d not running"
    t_stop=$(cl_now_ms)
    kill -STOP "$dpid"
    cl_log "run $r: chorusd $d (pid $dpid) stopped for $freeze_ms ms; its VIPs: ${dvips[*]}; node $p's status polled"
    # sleep in short steps so a signal ends the test at once
    for (( n = 0; n < freeze_ms / 100 + 1; n++ )); do
        [ $(( $(cl_now_ms) - t_stop )) -ge "$freeze_ms" ] && break
        sleep 0.1
    done
    ms_status_poll_stop "$aw" nowait
    snapshot
    FZ_MOVED=0
    for a in "${dvips[@]}"; do
        [[ ${SNAP_OWN[$a]:-} =~ ^[0-9]+$ ]] && [ "${SNAP_OWN[$a]}" != "$d" ] && FZ_MOVED=$(( FZ_MOVED + 1 ))
    done
    t_cont=$(cl_now_ms)
    kill -CONT "$dpid"
    FZ_ACTUAL_MS=$(( t_cont - t_stop ))
    ms_status_poll_stop "$aw"
    cl_log "run $r: chorusd $d continued after $FZ_ACTUAL_MS ms; $FZ_MOVED of its ${FZ_NV} VIPs were on one other node"
    settle_reset
    cl_wait_until "$T_SETTLE" settled ||
        cl_fail "run $r: not settled within ${T_SETTLE}s of waking node $d: counts $(counts), not held exactly once: $(problems)"
    FZ_SETTLE_MS=$(( $(cl_now_ms) - t_cont ))
    cl_chorusd_pid "$d" >/dev/null || cl_fail "run $r: chorusd $d died after SIGCONT"
    cl_wait_until "$T_SETTLE" ms_status_healthy "$p" "$d" ||
        cl_fail "run $r: node $p's status not healthy with node $d active ${T_SETTLE}s after SIGCONT"
    FZ_REJOIN_MS=$(( $(cl_now_ms) - t_cont ))
    aw_stop "$aw"
    sum=$(aw_sum "$aw")
    FZ_OUTAGE_MS=0
    for a in "${dvips[@]}"; do
        n=$(aw_addr_field "$aw" "$a" down_ms_total)
        [ "${n:-0}" -gt "$FZ_OUTAGE_MS" ] && FZ_OUTAGE_MS=$n
    done
    FZ_DOUBLES=$(aw_field "$aw" doubles)
    FZ_DOUBLE_MS=$(aw_field "$aw" double_ms_max)
    FZ_WAKE_DOUBLES=$(awk -v t="$t_cont" '$1 == "episode" && $3 == "double" && $4 + 0 >= t' "$sum" | wc -l)
    read -r FZ_SAMPLES FZ_UNRESP FZ_ACTIVE FZ_RC_BAD FZ_LIES FZ_VIP_LIES FZ_END_STATE FZ_END_RC < \
        <(ms_status_judge "$aw" "$sum")
    st="samples=$FZ_SAMPLES unresponsive=$FZ_UNRESP active=$FZ_ACTIVE rc_nonzero=$FZ_RC_BAD lies=$FZ_LIES vip_lies=$FZ_VIP_LIES end_state=$FZ_END_STATE end_rc=$FZ_END_RC"
    cl_log "run $r: node $d: outage ${FZ_OUTAGE_MS} ms, doubles $FZ_DOUBLES (max ${FZ_DOUBLE_MS} ms, $FZ_WAKE_DOUBLES after wake), settled ${FZ_SETTLE_MS} ms, healthy ${FZ_REJOIN_MS} ms after SIGCONT; status: $st"
}

# bench_silence I : node I's "SILENCE_MAX_MS SELF_RELEASES" from its status
# (chorusd's own count of the longest corosync silence, and of the times it
# passed the quiet limit)
bench_silence() {
    timeout 5 "$CHORUSCTL" -s "$(cl_ndir "$1")/chorus-run/chorusd.sock" -t 3 status --json \
        2>/dev/null | jq -r '"\(.cluster.silence_max_ms // 0) \(.cluster.self_releases // 0)"' \
        2>/dev/null || echo "0 0"
}

: "${FLAP_MIN_MS:=50}" "${FLAP_MAX_MS:=300}" "${FLAP_HOLD_S:=5}"
# bench_flap R D FLAPS : take node D's eth0 down for FLAP_MIN_MS..FLAP_MAX_MS
# (default 50..300; RANDOM, which the caller seeds) FLAPS times, waiting for
# the ring and the placement to settle after each and FLAP_HOLD_S (default
# 5) more after the last; the sampler watches every node all along.  Sets
#   FL_DOUBLE_MS FL_DOWN_MS  longest time a VIP was on two nodes / on none
#   FL_DOUBLES FL_DOWNS      how many such episodes
#   FL_LINK_MS               the link-down times, measured ("120,55,...")
#   FL_SILENCE_MS            the longest time corosync delivered nothing on
#                            any node during these flaps, measured by a CPG
#                            client of the test's own (cpg_peer, its own group)
#   FL_SELF_RELEASES         how often a chorusd released everything because
#                            that silence passed its quiet limit
bench_flap() {
    local r=$1 d=$2 flaps=$3 f ms t0 t1 aw="flap$1" i s0 n0 s1 n1
    local -a rel0=() wname=() wpid=()
    FL_LINK_MS="" FL_SILENCE_MS=0 FL_SELF_RELEASES=0
    # not a check: the previous run's node may have been dropped again after
    # it had settled (knet), and that run's sampler has stopped by now
    wait_settled "run $r (before the flaps)"
    for (( i = 1; i <= N; i++ )); do
        read -r s0 n0 < <(bench_silence "$i")
        rel0[i]=$n0
        # corosync's silences, measured apart from chorusd: a CPG client
        # in a group of its own that multicasts 20 times a second
        cl_cpg_peer_start "$i" -s 8 -r 20 "watch$CL_P" garbage
        wname[i]=$CL_CPG_PEER_NAME wpid[i]=$CL_CPG_PEER_PID
    done
    # shellcheck disable=SC2046
    aw_start "$aw" -a "$(bench_vip_list)" -e $(bench_node_ns)
    for (( f = 1; f <= flaps; f++ )); do
        ms=$(( FLAP_MIN_MS + RANDOM % (FLAP_MAX_MS - FLAP_MIN_MS + 1) ))
        t0=$(cl_now_ms)
        cl_link_down "$d"
        sleep "$(( ms / 1000 )).$(printf '%03d' $(( ms % 1000 )))"
        cl_link_up "$d"
        t1=$(cl_now_ms)
        FL_LINK_MS+="${FL_LINK_MS:+,}$(( t1 - t0 ))"
        cl_log "run $r: flap $f: node $d's link down for $(( t1 - t0 )) ms (asked $ms)"
        wait_ring "run $r, flap $f"
        wait_settled "run $r, flap $f"
    done
    # a rejoined node can be dropped again seconds after all looked settled
    # (knet's next MTU probe): keep watching that long, then settle again
    sleep "$FLAP_HOLD_S"
    wait_settled "run $r, $FLAP_HOLD_S s after the last flap"
    aw_stop "$aw"
    for (( i = 1; i <= N; i++ )); do
        read -r s1 n1 < <(bench_silence "$i")
        FL_SELF_RELEASES=$(( FL_SELF_RELEASES + n1 - ${rel0[i]} ))
        cl_cpg_peer_stop "${wname[i]}"
        s1=$(cl_cpg_peer_summary "$i" "${wpid[i]}" | sed -n 's/.* gap_max_ms=\([0-9]*\) .*/\1/p')
        (( ${s1:-0} > FL_SILENCE_MS )) && FL_SILENCE_MS=$s1
    done
    cl_log "run $r: corosync's longest silence ${FL_SILENCE_MS} ms," \
        "$FL_SELF_RELEASES releases of everything past the quiet limit"
    FL_DOUBLE_MS=$(aw_field "$aw" double_ms_max)
    FL_DOWN_MS=$(aw_field "$aw" down_ms_max)
    FL_DOUBLES=$(aw_field "$aw" doubles)
    FL_DOWNS=$(aw_field "$aw" downs)
    [ "$FL_DOUBLES" = 0 ] || {
        cl_log "run $r: doubles: $(awk '$1 == "episode" && $3 == "double" { printf "%s %s ms; ", $2, substr($6, 4) }' "$(aw_sum "$aw")")"
        bench_double_context "$aw"
    }
}

# bench_double_context AW : for the first addresses the sampler saw on two
# nodes, where the sampler saw them come and go, and what every chorusd
# logged from 4 s before the episode to 1 s after it (a double in CI, whose
# run directory is gone, must be told apart from its output)
bench_double_context() {
    local aw=$1 a t0 t1 w0 w1 i
    while read -r _ a _ t0 t1 _; do
        echo "  double $a: sampler, $a's changes (STAMP NS +|-):"
        grep -F " $a " "$(aw_dir)/$aw.log" 2>/dev/null |
            awk -v a="${t0%.*}" -v b="${t1%.*}" '{ t = int($1) } t >= a - 4000 && t <= b + 1000' | head -n 20 | sed 's/^/    /'
        w0=$(date -u -d "@$(( ${t0%.*} / 1000 - 4 ))" +%H:%M:%S) w1=$(date -u -d "@$(( ${t1%.*} / 1000 + 2 ))" +%H:%M:%S)
        for (( i = 1; i <= N; i++ )); do
            echo "  node $i chorusd, $w0 to $w1:"
            awk -v w0="$w0" -v w1="$w1" '$3 >= w0 && $3 <= w1 && $4 != "debug"' "$(cl_ndir "$i")/chorusd.log" 2>/dev/null |
                head -n 25 | cut -c1-200 | sed 's/^/    /'
        done
    done < <(awk '$1 == "episode" && $3 == "double"' "$(aw_sum "$aw")" | head -n 2)
}

# bench_round_complete I MEMBERS : node I's chorusd sees MEMBERS CPG members
# and has finished its round with them
bench_round_complete() {
    [ "$(timeout 5 "$CHORUSCTL" -s "$(cl_ndir "$1")/chorus-run/chorusd.sock" -t 3 status --json 2>/dev/null |
         jq -r '"\(.cluster.members) \(.cluster.round_complete)"' 2>/dev/null)" = "$2 true" ]
}

# bench_silent_member_up I : a CPG member on node I that joins the chorus group
# and never sends (tests/integration/cpg_peer silent); waits until every
# chorusd has finished the round its join started.  Sets SILENT_NAME.
bench_silent_member_up() {
    local i
    cl_cpg_peer_start "$1" chorus silent
    SILENT_NAME=$CL_CPG_PEER_NAME
    for (( i = 1; i <= N; i++ )); do
        cl_wait_until "$T_SETTLE" bench_round_complete "$i" $(( N + 1 )) ||
            cl_fail "chorusd $i did not complete a round with the silent member present"
    done
    cl_log "silent member $SILENT_NAME on node $1 is in the group; rounds complete"
}

# Checks that do not stop the test: every one is tried and logged, and
# it_verdict fails the test naming each one that did not hold.
IT_FAILS=() IT_CHECKS=0
it_check() {        # it_check WHAT CMD... : CMD must succeed
    local what=$1; shift
    IT_CHECKS=$(( IT_CHECKS + 1 ))
    if "$@"; then cl_log "ok: $what"
    else IT_FAILS+=("$what"); cl_log "NOT OK: $what"; fi
}
it_verdict() {
    local f
    if [ ${#IT_FAILS[@]} -eq 0 ]; then echo "PASS [$CL_NAME]: $IT_CHECKS checks"; return 0; fi
    for f in "${IT_FAILS[@]}"; do echo "NOT OK [$CL_NAME]: $f" >&2; done
    cl_fail "${#IT_FAILS[@]} of $IT_CHECKS checks failed"
}
