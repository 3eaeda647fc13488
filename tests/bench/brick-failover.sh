#!/bin/bash
# brick-failover.sh - how fast a brick comes back after its node loses power,
# on 3 nodes of real corosync + glusterd + chorusd (fence mode "grace").
#
# Per run: a gfapi client writes and re-reads small files every 200 ms; the
# node running brick 1 loses power (link down, every process killed);
#   membership_to_brick_online_ms  the survivors' "A new membership" line in
#                                  corosync's log -> brick 1's glusterfsd
#                                  alive on a survivor (pidfile polled every
#                                  50 ms; it signs in to glusterd ~10 ms later)
#   client_stall_ms                power loss -> the client's first operation
#                                  that succeeded again (includes corosync's
#                                  detection, the grace, and gfapi's 3 s
#                                  reconnect timer)
#   lost_acked_writes              acknowledged writes that do not read back
# then the node comes back and the next run starts.  The fence grace is part
# of membership_to_brick_online by design: the target is grace + 1000 ms.
#
#   RUNS (3), GRACE_MS (8000), BUILDDIR
# Last line:
#   brick-failover runs=R membership_to_brick_online_ms_p50=X client_stall_ms_p50=Y lost_acked_writes=0
set -u
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-gluster.sh"
. "$(dirname "$0")/../integration/lib-bricks.sh"
. "$(dirname "$0")/lib-measure.sh"
bk_require
RUNS=${RUNS:-3}
GRACE_MS=${GRACE_MS:-8000}
export BK_RELEASE_MS=$(( GRACE_MS - 2000 ))

bk_setup bkbench "$GRACE_MS"
D=$CL_DIR/out; mkdir -p "$D"
declare -a online stall
on_other() { bk__on_one_other 1 "$1"; }

# One client for all runs: a returning glusterd leaves new clients failing
# for a minute or more (glfs_init, then EIO on creates), which is Gluster's
# business and not what this measures; a connected client rides through.
cl_wait_until 240 bk_usable || cl_fail "volume not usable by a new client"
GFCLIENT_STOP_FILE="$D/stop" GL_CLIENT_TIMEOUT_S=$(( RUNS * 400 + 120 )) gl_client "$V" -p loop- -g 300 loop $(( RUNS * 400 )) 200 \
    > "$D/loop" 2> "$D/loop.err" &
LOOP=$!; cl__record loop "$LOOP"
cl_wait_until 90 bk_acks_at_least "$D/loop" 10 ||
    cl_fail "client not writing: $(tail -n3 "$D/loop" "$D/loop.err")"
for (( r = 1; r <= RUNS; r++ )); do
    X=$(bk_where 1)
    [ -n "$X" ] || cl_fail "run $r: brick 1 is not running"
    a=$(grep -c '^ACK ' "$D/loop")
    cl_wait_until 120 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "run $r: client not writing"
    n_rec=$(grep -c '^RECOVER ' "$D/loop")
    t_kill=$(cl_now_ms)
    bk_node_down "$X"
    # poll every 50 ms (cl_wait_until's step) for the brick on a survivor
    cl_wait_until $(( GRACE_MS / 1000 + 60 )) on_other "$X" || cl_fail "run $r: brick 1 not taken over"
    t_online=$(cl_now_ms)
    Y=$(bk_where 1)
    t_mem=$(ms_membership_time_ms "$(cl_ndir "$Y")/corosync.log" "$t_kill") ||
        cl_fail "run $r: no membership line on node $Y"
    online[r]=$(( t_online - t_mem ))
    more_rec() { [ "$(grep -c '^RECOVER ' "$D/loop")" -gt "$n_rec" ]; }
    cl_wait_until 240 more_rec || cl_fail "run $r: client did not recover: $(tail -n3 "$D/loop")"
    # from the power loss to the first operation that worked again (the
    # client's own stall_ms starts only at its first failed operation)
    t_rec=$(grep '^RECOVER ' "$D/loop" | sed -n "$(( n_rec + 1 ))p" |
            awk '{ split($2, a, "."); printf "%d%03d\n", a[1], substr(a[2] "000", 1, 3) }')
    stall[r]=$(( t_rec - t_kill ))
    echo "run $r: node $X -> $Y kill_to_membership_ms=$(( t_mem - t_kill )) membership_to_brick_online_ms=${online[r]} client_stall_ms=${stall[r]}"
    bk_node_up "$X" "$GRACE_MS"
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
echo "brick-failover runs=$RUNS membership_to_brick_online_ms_p50=$(ms_median "${online[@]}") client_stall_ms_p50=$(ms_median "${stall[@]}") lost_acked_writes=$lost"
