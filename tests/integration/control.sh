#!/bin/bash
# chorusctl against real daemons on a 3-node corosync cluster (issue: control).
#
#   1. status / nodes / vips / events / metrics answer; status exits 0 when healthy
#   2. plan --standby predicts exactly what `standby` then moves; `active` undoes it;
#      plan refuses a node that does not exist, as standby does
#   3. move pins a VIP on a node and its answer lists every move it made,
#      the side move too; unpin releases the pin
#   4. maintenance on: a standby changes nothing until maintenance off; the
#      core event log (events --core) holds those requests and deliveries
#   5. operator state survives stopping and starting all three daemons, and
#      so does the event history (requests, moves with their reason; --since)
#   6. a non-root user in neither control group is refused, even through an
#      open socket file
#   7. a flood of status requests from 4 clients does not delay a failover
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "chorusd/chorusctl not built"; exit 77; }
command -v python3 >/dev/null || { echo "python3 needed to read JSON"; exit 77; }

N=3
NV=12
cl_init ctl "$N"
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"; done
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }
for i in 1 2 3; do start_chorusd "$i"; done

sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(sock "$i")" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
count_on() { cl_vips_on "$1" | wc -l; }
spread_is() {
    local want=$1 got="" i
    for (( i = 1; i <= N; i++ )); do got+="$(count_on "$i") "; done
    [ "${got% }" = "$want" ]
}
owner_of() { cl_vip_owner "$1" | paste -sd+; }

cl_wait_until 30 spread_is "4 4 4" || cl_fail "VIPs not spread 4/4/4"
cl_wait_until 10 test -S "$(sock 1)" || cl_fail "no control socket"

# 1. reads
cl_wait_until 10 ctl 1 status >/dev/null || cl_fail "status not healthy: $(ctl 1 status)"
out=$(ctl 1 status --json) || cl_fail "status --json failed"
[ "$(echo "$out" | json 'd["cluster"]["members"]')" = 3 ] || cl_fail "status: members != 3: $out"
[ "$(echo "$out" | json 'len(d["vips"])')" = "$NV" ] || cl_fail "status: not $NV vips"
[ "$(echo "$out" | json 'd["cluster"]["quorate"]')" = True ] || cl_fail "status: not quorate"
ctl 2 nodes >/dev/null || cl_fail "nodes failed"
ctl 3 vips >/dev/null || cl_fail "vips failed"
ctl 1 events -n 5 >/dev/null || cl_fail "events failed"
ctl 1 metrics | grep -q '^chorus_members 3$' || cl_fail "metrics: no chorus_members 3"
if [ -x "$CL_ROOT/tests/cli/metrics-check.sh" ]; then
    ctl 1 metrics | "$CL_ROOT/tests/cli/metrics-check.sh" || cl_fail "metrics do not validate"
fi
ctl 1 status | head -20
cl_log "1 ok: status, nodes, vips, events, metrics"

# 2. plan predicts standby exactly
plan=$(ctl 1 plan --standby 2 --json) || cl_fail "plan failed"
pred=$(echo "$plan" | json '" ".join(sorted(m["vip"].split("/")[0]+":"+str(m["to"]) for m in d["moves"]))')
[ -n "$pred" ] || cl_fail "plan --standby 2 predicted no moves: $plan"
before=""; for a in $(cl_vips_on 1) $(cl_vips_on 2) $(cl_vips_on 3); do before+="$a:$(owner_of "$a") "; done
ctl 1 standby 2 >/dev/null || cl_fail "standby 2 refused"
cl_wait_until 20 spread_is "6 0 6" || cl_fail "standby 2 did not drain node 2"
actual=""
for a in $before; do
    v=${a%%:*}; o=$(owner_of "$v")
    [ "$o" != "${a#*:}" ] && actual+="$v:$o "
done
actual=$(echo $actual | tr ' ' '\n' | sort | paste -sd' ')
[ "$actual" = "$pred" ] || cl_fail "plan predicted [$pred], standby moved [$actual]"
[ "$(ctl 3 nodes --json | json '[n["state"] for n in d["nodes"] if n["id"]==2][0]')" = standby ] ||
    cl_fail "node 2 not shown in standby"
ctl 3 active 2 >/dev/null || cl_fail "active 2 refused"
cl_wait_until 20 spread_is "4 4 4" || cl_fail "active 2 did not rebalance"
cl_log "2 ok: plan predicted [$pred], standby moved exactly that; active undid it"
# a node that does not exist is refused as standby refuses it, not planned
# as a node that owns nothing
for opt in --fail --standby; do
    out=$(ctl 1 plan $opt 9 2>&1)
    rc=$?
    [ "$rc" = 4 ] && [[ $out == *unknown_node* ]] ||
        cl_fail "plan $opt 9 (no such node) not refused (rc=$rc: $out)"
done
out=$(ctl 1 standby 9 2>&1)
[ $? = 4 ] && [[ $out == *unknown_node* ]] || cl_fail "standby 9 not refused: $out"
cl_log "2b ok: plan refuses an unknown node: $out"

# 3. move / unpin
v=$(cl_vips_on 1 | head -1)
mout=$(ctl 2 move "$v" 3) || cl_fail "move refused: $mout"
# the answer names every move: the pin, and the side move that keeps 4/4/4
[[ $mout == *"moved $v: "*" -> "* ]] || cl_fail "move's answer does not list $v's move: $mout"
[[ $mout == *"(side move: placement keeps the spread)"* ]] || cl_fail "move's answer hides the side move: $mout"
on3() { cl_vips_on 3 | grep -qxF "$v"; }
cl_wait_until 10 on3 || cl_fail "move: $v not on node 3"
[ "$(ctl 1 vips --json | json "[x['pinned'] for x in d['vips'] if x['address'].startswith('$v/')][0]")" = 3 ] ||
    cl_fail "move: $v not shown pinned to 3"
ctl 1 unpin "$v" >/dev/null || cl_fail "unpin refused"
cl_wait_until 20 spread_is "4 4 4" || cl_fail "unpin: not back to 4/4/4"
cl_log "3 ok: move pinned $v on node 3 (answer: $(echo "$mout" | paste -sd'|')), unpin released it"

# 4. maintenance freezes
ctl 1 maintenance on >/dev/null || cl_fail "maintenance on refused"
snap=$(for i in 1 2 3; do cl_vips_on "$i" | paste -sd,; done)
ctl 1 standby 3 >/dev/null || cl_fail "standby 3 refused in maintenance"
sleep 2
[ "$(for i in 1 2 3; do cl_vips_on "$i" | paste -sd,; done)" = "$snap" ] ||
    cl_fail "maintenance: addresses moved"
ctl 1 maintenance off >/dev/null || cl_fail "maintenance off refused"
cl_wait_until 20 spread_is "6 6 0" || cl_fail "after maintenance off, standby 3 not applied"
cl_log "4 ok: maintenance froze a standby; off applied it"

# 4b. the core event log has the requests, with their answers, and every
# member has the deliveries they caused
core1=$(ctl 1 --json events --core -n 512) || cl_fail "events --core failed"
[ "$(echo "$core1" | json 'len(d["core_events"])')" -gt 0 ] || cl_fail "core event log empty"
for want in "maintenance on" "standby n3" "maintenance off"; do
    [ "$(echo "$core1" | json "sum(1 for e in d['core_events'] if e['type'] == 'admin' and e['text'].startswith('$want') and e['rc'] == 0)")" -ge 1 ] ||
        cl_fail "core event log of node 1 lacks the admin request '$want': $core1"
done
core2=$(ctl 2 --json events --core -n 512) || cl_fail "events --core on node 2 failed"
[ "$(echo "$core2" | json "sum(1 for e in d['core_events'] if e['type'] == 'deliver' and e['text'].startswith('ADMIN from n1'))")" -ge 3 ] ||
    cl_fail "core event log of node 2 lacks node 1's ADMIN deliveries: $core2"
ctl 1 events --core -n 5 >/dev/null || cl_fail "events --core (text) failed"
cl_log "4b ok: core event logs hold the admin requests and their deliveries"

# 5. operator state survives a full restart (node 3 still in standby)
gen=$(ctl 1 status --json | json 'd["cluster"]["generation"]')
t_restart=$(( $(date +%s) + 1 ))	# every event so far is before it
sleep 1.2
for i in 1 2 3; do cl_chorusd_kill "$i" TERM; done
cl_wait_until 20 spread_is "0 0 0" || cl_fail "addresses left after stopping all daemons"
for i in 1 2 3; do start_chorusd "$i"; done
cl_wait_until 30 spread_is "6 6 0" || cl_fail "standby of node 3 lost across restart"
# ... and so does node 1's history: both starts, the standby asked for
# before the restart, its moves with their reason; --since splits them
ev=$(ctl 1 --json events -n 4096) || cl_fail "events failed after the restart"
[ "$(echo "$ev" | json 'sum(1 for e in d["events"] if e["type"] == "daemon" and "started" in e["text"])')" -ge 2 ] ||
    cl_fail "node 1's history does not hold both starts: $ev"
[ "$(echo "$ev" | json 'sum(1 for e in d["events"] if e["type"] == "admin" and e["text"].startswith("standby"))')" -ge 2 ] ||
    cl_fail "node 1's history lost the standby requests of before the restart: $ev"
[ "$(echo "$ev" | json 'sum(1 for e in d["events"] if e["type"] == "move" and e["text"].endswith("(operator)"))')" -ge 4 ] ||
    cl_fail "node 1's history has no moves for the operator's reason: $ev"
ev=$(ctl 1 --json events --since "@$t_restart") || cl_fail "events --since failed"
[ "$(echo "$ev" | json 'sum(1 for e in d["events"] if e["type"] == "admin")')" = 0 ] &&
    [ "$(echo "$ev" | json 'sum(1 for e in d["events"] if e["type"] == "daemon")')" = 1 ] ||
    cl_fail "events --since @$t_restart: expected the restart and no request of before it: $ev"
g2=$(ctl 2 status --json | json 'd["cluster"]["generation"]')
[ "$g2" -ge "$gen" ] || cl_fail "generation went back from $gen to $g2"
ctl 1 active 3 >/dev/null || cl_fail "active 3 refused"
cl_wait_until 20 spread_is "4 4 4" || cl_fail "active 3 did not rebalance"
# the node that took them says how long each took to come up there
up3() {
    ctl 3 --json events -n 4096 | json 'sum(1 for e in d["events"] if e["type"] == "move" and " up here " in e["text"] and e["text"].endswith("; operator)"))'
}
cl_wait_until 10 eval '[ "$(up3)" -ge 4 ]' || cl_fail "node 3's history lacks the durations of its 4 moves: $(ctl 3 events -n 20)"
ctl 3 events -n 40 | grep -m1 ' up here '
cl_log "5 ok: standby survived a full restart (generation $gen -> $g2)"

# 6. unprivileged users: with no control groups configured, nothing at all
# (the read and admin groups: tests/integration/control-hostile.sh)
chmod 0666 "$(sock 1)"	# let the peer-credential check, not the file mode, decide
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$CHORUSCTL" -s "$(sock 1)" standby 1 2>&1)
rc=$?
[ "$rc" -ne 0 ] && [[ $out == *permission* ]] || cl_fail "nobody could run standby (rc=$rc: $out)"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$CHORUSCTL" -s "$(sock 1)" status 2>&1)
rc=$?
[ "$rc" = 4 ] && [[ $out == *permission_denied* ]] ||
    cl_fail "nobody read status through an open socket (rc=$rc: $out)"
chmod 0660 "$(sock 1)"
cl_log "6 ok: non-root refused outright: $out"

# 8. runtime log level and the flight recorder
ctl 1 log-level debug >/dev/null || cl_fail "log-level debug refused"
ctl 1 log-level info >/dev/null || cl_fail "log-level info refused"
ctl 1 log-level loud >/dev/null 2>&1 && cl_fail "log-level accepted a bad level"
bb=$(ctl 1 blackbox --json | json 'd["path"]') || cl_fail "blackbox refused"
[ -s "$bb" ] || cl_fail "blackbox file $bb missing or empty"
cl_log "8 ok: log level switched at runtime, flight recorder in $bb ($(stat -c %s "$bb") bytes)"

# 7. a status flood does not delay a failover
. "$CL_ROOT/tests/bench/lib-measure.sh"
ms_observer_start 1 2
flood() { local n=0; while [ $n -lt 3000 ]; do "$CHORUSCTL" -s "$(sock 1)" status >/dev/null 2>&1; n=$((n + 1)); done; }
fl=()
for k in 1 2 3 4; do flood & fl+=($!); done
sleep 1
mine3=$(cl_vips_on 3)
t0=$(cl_now_ms)
cl_chorusd_kill 3 KILL
cl_corosync_kill 3 KILL
cl_wait_until 30 spread_is "6 6 0" || cl_fail "failover under flood did not complete"
kill "${fl[@]}" 2>/dev/null; wait "${fl[@]}" 2>/dev/null
m=$(ms_membership_time_ms "$(cl_ndir 1)/corosync.log" "$t0")
last=$(ms_last_vip_time_ms "$(ms_monitor_log 1) $(ms_monitor_log 2)" "$mine3" "$t0")
[ -n "$m" ] && [ -n "$last" ] || cl_fail "could not time the failover (m=$m last=$last)"
d=$((last - m))
cl_log "7: membership -> last VIP under a 4-client status flood: $d ms"
[ "$d" -lt 1000 ] || cl_fail "failover took $d ms after the membership change under flood"
ms_observer_stop
cl_log "7 ok"
echo "control: all scenarios passed"
