#!/bin/bash
# brick-cleanup.sh - `chorusctl cleanup` ends brick failure holds through the
# cluster (issue 20), on 3 nodes of real corosync + glusterd + chorusd.
#
# restart_max 0: a brick whose glusterfsd dies is not restarted in place;
# the node holds it off for failure_hold_ms (10 minutes here) and the brick
# moves.  Brick 1 dies on node X, then on node Y, and runs on node Z.
#   1. X and Y each report the hold in status; Z serves the brick.
#   2. `chorusctl cleanup BRICK --node X` run on Z ends X's hold only, and
#      X's own event log says so; Y still holds it off.
#   3. `chorusctl cleanup` (every brick, every node) run on X ends Y's.
#   4. Proof the holds are really gone: brick 1 moves to Y by operator move
#      and runs there; then the brick dies on Y again and moves (a fresh
#      hold), so the hold machinery still works after a cleanup.
# Exit 77 when not root or corosync/gluster/chorusd are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
bk_require noclient
export BK_BRICKS_EXTRA='"restart_max": 0, "failure_hold_ms": 600000,'
# held: brick K is held off on node I (status --json of node I)
held() {
    bk_ctl "$1" status --json | python3 -c '
import json, sys
b = json.load(sys.stdin)["bricks"]["bricks"][int(sys.argv[1]) - 1]
sys.exit(0 if b["failed"] else 1)' "$2"
}
not_held() { ! held "$@"; }
# started I K : node I's chorusd finished starting brick K (a brick killed
# while its start is still checking it fails the start: no failure hold)
started() {
    bk_ctl "$1" status --json | python3 -c '
import json, sys
b = json.load(sys.stdin)["bricks"]["bricks"][int(sys.argv[1]) - 1]
sys.exit(0 if b["running_here"] and b.get("doing") != "starting" else 1)' "$2"
}
# kill_brick K : brick K's glusterfsd dies where it runs; prints that node
kill_brick() {
    local w pid
    w=$(bk_where "$1")
    cl_wait_until 60 started "$w" "$1" || cl_fail "node $w did not finish starting brick $1"
    pid=$(bk_pid "$w" "$1") || cl_fail "brick $1 not running"
    kill -KILL "$pid"
    echo "$w"
}

bk_setup bkclean 20000
D=$CL_DIR/out; mkdir -p "$D"
B1="${BK_VIP[1]}:${BK_PATH[1]}"

# --- 1. brick 1 dies on X, then on Y ----------------------------------------
X=$(kill_brick 1)
cl_wait_until 60 bk__on_one_other 1 "$X" || cl_fail "brick 1 did not move off node $X"
Y=$(bk_where 1)
cl_wait_until 30 held "$X" 1 || cl_fail "node $X does not report its failure hold"
Y=$(kill_brick 1)
cl_wait_until 60 bk__running_once 1 || cl_fail "brick 1 not running after its second death"
Z=$(bk_where 1)
[ "$Z" != "$X" ] && [ "$Z" != "$Y" ] || cl_fail "brick 1 went back to a node that holds it off: $Z"
cl_wait_until 30 held "$Y" 1 || cl_fail "node $Y does not report its failure hold"
echo "brick 1 died on node $X and on node $Y, runs on node $Z; both hold it off"
# what an operator on X sees
bk_ctl "$X" bricks > "$D/bricks-x" || cl_fail "chorusctl bricks failed"
grep -q "${BK_PATH[1]} .*failed here (held off)" "$D/bricks-x" ||
    cl_fail "chorusctl bricks on node $X does not show the hold: $(cat "$D/bricks-x")"

# --- 2. cleanup of one brick on one node, asked on another ------------------
out=$(bk_ctl "$Z" cleanup "$B1" --node "n$X") || cl_fail "cleanup --node refused: $out"
echo "chorusctl (node $Z): $out"
[[ $out == *"failure holds of $B1 ended on n$X"* ]] || cl_fail "cleanup says: $out"
cl_wait_until 30 not_held "$X" 1 || cl_fail "node $X still holds brick 1 off"
held "$Y" 1 || cl_fail "node $Y's hold ended although only node $X was named"
bk_ctl "$X" events --json | grep -q "brick $B1: failure hold ended by an operator" ||
    cl_fail "node $X's events do not record the cleanup"
bk_ctl "$Y" events --json | grep -q "failure hold ended" &&
    cl_fail "node $Y's events record a cleanup it did not get"
bk__on 1 "$Z" || cl_fail "brick 1 moved on a cleanup: on '$(bk_where 1)'"

# --- 3. cleanup of everything, everywhere ------------------------------------
bk_ctl "$X" cleanup > "$D/all" || cl_fail "cleanup refused: $(cat "$D/all")"
cl_wait_until 30 not_held "$Y" 1 || cl_fail "node $Y still holds brick 1 off after a cleanup of all"
bk_ctl "$Y" events --json | grep -q "brick $B1: failure hold ended by an operator" ||
    cl_fail "node $Y's events do not record the cleanup"
echo "cleanup: node $X's hold ended by name from node $Z, node $Y's by a cleanup of all from node $X"

# --- 4. the brick may run on Y again; a new death holds it off again ---------
bk_ctl 1 move "${BK_VIP[1]}" "n$Y" > /dev/null || cl_fail "move to node $Y refused"
cl_wait_until 90 bk__on 1 "$Y" || cl_fail "brick 1 did not run on node $Y: on '$(bk_where 1)'"
bk_ctl 1 unpin "${BK_VIP[1]}" > /dev/null || cl_fail "unpin"
kill_brick 1 > /dev/null
cl_wait_until 60 bk__on_one_other 1 "$Y" || cl_fail "brick 1 did not move off node $Y after a new death"
cl_wait_until 30 held "$Y" 1 || cl_fail "node $Y does not hold brick 1 off after a new death"
echo "brick 1 ran on node $Y again after the cleanup, and a new death held it off again"

# unknown names are refused (exit 4: the daemon's error)
bk_ctl 1 cleanup "${BK_VIP[1]}:/no/such" > /dev/null 2>&1; rc=$?
[ "$rc" -eq 4 ] || cl_fail "cleanup of an unknown brick: exit $rc"
bk_ctl 1 cleanup --node n9 > /dev/null 2>&1; rc=$?
[ "$rc" -eq 4 ] || cl_fail "cleanup on an unknown node: exit $rc"
echo "OK: brick-cleanup"
