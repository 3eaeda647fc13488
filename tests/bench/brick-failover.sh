#!/bin/bash
# brick-failover.sh - how fast a brick and its clients come back after its
# node loses power, on 3 nodes of real corosync + glusterd + chorusd
# (issue 17), with the fence FENCE:
#   grace  fence mode "grace": brick 1 waits GRACE_MS after the loss
#   ipmi   fence mode "agent": a survivor powers the node off through
#          fence_ipmilan against its BMC (ipmi_sim, tests/integration/
#          lib-ipmi.sh) before brick 1 starts elsewhere.  The BMC stays up
#          when its host dies (standby power), as it must for any fence to
#          succeed.
#
# Per run: a gfapi client started before the first run writes and re-reads
# small files every 200 ms; the node running brick 1 loses power (link down,
# every process SIGKILLed); then
#   membership_to_brick_online_ms  the survivors' "A new membership" line in
#                                  corosync's log -> brick 1's glusterfsd
#                                  alive on a survivor (pidfile polled every
#                                  50 ms)
#   old_client_ok_ms               power loss -> the long-lived client's first
#                                  operation that succeeded again
#   new_client_ok_ms               power loss -> a brand-new gfapi client,
#                                  started as soon as the brick is online (and
#                                  again until one works, bounded), has read
#                                  every file of a set on both bricks and
#                                  then created 24 files landing on both
#                                  (bk_new_client: two clients, each with its
#                                  own glfs_init, so this is the end of it all)
#   power_loss_to_client_ok_ms     the later of the two: every client works
# and where the old client's stall went, from the logs' stamps:
#   detect     power loss -> corosync's new membership (survivor's log)
#   to_fence   membership -> the fence starts (ipmi: chorusd's "fencing node
#              N" line; grace: its own membership line, where the grace starts)
#   fence      -> fence done (ipmi: "fence agent: node N is down after T ms",
#              T being fence_ipmilan's own time, agent below; grace: "grace
#              over")
#   start      fence done -> glusterfsd's pidfile (rounds, VIP, mount, brick)
#   reconnect  brick online -> the old client's first success
# lost_acked_writes: acknowledged writes that do not read back at the end.
# Then the node comes back and the next run starts.
#
#   FENCE (grace), RUNS (3), GRACE_MS (8000, grace only), NEW_SERVERS (vips),
#   BUILDDIR
# Last line:
#   brick-failover fence=F runs=R membership_to_brick_online_ms_p50=X
#     power_loss_to_client_ok_ms_p50=Y new_client_ok=yes|no lost_acked_writes=N
#     (then old/new client, phase and goal fields; one line)
set -u
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-gluster.sh"
. "$(dirname "$0")/../integration/lib-bricks.sh"
. "$(dirname "$0")/../integration/lib-ipmi.sh"
. "$(dirname "$0")/lib-measure.sh"
FENCE=${FENCE:-grace}
case $FENCE in grace|ipmi) ;; *) echo "FENCE must be grace or ipmi, not '$FENCE'" >&2; exit 2 ;; esac
bk_require
[ "$FENCE" = ipmi ] && ipmi_require
RUNS=${RUNS:-3}
GRACE_MS=${GRACE_MS:-8000}
NEW=24              # creates per new client: all on one brick with p = 2^-23
NEW_TRIES=40        # new clients per run at most (and 180 s)
# The new clients' volfile servers, tried in order by glfs_init: "vips"
# (default) the bricks' floating addresses, then the nodes' (glusterd
# listens on every address, and a floating one is up wherever it runs);
# "nodes" the nodes' addresses alone, node 1 first: when that node is the
# one lost, glfs_init waits for TCP to give up on it (5-45 s here).
NEW_SERVERS=${NEW_SERVERS:-vips}
case $NEW_SERVERS in vips|nodes) ;; *) echo "NEW_SERVERS must be vips or nodes" >&2; exit 2 ;; esac

if [ "$FENCE" = grace ]; then
    export BK_RELEASE_MS=$(( GRACE_MS - 2000 ))
    bk_setup bkbench "$GRACE_MS"
    UP_GRACE=$GRACE_MS
    FENCE_RE='grace over, taking over its (exclusive )?resources'
else
    # bk_setup, with the fence configured between gluster and chorusd and
    # the BMCs after chorusd (ipmi_bmcs_start says why)
    cl_init bkbench 3
    for i in 1 2 3; do cl_corosync_start "$i"; done
    cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
    bk_gluster_setup 2
    ipmi_fence_config "pw-$$"
    bk_chorusd_all 0
    ipmi_bmcs_start "pw-$$"
    UP_GRACE=0
    FENCE_RE='fence agent: node [0-9]+ is down after'
fi
D=$CL_DIR/out; mkdir -p "$D"
new_servers=$(gl_servers)
[ "$NEW_SERVERS" = vips ] && new_servers="${BK_VIP[1]},${BK_VIP[2]},$new_servers"
declare -a online old new all det tofence fence agent start recon tries clients
on_other() { bk__on_one_other 1 "$1"; }
# first_of RE SINCE NODES... : "EPOCH_MS NODE" of the earliest line matching
# RE in the nodes' chorusd logs at or after SINCE
first_of() {
    local re=$1 since=$2 s t; shift 2
    for s in "$@"; do
        t=$(ms_corosync_event_ms "$(cl_ndir "$s")/chorusd.log" "$since" "$re") && echo "$t $s"
    done | sort -n | head -n 1
}
# goal VALUES... LIMIT : "met" if the median is at most LIMIT
goal() {
    local m; m=$(p50 "${@:1:$#-1}")
    if [ "$m" = - ]; then echo unknown; elif [ "$m" -le "${*: -1}" ]; then echo met; else echo missed; fi
}
p50() { local m; [ $# -gt 0 ] && m=$(ms_median "$@" 2>/dev/null) && echo "$m" || echo -; }

# Files on both bricks for every new client to read back
bk_new_client_set "$D/pre" 240
GFCLIENT_STOP_FILE="$D/stop" GL_CLIENT_TIMEOUT_S=$(( RUNS * 400 + 120 )) gl_client "$V" -p loop- -g 300 loop $(( RUNS * 400 )) 200 \
    > "$D/loop" 2> "$D/loop.err" &
LOOP=$!; cl__record loop "$LOOP"
cl_wait_until 90 bk_acks_at_least "$D/loop" 10 ||
    cl_fail "client not writing: $(tail -n3 "$D/loop" "$D/loop.err")"
new_ok=yes n_online=0 n_clients=0
for (( r = 1; r <= RUNS; r++ )); do
    X=$(bk_where 1)
    [ -n "$X" ] || cl_fail "run $r: brick 1 is not running"
    survivors=""; for i in 1 2 3; do [ "$i" != "$X" ] && survivors+="$i "; done
    a=$(grep -c '^ACK ' "$D/loop")
    cl_wait_until 120 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "run $r: client not writing"
    n_rec=$(grep -c '^RECOVER ' "$D/loop")
    t_kill=$(cl_now_ms)
    bk_node_down "$X"
    # poll every 50 ms (cl_wait_until's step) for the brick on a survivor
    cl_wait_until $(( GRACE_MS / 1000 + 90 )) on_other "$X" || cl_fail "run $r: brick 1 not taken over"
    t_online=$(cl_now_ms)
    Y=$(bk_where 1)
    # a brand-new client, as soon as the brick runs; again until one works
    t_new=""
    for (( n = 1; n <= NEW_TRIES; n++ )); do
        t_try=$(cl_now_ms)
        if GL_SERVERS=$new_servers bk_new_client "$D/pre" "r$r-$n" "$NEW"; then t_new=$(cl_now_ms); break; fi
        echo "run $r: new client $n failed after $(( $(cl_now_ms) - t_try )) ms: $BK_NEW_WHY"
        [ $(( $(cl_now_ms) - t_online )) -lt 180000 ] || break
        sleep 0.2
    done
    tries[r]=$n
    t_mem=$(ms_membership_time_ms "$(cl_ndir "$Y")/corosync.log" "$t_kill") ||
        cl_fail "run $r: no membership line on node $Y"
    online[r]=$(( t_online - t_mem ))
    more_rec() { [ "$(grep -c '^RECOVER ' "$D/loop")" -gt "$n_rec" ]; }
    cl_wait_until 240 more_rec || cl_fail "run $r: client did not recover: $(tail -n3 "$D/loop")"
    # from the power loss to the first operation that worked again (the
    # client's own stall_ms starts only at its first failed operation)
    t_rec=$(grep '^RECOVER ' "$D/loop" | sed -n "$(( n_rec + 1 ))p" |
            awk '{ split($2, a, "."); printf "%d%03d\n", a[1], substr(a[2] "000", 1, 3) }')
    old[r]=$(( t_rec - t_kill ))
    if [ -n "$t_new" ]; then
        new[r]=$(( t_new - t_kill ))
        all[r]=$(( old[r] > new[r] ? old[r] : new[r] ))
        nc="new_client_ok_ms=${new[r]} (attempt $n: $BK_NEW_INFO)"
    else
        new_ok=no new[r]="" all[r]=""
        nc="new_client_ok=no after $(( n - 1 )) attempts: $BK_NEW_WHY"
    fi
    # the phases, from the survivors' logs
    # shellcheck disable=SC2086  # one word per node
    read -r t_fdone fencer < <(first_of "$FENCE_RE" "$t_kill" $survivors)
    # shellcheck disable=SC2086
    read -r t_cmem _ < <(first_of 'notice membership: [0-9]+ members \([1-9][0-9]* left' "$t_kill" $survivors)
    det[r]=$(( t_mem - t_kill ))
    recon[r]=$(( t_rec - t_online ))
    tofence[r]="" fence[r]="" agent[r]="" start[r]="" t_fstart=""
    if [ -n "${t_fdone:-}" ]; then
        if [ "$FENCE" = ipmi ]; then
            # the core's "fencing node N" line; the agent's own time is in
            # the done line ("after T ms"): the rest is chorus starting it
            read -r t_fstart _ < <(first_of "fencing node $X so its" "$t_kill" "$fencer")
            # the done line at t_fdone: a second, redundant fence may follow
            stamp="$(date -u -d "@$(( t_fdone / 1000 ))" +%H:%M:%S).$(printf %03d $(( t_fdone % 1000 )))"
            el=$(grep -E "^[A-Z][a-z]+ [0-9]+ $stamp .*$FENCE_RE" "$(cl_ndir "$fencer")/chorusd.log" | head -n 1 |
                 sed -n 's/.* is down after \([0-9]*\) ms.*/\1/p')
            agent[r]=${el:-}
            [ -n "${t_fstart:-}" ] || t_fstart=$(( t_fdone - ${el:-0} ))
        else
            t_fstart=${t_cmem:-$t_mem}
        fi
        tofence[r]=$(( t_fstart - t_mem )) fence[r]=$(( t_fdone - t_fstart )) start[r]=$(( t_online - t_fdone ))
        # the goals: membership -> online <= fence + 200 ms, power loss ->
        # every client ok <= detection + fence + 3.5 s; the fence counted
        # from the membership (so what chorus takes to start it is in it)
        [ -n "${all[r]}" ] && clients[r]=$(( t_kill + all[r] - t_fdone ))
        [ "${start[r]}" -le 200 ] && n_online=$(( n_online + 1 ))
        [ -n "${clients[r]:-}" ] && [ "${clients[r]}" -le 3500 ] && n_clients=$(( n_clients + 1 ))
    fi
    echo "run $r: node $X -> $Y membership_to_brick_online_ms=${online[r]} old_client_ok_ms=${old[r]} $nc"
    echo "run $r: old client's stall: detect=${det[r]} to_fence=${tofence[r]:--} fence=${fence[r]:--} (agent ${agent[r]:--})" \
         "start=${start[r]:--} reconnect=${recon[r]} ms (fenced by node ${fencer:--});" \
         "fence done -> every client ok ${clients[r]:--} ms"
    t_fdone="" fencer=""
    [ "$FENCE" = ipmi ] && ipmi_bmc_on "$X"
    bk_node_up "$X" "$UP_GRACE"
    cl_wait_until 60 bk__running_once 1 || cl_fail "run $r: brick 1 not running once after node $X returned"
done
a=$(grep -c '^ACK ' "$D/loop")
cl_wait_until 120 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "client not writing at the end"
touch "$D/stop"; cl_wait_until 120 cl__gone "$LOOP" || cl_fail "client did not stop"
# it reads back everything it acknowledged before it exits
lost=$(sed -n 's/^VERIFY ok=[0-9]* bad=\([0-9]*\)$/\1/p' "$D/loop")
[ -n "$lost" ] || cl_fail "client gave no VERIFY line: $(tail -n3 "$D/loop")"
[ "$(grep -c '^ACK ' "$D/loop")" = "$(sed -n 's/^VERIFY ok=\([0-9]*\) .*/\1/p' "$D/loop")" ] ||
    lost=$(( lost + $(grep -c '^ACK ' "$D/loop") - $(sed -n 's/^VERIFY ok=\([0-9]*\) .*/\1/p' "$D/loop") - lost ))
echo "client: $(grep -c '^ACK ' "$D/loop") acknowledged writes, $(grep '^VERIFY' "$D/loop")"
echo "new clients: attempts per run ${tries[*]}"
echo "new clients' volfile servers ($NEW_SERVERS): $new_servers"
echo "brick-failover fence=$FENCE runs=$RUNS membership_to_brick_online_ms_p50=$(p50 "${online[@]}")" \
     "power_loss_to_client_ok_ms_p50=$(p50 "${all[@]}") new_client_ok=$new_ok lost_acked_writes=$lost" \
     "old_client_ok_ms_p50=$(p50 "${old[@]}") new_client_ok_ms_p50=$(p50 "${new[@]}")" \
     "detect_ms_p50=$(p50 "${det[@]}") to_fence_ms_p50=$(p50 "${tofence[@]}") fence_ms_p50=$(p50 "${fence[@]}")" \
     "fence_agent_ms_p50=$(p50 "${agent[@]}")" \
     "start_ms_p50=$(p50 "${start[@]}") reconnect_ms_p50=$(p50 "${recon[@]}")" \
     "fence_to_clients_ok_ms_p50=$(p50 "${clients[@]}")" \
     "goal_online=$(goal "${start[@]}" 200)($n_online/$RUNS) goal_clients=$(goal "${clients[@]}" 3500)($n_clients/$RUNS)"
