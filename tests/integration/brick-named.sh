#!/bin/bash
# brick-named.sh - bricks named by glusterd (issue 17): chorus.json lists
# each brick by what glusterd cannot know (host, address, interface, device,
# fstype), and the volume and path come from "gluster volume info", on 3
# nodes of real corosync + glusterd + chorusd in network namespaces.
#
#   1. chorusd on nodes 1 and 2 with such a chorus.json: both bricks run,
#      each once, from glusterd's paths on their LUNs; status says
#      "named_by": "gluster" with glusterd's volume and path.
#   2. chorusd on node 3 while its gluster CLI does not answer (a gate in
#      front of the real CLI, as when glusterd comes up after chorusd): it
#      declares no brick and says why (status "not_declared", chorusctl
#      bricks, the log).  The gate opens and a hook's inventory refresh names
#      the bricks: node 3 restarts in place and declares them, and nothing
#      moves.  Nodes 1 and 2 go to standby: both bricks move to node 3, which
#      serves them from glusterd's paths (a new gfapi client writes to both).
#   3. Nodes 1 and 2 are active again; node 3's chorusd is SIGKILLed while
#      it runs both bricks, and started again while its CLI does not answer.
#      a. It names the bricks from its record of what it ran
#         (state_dir/bricks-here.json), adopts both, and nothing moves.
#      b. Without that record (an upgrade from a chorusd that kept none) it
#         cannot tell which bricks run on its addresses, so it refuses to
#         start (exit 70, the reason in its log) instead of joining without
#         them, which would let another node start them beside the running
#         ones.  Once the CLI answers it starts, adopts both; nothing moved.
#   4. Node 3's chorus.json loses brick 2 while node 3 runs it, and the
#      operator reloads: the new process stops brick 2 before it rejoins
#      (it recorded what it ran, state_dir/bricks-here.json), and another
#      node starts it.
#   A watcher samples every 50 ms that no brick ever runs on two nodes.
# Exit 77 when not root or corosync/gluster/chorusd are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
bk_require
GRACE_MS=20000
export BK_NAMED=1

cl_init bknamed 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
bk_gluster_setup 2
D=$CL_DIR/out; mkdir -p "$D"
where() { echo "b1 on $(bk_where 1), b2 on $(bk_where 2)"; }

# named I N : node I's status declares the N bricks, named by glusterd with
# its volume and paths, and leaves none out
named() {
    bk_ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
b = json.load(sys.stdin)["bricks"]
n, vol, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
assert len(b["bricks"]) == n and b["not_declared"] == [], b
for x in b["bricks"]:
    assert x["named_by"] == "gluster" and x["volume"] == vol and x["path"] in paths, x' \
        "$2" "$V" "${BK_PATH[@]}"
}
# none_declared I REASON : node I declares no brick, both left out for REASON
none_declared() {
    bk_ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
b = json.load(sys.stdin)["bricks"]
assert b["bricks"] == [] and len(b["not_declared"]) == 2, b
assert all(sys.argv[1] in x["reason"] for x in b["not_declared"]), b' "$2"
}

bk_gated_cli
gate=$BK_GATE

# --- 1. nodes 1 and 2, bricks named by glusterd -----------------------------
for i in 1 2; do
    bk_write_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$GRACE_MS"
    bk_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
done
grep -q '"path"\|"volume"' "$(cl_ndir 1)/chorusd.conf" && cl_fail "the config names a volume or path"
for k in 1 2; do
    cl_wait_until 120 bk__served "$k" || cl_fail "brick $k not started: $(where)"
done
for i in 1 2; do
    cl_wait_until 20 named "$i" 2 || cl_fail "node $i: $(bk_ctl "$i" status --json | head -c 3000)"
done
grep -q "bricks.list\[0\] (host ${BK_VIP[1]}): glusterd's brick $V:${BK_PATH[1]}" \
    "$(cl_ndir 1)/chorusd.log" || cl_fail "node 1's log does not say which brick glusterd named"
echo "1: both bricks named by glusterd and running: $(where)"

# watch the bricks from here on: never on two nodes
bk_watch "$D/watch" 0.05 & WATCH=$!; cl__record watch "$WATCH"

# --- 2. node 3 starts before its CLI answers --------------------------------
GL_GLUSTER=$CL_DIR/gluster-gated bk_write_conf 3 "$(cl_ndir 3)/chorusd.conf" "$GRACE_MS"
bk_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
cl_wait_until 60 none_declared 3 "not available" ||
    cl_fail "node 3 without glusterd: $(bk_ctl 3 status --json | head -c 3000)"
grep -q "bricks.list\[1\] (host ${BK_VIP[2]}) is not declared here: glusterd's volume info is not available" \
    "$(cl_ndir 3)/chorusd.log" || cl_fail "node 3's log does not say why it declares no brick"
bk_ctl 3 bricks > "$D/bricks3.txt" || cl_fail "chorusctl bricks on node 3"
cat "$D/bricks3.txt"
grep -q "^Not declared: *${BK_VIP[1]} (${BK_VIP[1]}/$CL_PREFIXLEN): glusterd's volume info is not available" \
    "$D/bricks3.txt" || cl_fail "chorusctl bricks does not show what node 3 left out"
before=$(where)
pid3=$(cl_chorusd_pid 3)
touch "$gate"
bk_ctl 3 inventory-refresh "$V" start > /dev/null || cl_fail "inventory-refresh on node 3"
cl_wait_until 60 named 3 2 || cl_fail "node 3 after the refresh: $(bk_ctl 3 status --json | head -c 3000)"
grep -q "glusterd names a brick this node did not declare: restarting in place" "$(cl_ndir 3)/chorusd.log" ||
    cl_fail "node 3 did not restart in place to declare the bricks"
[ "$(cl_chorusd_pid 3)" = "$pid3" ] || cl_fail "node 3's chorusd is not the same process (a restart in place keeps it)"
[ "$(where)" = "$before" ] || cl_fail "bricks moved when node 3 declared them: $before -> $(where)"
bk_ctl 1 standby 1 > /dev/null || cl_fail "standby node 1"
bk_ctl 1 standby 2 > /dev/null || cl_fail "standby node 2"
for k in 1 2; do
    cl_wait_until 120 bk__on "$k" 3 || cl_fail "brick $k did not move to node 3: $(where)"
    cl_wait_until 60 bk__up_on "$k" 3 || cl_fail "node 3 does not report brick $k up: $(where)"
done
# 8 creates, hashed over both bricks, all acknowledged
cl_wait_until 120 bk_usable || cl_fail "a new client cannot write through node 3's bricks"
echo "2: node 3 declared the bricks once glusterd answered (restart in place, nothing moved) and serves both: $(where)"

# --- 3. a restart that cannot tell which bricks run here --------------------
# nodes 1 and 2 active again (failback manual: nothing moves), so that they
# would take the bricks if node 3 joined without declaring them
bk_ctl 1 active 1 > /dev/null || cl_fail "active node 1"
bk_ctl 1 active 2 > /dev/null || cl_fail "active node 2"
sleep 2
for k in 1 2; do bk__on "$k" 3 || cl_fail "brick $k moved when nodes 1 and 2 came back: $(where)"; done
rm -f "$gate"
# 3a. glusterd silent, but node 3 recorded what it ran: it names the
#     bricks as they were, starts and adopts both, and nothing moves
cl_chorusd_kill 3 KILL
[ -s "$(cl_ndir 3)/chorus-state/bricks-here.json" ] || cl_fail "node 3 recorded no bricks"
: > "$(cl_ndir 3)/chorusd.log"
bk_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
cl_wait_until 60 named 3 2 || cl_fail "node 3 restarted without glusterd: $(bk_ctl 3 status --json | head -c 3000)"
for k in 1 2; do
    cl_wait_until 60 bk__up_on "$k" 3 || cl_fail "node 3 did not adopt brick $k: $(where)"
done
grep -q "bricks.list\[1\] (host ${BK_VIP[2]}): the brick it ran last $V:${BK_PATH[2]}" \
    "$(cl_ndir 3)/chorusd.log" || cl_fail "node 3 did not name brick 2 from its record"
echo "3a: glusterd silent, node 3 named both bricks from its record and adopted them: $(where)"
# 3b. no record either (an upgrade from a chorusd without one): it cannot
#     tell which bricks run on its addresses and refuses to start
cl_chorusd_kill 3 KILL
rm -f "$(cl_ndir 3)/chorus-state/bricks-here.json"
gpid=$(gl_pid 3) || cl_fail "glusterd 3 is not running"
t0=$(cl_now_ms)
TZ=UTC timeout 60 nsenter -t "$gpid" -n -m -- "$(realpath "$CHORUSD")" -c "$(cl_ndir 3)/chorusd.conf" -f \
    </dev/null >> "$(cl_ndir 3)/chorusd.out" 2>&1
rc=$?
[ "$rc" = 70 ] || cl_fail "chorusd started (or failed otherwise, rc $rc) without knowing which bricks run here"
grep -q "of a brick glusterd does not name is up here: .*not starting" "$(cl_ndir 3)/chorusd.log" ||
    cl_fail "node 3's log does not say why it refused"
echo "3b: no record, glusterd silent: chorusd refused in $(( $(cl_now_ms) - t0 )) ms: $(grep 'not starting' "$(cl_ndir 3)/chorusd.log" | tail -n1)"
for k in 1 2; do bk__on "$k" 3 || cl_fail "brick $k left node 3 while chorusd was down: $(where)"; done
touch "$gate"
bk_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
cl_wait_until 60 named 3 2 || cl_fail "node 3 after the gate opened: $(bk_ctl 3 status --json | head -c 3000)"
for k in 1 2; do
    cl_wait_until 60 bk__up_on "$k" 3 || cl_fail "node 3 did not adopt brick $k: $(where)"
done
grep -q "brick ${BK_VIP[1]}:${BK_PATH[1]} running at start-up" "$(cl_ndir 3)/chorusd.log" ||
    cl_fail "node 3 did not find brick 1 running at start-up"
echo "3: node 3 adopted both bricks once its CLI answered: $(where)"

# --- 4. a brick taken out of chorus.json while it runs here -----------------
# node 3's file loses brick 2, and the operator reloads: the new process
# does not declare it, so it must stop it before it joins (its record of
# what ran here, state_dir/bricks-here.json), or nodes 1 and 2 would start
# it beside the running one
python3 - "$(cl_ndir 3)/chorusd.conf" <<'PY' || cl_fail "cannot drop brick 2 from node 3's config"
import json, sys
c = json.load(open(sys.argv[1]))
c["bricks"]["list"] = c["bricks"]["list"][:1]
json.dump(c, open(sys.argv[1], "w"))
PY
grep -q "\"${BK_VIP[2]}\"" "$(cl_ndir 3)/chorusd.conf" && cl_fail "brick 2 still in node 3's config"
bk_ctl 3 reload > /dev/null || cl_fail "reload on node 3"
cl_wait_until 120 bk__on_one_other 2 3 || cl_fail "brick 2 did not move off node 3: $(where)"
cl_wait_until 60 bk__served 2 || cl_fail "brick 2 not served elsewhere: $(where)"
grep -q "brick ${BK_VIP[2]}:${BK_PATH[2]} runs here but is no longer declared: stopping it before joining" \
    "$(cl_ndir 3)/chorusd.log" || cl_fail "node 3 did not stop the brick it no longer declares"
bk__on 1 3 || cl_fail "brick 1 moved: $(where)"
cl_wait_until 60 named 3 1 || cl_fail "node 3 after the reload: $(bk_ctl 3 status --json | head -c 3000)"
echo "4: node 3 stopped brick 2 before rejoining without it; $(where)"

cl__kill_recorded watch TERM 10
if [ -s "$D/watch" ]; then cl_fail "a brick ran on two nodes: $(head -n3 "$D/watch")"; fi
echo "PASS: bricks named by glusterd; a node declares them once glusterd answers; a restart that cannot name a running brick refuses; a brick no longer declared is stopped before rejoining; $(wc -l < "$D/watch.all") watcher samples, no brick ever on two nodes"
