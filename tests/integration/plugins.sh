#!/bin/bash
# Plugins on a real 3-node cluster (issue: plugins).
#
# Each node gets a second, client-facing interface eth1 (its own bridge in the
# switch namespace) carrying the VIPs; corosync stays on eth0.  The VIPs
# depend on "link:eth1", watched by the link-monitor plugin.
#   1. eth1 down on node 2: its VIPs move to nodes 1 and 3 within 500 ms of
#      the carrier change (ip monitor timestamps), the others stay put
#   2. eth1 up again: node 2 gets its share back (failback auto)
#   3. a command check that hangs on node 1 is reported failed after its
#      timeout, and a node failover meanwhile is not delayed by it
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$CL_ROOT/tests/bench/lib-measure.sh"
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "chorusd not built"; exit 77; }
for p in link-monitor command-check; do
    [ -f "$BUILDDIR/plugins/$p/.libs/chorus-$p.so" ] || { echo "plugin $p not built"; exit 77; }
done

N=3
NV=12
cl_init plug "$N"
PLUGDIR=$CL_DIR/plugins	# one directory, as an installed system has
mkdir -p "$PLUGDIR"
for p in link-monitor command-check; do ln -s "$BUILDDIR/plugins/$p/.libs/chorus-$p.so" "$PLUGDIR/"; done
# client network: eth1 in every node on bridge br1
sw=$(cl_ns_sw)
ip -n "$sw" link add br1 type bridge && ip -n "$sw" link set br1 up || cl_fail "br1"
CNET="10.$(( CL_PID % 200 + 20 )).$(( (CL_PID / 200 + 1) % 250 ))"
for i in 1 2 3; do
    ip -n "$sw" link add "c$i" type veth peer name eth1 netns "$(cl_ns "$i")" || cl_fail "veth c$i"
    ip -n "$sw" link set "c$i" master br1 up
    ip -n "$(cl_ns "$i")" addr add "$CNET.$i/24" dev eth1
    ip -n "$(cl_ns "$i")" link set eth1 up
done
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"

conf() {	# conf I [HUNG]
    local i=$1 hung=${2:-} d k sep=""; d=$(cl_ndir "$i")
    {
        printf '{"group":"chorus","state_dir":"%s","run_dir":"%s","vips":[' "$d/chorus-state" "$d/chorus-run"
        for (( k = 0; k < NV; k++ )); do
            printf '%s{"address":"%s.%d/24","interface":"eth1","depends":["link:eth1"]}' "$sep" "$CNET" $((150 + k))
            sep=,
        done
        printf '],"timing":{"restart_grace_ms":8000,"round_timeout_ms":3000},'
        printf '"plugins":{"dir":"%s","load":[{"name":"link-monitor","config":{"interfaces":["eth1"]}}' "$PLUGDIR"
        if [ -n "$hung" ]; then
            printf ',{"name":"command-check","config":{"checks":[{"name":"hung","argv":["/bin/sleep","1000"],"interval_ms":1000,"timeout_ms":1500,"fail_after":1,"recover_after":1}]}}'
        fi
        printf ']},"log":{"level":"info","file":"%s","stderr":true,"syslog":false}}\n' "$d/chorusd.log"
    } > "$d/chorusd.conf"
}
conf 1 hung; conf 2; conf 3
for i in 1 2 3; do cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"; done

on() { ip -n "$(cl_ns "$1")" -o -4 addr show dev eth1 | grep -c "inet $CNET\.1[5-6][0-9]/"; }
spread_is() { [ "$(on 1) $(on 2) $(on 3)" = "$1" ]; }
cl_wait_until 30 spread_is "4 4 4" || cl_fail "VIPs not spread 4/4/4: $(on 1) $(on 2) $(on 3)"
cl_log "VIPs spread 4/4/4 on the client interfaces"

# 1. carrier loss on node 2's client interface
mine2=$(ip -n "$(cl_ns 2)" -o -4 addr show dev eth1 | awk '{print $4}' | grep "^$CNET\.1[5-6]" | cut -d/ -f1)
mkdir -p "$CL_DIR/mon"
for i in 1 2 3; do
    TZ=UTC ip -n "$(cl_ns "$i")" -ts monitor link address > "$CL_DIR/mon/p$i.log" 2>&1 &
    echo "$! mon.p$i" >> "$CL_DIR/pids.all"
done
sleep 0.5
snap1=$(ip -n "$(cl_ns 1)" -o -4 addr show dev eth1 | awk '{print $4}' | sort | paste -sd,)
ip -n "$(cl_ns 2)" link set eth1 down
cl_wait_until 10 spread_is "6 0 6" || cl_fail "node 2's VIPs did not move: $(on 1) $(on 2) $(on 3)"
sleep 0.3
down=$(grep -m1 'eth1.*state DOWN\|eth1:.*DOWN' "$CL_DIR/mon/p2.log" | sed 's/^\[\([^]]*\)\].*/\1/')
[ -n "$down" ] || cl_fail "no link-down event seen on node 2"
last=0
for a in $mine2; do
    t=$(cat "$CL_DIR/mon/p1.log" "$CL_DIR/mon/p3.log" | grep -F "inet $a/" | grep -v Deleted |
        head -1 | sed 's/^\[\([^]]*\)\].*/\1/')
    [ -n "$t" ] || cl_fail "no add event for $a"
    us=$(( $(date -ud "$t" +%s%6N) - $(date -ud "$down" +%s%6N) ))
    [ "$us" -gt "$last" ] && last=$us
done
cl_log "1: link down on node 2 -> its last VIP up elsewhere: $((last / 1000)) ms"
[ "$last" -lt 500000 ] || cl_fail "link-down failover took $((last / 1000)) ms (limit 500)"
now1=$(ip -n "$(cl_ns 1)" -o -4 addr show dev eth1 | awk '{print $4}' | sort | paste -sd,)
for a in ${snap1//,/ }; do [[ ",$now1," == *",$a,"* ]] || cl_fail "node 1 lost $a, which did not need to move"; done
cl_log "1 ok: only node 2's VIPs moved"

# 2. carrier back
ip -n "$(cl_ns 2)" link set eth1 up
cl_wait_until 20 spread_is "4 4 4" || cl_fail "no failback after link up: $(on 1) $(on 2) $(on 3)"
cl_log "2 ok: link up, node 2 back to 4"
# node 2's history names both verdicts of its link check
if [ -x "${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}" ]; then
    ev2=$("${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}" -s "$(cl_ndir 2)/chorus-run/chorusd.sock" events -n 200)
    echo "$ev2" | grep -q "health .*link:eth1 on this node: FAILED" &&
        echo "$ev2" | grep -q "health .*link:eth1 on this node: ok" ||
        cl_fail "node 2's events lack the link check's verdicts: $ev2"
    cl_log "2b ok: node 2's events show link:eth1 FAILED, then ok"
fi

# 3. the hung check on node 1 is failed after its timeout; a failover is not delayed
sock1="$(cl_ndir 1)/chorus-run/chorusd.sock"
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
hung_failed() {
    "$CHORUSCTL" -s "$sock1" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(c["scope"] == "check:hung" and c["health"] == "failed" for c in d.get("checks", [])) else 1)'
}
if [ -x "$CHORUSCTL" ]; then
    cl_wait_until 15 hung_failed || cl_fail "the hung check never showed as failed: $("$CHORUSCTL" -s "$sock1" status --json | head -c 600)"
    cl_log "3a ok: hung check reported failed"
fi
t0=$(cl_now_ms)
mine3=$(ip -n "$(cl_ns 3)" -o -4 addr show dev eth1 | awk '{print $4}' | grep "^$CNET\.1[5-6]" | cut -d/ -f1)
cl_chorusd_kill 3 KILL
cl_corosync_kill 3 KILL
cl_wait_until 30 spread_is "6 6 0" || cl_fail "failover with a hung check did not complete"
m=$(ms_membership_time_ms "$(cl_ndir 1)/corosync.log" "$t0")
lastv=$(ms_last_vip_time_ms "$CL_DIR/mon/p1.log $CL_DIR/mon/p2.log" "$mine3" "$t0")
[ -n "$m" ] && [ -n "$lastv" ] || cl_fail "could not time the failover"
cl_log "3: membership -> last VIP with a hung check on node 1: $((lastv - m)) ms"
[ $((lastv - m)) -lt 1000 ] || cl_fail "failover delayed: $((lastv - m)) ms"
cl_log "3 ok"
echo "plugins: all scenarios passed"
