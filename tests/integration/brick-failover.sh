#!/bin/bash
# brick-failover.sh - chorusd moves Gluster bricks on shared storage, never
# running one on two nodes (issue 4), on 3 nodes of real corosync + glusterd
# + chorusd in network namespaces, fence mode "grace".
#
#   1. chorusd starts both floating bricks of the distribute volume.
#   2. A gfapi client (client namespace) writes and re-reads small files in
#      a loop, retrying through outages.  The node running brick 1 loses
#      power: the survivors start brick 1 only after the fence grace, the
#      client resumes, and every acknowledged write reads back.
#   3. The node comes back; an operator move puts brick 1 back on it:
#      release before take; the client goes on (it reads back everything
#      it acknowledged at the end; brick-newclient.sh checks new clients).
#   4. The node running brick 2 is cut off alone (switch partition): it
#      stops brick 2 (no quorum), and the others start it only after the
#      grace.  A watcher samples every 100 ms that no brick ever runs twice.
#   5. glusterd's hooks (add-brick, remove-brick) reach chorusd, whose
#      inventory follows.
#   6. cluster.brick-multiplex on: chorusd's inventory sees it (an error in
#      its log, "brick_multiplex" in its status, a line in chorusctl
#      bricks) and refuses an operator move of a brick, which stays where it
#      runs; a killed brick is started nowhere while the option is on, and
#      again once it is off; then a move is done.
# Exit 77 when not root or corosync/gluster/chorusd are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
bk_require
GRACE_MS=20000
export BK_WATCHDOG=1            # grace 20000 >= release 15000 + 2000 + watchdog 2000
ms() { echo $(( $(cl_now_ms) - $1 )); }
healthy() { bk_ctl "$1" status --json 2>/dev/null | grep -q '"healthy": *true'; }
not_on() { ! bk_pid "$1" "$2" >/dev/null; }

bk_setup bkfail "$GRACE_MS"
D=$CL_DIR/out; mkdir -p "$D"
bk_watch "$D/watch" & WATCH=$!; cl__record watch "$WATCH"
# the watchdog is fed from each daemon's loop (every third of its 2 s)
wd0=$(stat -c %s "$(cl_ndir 1)/watchdog") || cl_fail "chorusd 1 did not open its watchdog"
sleep 3
wd1=$(stat -c %s "$(cl_ndir 1)/watchdog")
[ "$wd1" -ge $(( wd0 + 3 )) ] || cl_fail "watchdog not fed: $wd0 -> $wd1 bytes in 3 s"
bk_ctl 1 status --json > "$D/status0.json" || cl_fail "status"
python3 - "$D/status0.json" <<'PY' || cl_fail "status does not show the bricks: $(cat "$D/status0.json")"
import json, sys
s = json.load(open(sys.argv[1]))
b = s["bricks"]["bricks"]
assert len(b) == 2 and s["bricks"]["fence"] == "grace", b
assert sum(1 for v in s["vips"] if v.get("exclusive")) == 2, s["vips"]
assert all(x["in_gluster"] for x in b), b      # the inventory was read
PY

# --- 2. power loss of brick 1's node ----------------------------------------
X=$(bk_where 1)
GFCLIENT_STOP_FILE="$D/stop1" GL_CLIENT_TIMEOUT_S=900 gl_client "$V" -p loop -g 120 loop 800 200 > "$D/loop1" 2> "$D/loop1.err" &
LOOP=$!; cl__record loop1 "$LOOP"
cl_wait_until 60 bk_acks_at_least "$D/loop1" 10 ||
    cl_fail "client not writing: $(tail -n3 "$D/loop1" "$D/loop1.err")"
t_kill=$(cl_now_ms)
bk_node_down "$X"
cl_log "node $X (brick 1) lost power"
cl_wait_until 120 bk__on_one_other 1 "$X" || cl_fail "brick 1 not taken over from node $X"
t_up=$(ms "$t_kill")
Y=$(bk_where 1)
echo "brick 1: node $X lost, running on node $Y after $t_up ms (fence grace $GRACE_MS ms)"
# corosync needs ~2 s to see the loss; the grace counts from there
[ "$t_up" -ge $(( GRACE_MS - 500 )) ] || cl_fail "brick 1 taken over after $t_up ms, inside the grace"
cl_wait_until 120 grep -q '^RECOVER ' "$D/loop1" || cl_fail "client did not recover: $(tail -n3 "$D/loop1")"
a1=$(grep -c '^ACK ' "$D/loop1")
cl_wait_until 60 bk_acks_at_least "$D/loop1" $(( a1 + 5 )) ||
    cl_fail "client does not write after recovering"
grep '^RECOVER ' "$D/loop1" | head -n 3

# --- 3. the node returns; operator moves brick 1 back ---------------------------
# The same client goes on (its stall and its writes are what this
# measures); brick-newclient.sh starts new clients after each takeover.
bk_node_up "$X" "$GRACE_MS"
cl_wait_until 60 healthy "$X" ||
    cl_fail "node $X's chorusd did not rejoin healthy"
a2=$(grep -c '^ACK ' "$D/loop1")
cl_wait_until 90 bk_acks_at_least "$D/loop1" $(( a2 + 5 )) || cl_fail "client stopped writing after node $X returned"
t0=$(cl_now_ms)
bk_ctl 1 move "${BK_VIP[1]}" "$X" > /dev/null || cl_fail "chorusctl move refused"
cl_wait_until 120 bk__on 1 "$X" || cl_fail "brick 1 did not move back to node $X: on '$(bk_where 1)'"
echo "brick 1 moved back to node $X in $(ms "$t0") ms"
a3=$(grep -c '^ACK ' "$D/loop1")
cl_wait_until 90 bk_acks_at_least "$D/loop1" $(( a3 + 5 )) || cl_fail "client does not write after the move"
bk_ctl 1 unpin "${BK_VIP[1]}" > /dev/null || cl_fail "unpin"

# --- 4. brick 2's node is cut off alone ---------------------------------------
Z=$(bk_where 2)
others=""; for i in 1 2 3; do [ "$i" != "$Z" ] && others+="$i "; done
t_cut=$(cl_now_ms)
cl_partition "${others% }" "$Z"
cl_log "node $Z (brick 2) cut off"
cl_wait_until 60 not_on "$Z" 2 ||
    cl_fail "cut-off node $Z did not stop brick 2"
t_stop=$(ms "$t_cut")
cl_wait_until 120 bk__on_one_other 2 "$Z" || cl_fail "brick 2 not taken over from cut-off node $Z"
t_take=$(ms "$t_cut")
echo "brick 2: node $Z cut off, stopped there after $t_stop ms, started on node $(bk_where 2) after $t_take ms"
[ "$t_take" -ge $(( GRACE_MS - 500 )) ] || cl_fail "brick 2 taken over after $t_take ms, inside the grace"
cl_heal
cl_wait_members 1 3 60 || cl_fail "ring did not heal"
cl_wait_until 60 bk__running_once 2 || cl_fail "brick 2 not running exactly once after the heal"
a4=$(grep -c '^ACK ' "$D/loop1")
cl_wait_until 120 bk_acks_at_least "$D/loop1" $(( a4 + 5 )) || cl_fail "client stopped writing after the heal"
# The client reads back everything it acknowledged, over its own connections.
touch "$D/stop1"; cl_wait_until 180 cl__gone "$LOOP" || cl_fail "client loop did not stop"
n_ack=$(grep -c '^ACK ' "$D/loop1")
grep -q "^VERIFY ok=$n_ack bad=0\$" "$D/loop1" ||
    cl_fail "acknowledged writes lost: $(grep '^BAD \|^VERIFY' "$D/loop1" | tail -n 5)"
echo "client: $n_ack acknowledged writes through a takeover, a failback and a partition; $(grep '^VERIFY' "$D/loop1"); $(grep '^LOOP' "$D/loop1")"

# --- 5. hooks reach chorusd -----------------------------------------------------
for i in 1 2 3; do
    w="$(cl_ndir "$i")/chorusctl-hook"
    printf '#!/bin/sh\nexec %q -s %q "$@"\n' "$(realpath "$CHORUSCTL")" "$(cl_ndir "$i")/chorus-run/chorusd.sock" > "$w"
    chmod +x "$w"
    for e in add-brick remove-brick; do
        mkdir -p "$(gl_dir "$i")/varlib/hooks/1/$e/post"
        # only the client's default: the "is chorusd running" check keys on
        # the installed path and our sockets are elsewhere
        sed "s|^CHORUSCTL=\${CHORUSCTL:-@bindir@/chorusctl}|CHORUSCTL=$w|" "$BK_HOOK" \
            > "$(gl_dir "$i")/varlib/hooks/1/$e/post/S29chorus-inventory.sh"
        chmod +x "$(gl_dir "$i")/varlib/hooks/1/$e/post/S29chorus-inventory.sh"
    done
done
refreshes() { bk_ctl 1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bricks"]["inventory"]["refreshes"])'; }
r0=$(refreshes)
mkdir -p "$(cl_ndir 3)/bricks"
# glusterd 2 was cut off too: wait until every node sees the pool whole
# again (add-brick's pre-validation runs on every peer)
for i in 1 2 3; do
    cl_wait_until 60 gl__peers_in_cluster "$i" 2 ||
        cl_fail "node $i: pool not whole after the heal: $(gl_cli "$i" peer status 2>&1 | tr '\n' ' ')"
done
out=$(gl_cli 1 volume add-brick "$V" "$(gl_brick 3 $V)" force 2>&1) || cl_fail "add-brick: $out"
more_refreshes() { [ "$(refreshes)" -gt "$r0" ]; }
reason() { bk_ctl 1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bricks"]["inventory"]["last_reason"])'; }
cl_wait_until 30 more_refreshes || cl_fail "add-brick hook did not reach chorusd"
[[ $(reason) == "add-brick $V" ]] || cl_fail "inventory refresh not from the hook: $(reason)"
inv_has() { bk_ctl 1 status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["bricks"]["inventory"]["bricks"] != int(sys.argv[1]))' "$1"; }
cl_wait_until 30 inv_has 3 ||
    cl_fail "inventory does not show the added brick"
r0=$(refreshes)
out=$(gl_cli 1 volume remove-brick "$V" "$(gl_brick 3 $V)" force 2>&1) || cl_fail "remove-brick: $out"
cl_wait_until 30 more_refreshes || cl_fail "remove-brick hook did not reach chorusd"
cl_wait_until 30 inv_has 2 || cl_fail "inventory still shows the removed brick"
echo "hooks: inventory follows add-brick and remove-brick (last: $(reason))"

# --- 6. brick multiplexing, seen by the inventory ---------------------------
mux() { bk_ctl 1 status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["bricks"]["inventory"]["brick_multiplex"] is not (sys.argv[1] == "on"))' "$1"; }
mux off || cl_fail "status shows brick multiplexing before it is on"
out=$(gl_cli 1 volume set all cluster.brick-multiplex on 2>&1) || cl_fail "brick-multiplex on: $out"
bk_ctl 1 inventory-refresh "$V" test >/dev/null || cl_fail "inventory-refresh"
cl_wait_until 30 mux on || cl_fail "status does not show cluster.brick-multiplex on"
grep -q "cluster.brick-multiplex is on" "$(cl_ndir 1)/chorusd.log" || cl_fail "chorusd did not log brick multiplexing"
bk_ctl 1 bricks | grep -q "^Multiplexing: *ON (cluster.brick-multiplex)" ||
    cl_fail "chorusctl bricks does not show it: $(bk_ctl 1 bricks)"
# an operator move would stop the brick and start it nowhere: refused, and
# the brick stays where it runs
w1=$(bk_where 1); to=$(( w1 % 3 + 1 ))
if out=$(bk_ctl 1 move "${BK_VIP[1]}" "$to" 2>&1); then
    cl_fail "chorusctl move of a brick accepted while cluster.brick-multiplex is on"
fi
[[ $out == *cluster.brick-multiplex* ]] || cl_fail "move refused without naming the option: $out"
refused=$out
sleep 3
[ "$(bk_where 1)" = "$w1" ] || cl_fail "brick 1 moved from node $w1 to '$(bk_where 1)' while multiplexing is on"
# brick 1 dies: chorus cannot start it again anywhere while the option is
# on (the script refuses, naming it); once it is off, it runs again
pid1=$(bk_pid "$w1" 1) || cl_fail "brick 1 not running on node $w1"
kill -KILL "$pid1"
t0=$(cl_now_ms)
# SIGKILL is not instant: a glusterfsd with many threads stays in the
# process table (not yet a zombie) for a while as it exits; that is the
# killed brick, not a new start
cl_wait_until 10 eval '[ "$(bk_pid "$w1" 1)" != "$pid1" ]' || cl_fail "killed brick 1 (pid $pid1) still running after 10 s"
for (( n = 0; n < 80; n++ )); do
    w=$(bk_where 1)
    [ -z "$w" ] || cl_fail "brick 1 started on node $w while cluster.brick-multiplex is on (pid $(bk_pid "${w%% *}" 1), killed $pid1, $(( $(cl_now_ms) - t0 )) ms after the kill): $(grep -h "multiplex" "$(cl_ndir 1)/chorusd.log" "$(cl_ndir 2)/chorusd.log" "$(cl_ndir 3)/chorusd.log" | tail -n 3)"
    sleep 0.1
done
cl_wait_until 30 grep -q "cluster.brick-multiplex is on: glusterd runs bricks together" \
    "$(cl_ndir 1)/chorusd.log" "$(cl_ndir 2)/chorusd.log" "$(cl_ndir 3)/chorusd.log" ||
    cl_fail "no refusal by the brick script in any chorusd log"
out=$(gl_cli 1 volume set all cluster.brick-multiplex off 2>&1) || cl_fail "brick-multiplex off: $out"
bk_ctl 1 inventory-refresh "$V" test >/dev/null || cl_fail "inventory-refresh"
cl_wait_until 30 mux off || cl_fail "status still shows brick multiplexing after it is off"
t1=$(cl_now_ms)
cl_wait_until 60 bk__served 1 || cl_fail "brick 1 not running again after cluster.brick-multiplex is off"
back="down $(( t1 - t0 )) ms while on, running on node $(bk_where 1) $(ms "$t1") ms after off"
w1=$(bk_where 1); to=$(( w1 % 3 + 1 ))
bk_ctl 1 move "${BK_VIP[1]}" "$to" > /dev/null || cl_fail "move refused after cluster.brick-multiplex is off"
cl_wait_until 60 bk__up_on 1 "$to" || cl_fail "brick 1 did not move to node $to: on '$(bk_where 1)'"
bk_ctl 1 unpin "${BK_VIP[1]}" > /dev/null || cl_fail "unpin"
echo "multiplexing: seen by chorusd's inventory; while on a brick move refused ($refused) and a killed brick not started again ($back); then a move done"

kill -TERM "$WATCH"
if [ -s "$D/watch" ]; then cl_fail "a brick ran on two nodes: $(head -n3 "$D/watch")"; fi
echo "watcher: $(wc -l < "$D/watch.all") samples, no brick ever on two nodes"
echo "OK: brick-failover"
