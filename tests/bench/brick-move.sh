#!/bin/bash
# brick-move.sh - operator moves of a brick (chorusctl move) and the first
# client that comes right after each, on 3 nodes of real corosync + glusterd
# + chorusd (issue 17).
#
# Brick 1 moves MOVES times between nodes 1 and 3 (brick 2 stays on node 2).
# Per move:
#   move_ms     chorusctl move -> node running it reports it running
#               (status bricks[].running_here: acquire done), polled
#   signin_ms   what the brick script logged on the new node: glusterfsd
#               listening -> glusterd's port mapper answering its port
#               ("signed in with glusterd after T ms"); before chorus waited
#               for it, this was how long chorus reported a brick running
#               that a new client could not find
#   first try   a brand-new gfapi client started at once, without retries
#               (-g 0), reads every file of a set on both bricks and
#               creates 24 files that land on both (bk_new_client)
# Ends with
#   brick-move moves=N move_ms_p50=X signin_ms_p50=Y signin_ms_max=Z
#     new_client_first_try_ok=K/N
set -u
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/lib-gluster.sh"
. "$(dirname "$0")/../integration/lib-bricks.sh"
. "$(dirname "$0")/lib-measure.sh"
export BK_FSTYPE=bind BK_RELEASE_MS=4000
bk_require
MOVES=${MOVES:-10}
[[ $MOVES =~ ^[0-9]+$ ]] && [ "$MOVES" -ge 1 ] && [ "$MOVES" -le 200 ] ||
    { echo "MOVES must be 1..200" >&2; exit 2; }

bk_setup bkmove 6000
D=$CL_DIR/out; mkdir -p "$D"
bk_new_client_set "$D/pre" 60

declare -a MV SI
ok=0
for (( m = 1; m <= MOVES; m++ )); do
    to=$(( m % 2 == 1 ? 3 : 1 ))
    [ "$(bk_where 1)" != "$to" ] || cl_fail "move $m: brick 1 already on node $to"
    log0=$(wc -l < "$(cl_ndir "$to")/chorusd.log")
    t0=$(cl_now_ms)
    bk_ctl 1 move "${BK_VIP[1]}" "$to" > /dev/null || cl_fail "move $m: chorusctl move refused"
    cl_wait_until 60 bk__up_on 1 "$to" || cl_fail "move $m: brick 1 not running on node $to: on '$(bk_where 1)'"
    MV+=("$(( $(cl_now_ms) - t0 ))")
    if bk_new_client "$D/pre" "m$m" 24; then ok=$(( ok + 1 )); r=ok
    else r="FAILED: $BK_NEW_WHY"; fi
    s=$(tail -n +"$(( log0 + 1 ))" "$(cl_ndir "$to")/chorusd.log" |
        sed -n 's/.*signed in with glusterd after \([0-9]*\) ms.*/\1/p' | tail -n 1)
    [ -n "$s" ] && SI+=("$s")
    echo "move $m to node $to: ${MV[-1]} ms, sign-in ${s:-?} ms; new client at once: $r"
done
bk_ctl 1 unpin "${BK_VIP[1]}" > /dev/null || true
# a brick script that does not wait for the sign-in logs no time: "none"
si_p50=none si_max=none
if [ "${#SI[@]}" -gt 0 ]; then si_p50=$(ms_median "${SI[@]}") si_max=$(ms_max "${SI[@]}"); fi
echo "brick-move moves=$MOVES move_ms_p50=$(ms_median "${MV[@]}") signin_ms_p50=$si_p50" \
     "signin_ms_max=$si_max new_client_first_try_ok=$ok/$MOVES"
