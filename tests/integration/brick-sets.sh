#!/bin/bash
# brick-sets.sh - replica sets come from glusterd, not from chorus.json
# (issue 17), on 3 nodes of real corosync + glusterd + chorusd in network
# namespaces.
#
#   1. Volume gv is "replica 2" over 4 floating bricks, created in the order
#      b1 b3 b2 b4, so glusterd's sets are {b1 b3} and {b2 b4}.  chorus.json
#      says nothing about sets.  chorusd starts on nodes 1 and 2 only, so
#      the bricks are first placed on two nodes, where placement without
#      sets (by address: b1 b3 on one node, b2 b4 on the other) puts each
#      set on one node.  With glusterd's sets every set spans both nodes,
#      and status and "chorusctl bricks" show the sets and where they come
#      from, on every node.
#   2. chorusd on node 3 joins; the sets stay apart (failback manual: the
#      bricks do not move).
#   3. chorusd on node 2 is restarted in place with a chorus.json whose
#      "set" for b1 disagrees with glusterd ("1": glusterd says 0): its
#      status (JSON and text) and its log say so, naming the brick and both
#      values; the other nodes, without the override, report nothing.
#   4. chorusd on node 3 is restarted in place while its gluster CLI does
#      not answer yet (the real CLI behind a gate, as when glusterd comes up
#      after chorusd): it joins without sets, and its status says the table
#      does not use its (empty) declaration.  Once the CLI answers, a hook's
#      inventory refresh brings glusterd's sets to its core without a
#      restart, and the table's sets are its own again.
# Exit 77 when not root or corosync/gluster/chorusd are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
bk_require noclient
GRACE_MS=20000
export BK_VOLUME_TYPE="replica 2" BK_VOLUME_ORDER="1 3 2 4"

cl_init bksets 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
bk_gluster_setup 4
D=$CL_DIR/out; mkdir -p "$D"

all_running() { local k; for (( k = 1; k <= BK_NB; k++ )); do bk__running_once "$k" || return 1; done; }
apart() { [ "$(bk_where "$1")" != "$(bk_where "$2")" ]; }

# check_sets I [CONFLICT_BRICK CONFIG_SET] : node I's status shows glusterd's
# sets on every brick (b1 b3: gv/0, b2 b4: gv/1), none of them overridden,
# except CONFLICT_BRICK, overridden with CONFIG_SET and flagged
check_sets() {
    local i=$1 cb=${2:-0} cs=${3:-}
    bk_ctl "$i" status --json > "$D/status$i.json" || { echo "status $i failed"; return 1; }
    python3 - "$D/status$i.json" "$cb" "$cs" "${BK_VIP[@]}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
cb, cs, vips = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
want = {1: "0", 3: "0", 2: "1", 4: "1"}       # glusterd's, by brick number
for b in s["bricks"]["bricks"]:
    k = vips.index(b["host"]) + 1
    st = b.get("set")
    assert st is not None, "brick %d: no set in status: %s" % (k, b)
    assert st["gluster"] == want[k], (k, st)
    if k == cb:
        assert st["source"] == "config" and st["config"] == cs and st["conflict"], (k, st)
        assert st["set"] == "gv/" + cs, (k, st)
    else:
        assert st["source"] == "gluster" and st["config"] is None, (k, st)
        assert st["set"] == "gv/" + want[k] and not st["conflict"], (k, st)
        assert st["in_effect"], (k, st)
PY
}

# --- 1. first placement on two nodes, with glusterd's sets ------------------
for i in 1 2; do
    bk_write_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$GRACE_MS"
    bk_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
done
cl_wait_until 120 all_running ||
    cl_fail "bricks not all started: $(for k in 1 2 3 4; do printf 'b%s=%s ' "$k" "$(bk_where "$k")"; done)"
where() { local k s=''; for (( k = 1; k <= BK_NB; k++ )); do s+="b$k on $(bk_where "$k"), "; done; echo "${s%, }"; }
cl_log "placed on two nodes: $(where)"
echo "placement on nodes 1 2: $(where)"
grep -q '"set"' "$(cl_ndir 1)/chorusd.conf" && cl_fail "the config names a set"
apart 1 3 || cl_fail "glusterd's set {b1 b3} shares a node: $(where)"
apart 2 4 || cl_fail "glusterd's set {b2 b4} shares a node: $(where)"
for i in 1 2; do
    out=$(check_sets "$i" 2>&1) || cl_fail "node $i: status does not show glusterd's sets: $out"
done
bk_ctl 1 bricks > "$D/bricks1.txt" || cl_fail "chorusctl bricks"
cat "$D/bricks1.txt"
grep -q "^  gv *${BK_VIP[3]}:${BK_PATH[3]} *gv/0 " "$D/bricks1.txt" ||
    cl_fail "chorusctl bricks does not show b3 in set gv/0"
grep -q "^Sets:" "$D/bricks1.txt" && cl_fail "chorusctl bricks reports a disagreement"

# --- 2. the third node joins -------------------------------------------------
bk_write_conf 3 "$(cl_ndir 3)/chorusd.conf" "$GRACE_MS"
bk_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
cl_wait_until 60 check_sets 3 >/dev/null 2>&1 || cl_fail "node 3: $(check_sets 3 2>&1)"
{ all_running && apart 1 3 && apart 2 4; } || cl_fail "after node 3 joined: $(where)"

# --- 3. an override that disagrees ------------------------------------------
# shellcheck disable=SC2034  # read by bk_write_conf (lib-bricks.sh)
BK_SETS[1]=1
bk_write_conf 2 "$(cl_ndir 2)/chorusd.conf" "$GRACE_MS"
unset 'BK_SETS[1]'
cl_chorusd_kill 2 KILL
bk_chorusd_start 2 "$(cl_ndir 2)/chorusd.conf"
cl_wait_until 60 check_sets 2 1 1 >/dev/null 2>&1 || cl_fail "node 2: $(check_sets 2 1 1 2>&1)"
grep -F "brick ${BK_VIP[1]}:${BK_PATH[1]}: chorus.json says set \"1\", glusterd says set 0" \
    "$(cl_ndir 2)/chorusd.log" || cl_fail "node 2's log does not report the disagreement"
bk_ctl 2 bricks > "$D/bricks2.txt" || cl_fail "chorusctl bricks on node 2"
cat "$D/bricks2.txt"
grep -q "^  gv *${BK_VIP[1]}:${BK_PATH[1]} *gv/1 (gluster: 0) " "$D/bricks2.txt" ||
    cl_fail "chorusctl bricks does not show b1's override against glusterd"
grep -q '^Sets: *1 brick: chorus.json.s "set" disagrees with glusterd' "$D/bricks2.txt" ||
    cl_fail "chorusctl bricks has no Sets: line"
bk_ctl 2 status > "$D/status2.txt"
grep -q '^Sets: *1 brick' "$D/status2.txt" || cl_fail "chorusctl status has no Sets: line"
for i in 1 3; do
    out=$(check_sets "$i" 2>&1) || cl_fail "node $i (no override) changed: $out"
    grep -q "chorus.json says set" "$(cl_ndir "$i")/chorusd.log" && cl_fail "node $i reports a disagreement"
done
all_running || cl_fail "a brick stopped: $(where)"

# --- 4. sets learnt after joining -------------------------------------------
bk_gated_cli
gate=$BK_GATE
GL_GLUSTER=$CL_DIR/gluster-gated bk_write_conf 3 "$(cl_ndir 3)/chorusd.conf" "$GRACE_MS"
cl_chorusd_kill 3 KILL
: > "$(cl_ndir 3)/chorusd.log"
bk_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
# no sets from anywhere: the table's (node 1's) are not this node's word
no_sets() {
    bk_ctl 3 status --json 2>/dev/null | python3 -c '
import json, sys
b = json.load(sys.stdin)["bricks"]["bricks"]
assert all(x["set"]["set"] is None and x["set"]["source"] == "none" for x in b), b
assert all(x["set"].get("in_effect") is False for x in b), b' 2>/dev/null
}
cl_wait_until 60 no_sets || cl_fail "node 3 without an inventory: $(bk_ctl 3 status --json | tr -d '\n' | head -c 2000)"
grep -q "gluster volume info failed" "$(cl_ndir 3)/chorusd.log" || cl_fail "node 3's CLI was not gated"
touch "$gate"
bk_ctl 3 inventory-refresh "$V" add-brick > /dev/null || cl_fail "inventory-refresh on node 3"
cl_wait_until 60 check_sets 3 >/dev/null 2>&1 || cl_fail "node 3 after the refresh: $(check_sets 3 2>&1)"
grep -q "set gv/0 (from gluster): placed with it from the next round" "$(cl_ndir 3)/chorusd.log" ||
    cl_fail "node 3's log does not say it learnt the sets at run time"
{ all_running && apart 1 3 && apart 2 4; } || cl_fail "after node 3 learnt the sets: $(where)"
echo "PASS: sets from glusterd ($(where)); node 2's override reported; node 3 learnt them at run time"
