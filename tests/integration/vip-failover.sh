#!/bin/bash
# VIP placement and failover on a real 3-node corosync cluster (issue: core).
#
# Every check looks at the kernel from outside chorusd (`ip -n NS addr`):
#   1. 12 VIPs spread 4/4/4, each exactly once
#   2. an address deleted by hand comes back
#   3. chorusd killed and restarted within the restart grace: nothing moves
#   4. chorusd killed for good: its node drops the addresses (lifetime), the
#      survivors take them after the grace, never two holders at once; back
#      again, it gets exactly its share (4 moves)
#   5. SIGKILL of a node's corosync + chorusd: exactly its VIPs move; rejoin
#      rebalances with the minimum number of moves; a survivor's events show
#      the membership changes and no quorum loss
#   6. a node cut off alone drops its VIPs once inquorate (its events say
#      quorum lost), the other two keep all 12; healed, it gets its share back
#   7. graceful stop: each VIP of the stopping node is absent everywhere for
#      less than 100 ms (ip monitor timestamps on every node)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "chorusd not built at $CHORUSD"; exit 77; }
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}

N=3
NV=12
cl_init vipfo "$N"
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"; done
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }
for i in 1 2 3; do start_chorusd "$i"; done

# owner map: "vip:node ..." for every VIP; a VIP held twice shows "vip:a+b"
owners() {
    local k a o out=()
    for (( k = 0; k < NV; k++ )); do
        a=$(cl_vip_addr "$k" "$NV"); a=${a%/*}
        o=$(cl_vip_owner "$a" | paste -sd+); out+=("$a:${o:--}")
    done
    echo "${out[*]}"
}
count_on() { cl_vips_on "$1" | wc -l; }
all_once() { local m; m=" $(owners) "; [[ $m != *:-\ * && $m != *+* ]]; }
spread_is() {	# spread_is "4 4 4" (counts on nodes 1..N, - for skipped)
    local want=$1 got="" i
    for (( i = 1; i <= N; i++ )); do got+="$(count_on "$i") "; done
    [ "${got% }" = "$want" ]
}
moved() {	# moved MAP_BEFORE MAP_AFTER : number of VIPs whose owner changed
    local n=0 a b
    for a in $1; do for b in $2; do
        [ "${a%%:*}" = "${b%%:*}" ] && [ "${a#*:}" != "${b#*:}" ] && n=$((n + 1))
    done; done
    echo "$n"
}
# sampler: owner maps every 100 ms into a file, bounded
sampler_start() {
    SAMPLES="$CL_DIR/samples.$1"
    ( for (( s = 0; s < 600; s++ )); do echo "$(cl_now_ms) $(owners)"; sleep 0.1; done ) \
        > "$SAMPLES" 2>/dev/null &
    SAMPLER=$!
}
sampler_stop() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }
no_duplicates() { ! grep -q '+' "$SAMPLES"; }

# 1. spread
cl_wait_until 30 spread_is "4 4 4" || cl_fail "VIPs not spread 4/4/4: $(owners)"
all_once || cl_fail "a VIP is not held exactly once: $(owners)"
cl_log "1 ok: spread 4/4/4 $(owners)"

# 2. deleted by hand comes back
v=$(cl_vips_on 1 | head -1)
ip -n "$(cl_ns 1)" addr del "$v/$CL_PREFIXLEN" dev eth0
cl_wait_until 10 sh -c "ip -n $(cl_ns 1) -o addr show dev eth0 | grep -q ' $v/'" ||
    cl_fail "$v deleted by hand did not come back"
cl_log "2 ok: $v deleted by hand came back"

# 3. restart within the grace moves nothing
before=$(owners)
sampler_start 3
cl_chorusd_kill 2 KILL
sleep 0.5
start_chorusd 2
sleep 6
sampler_stop
after=$(owners)
[ "$before" = "$after" ] || cl_fail "restart within grace moved VIPs: $before -> $after"
if awk -v want="$before" '{ $1 = ""; sub(/^ /, ""); if ($0 != want) bad = 1 } END { exit !bad }' \
       "$SAMPLES"; then
    cl_fail "ownership changed during the restart: $(grep -v -F "$before" "$SAMPLES" | head -3)"
fi
cl_log "3 ok: chorusd restart within grace moved nothing"

# 4. chorusd dead for good: lifetime removes the addresses, then takeover
before=$(owners)
sampler_start 4
t0=$(cl_now_ms)
cl_chorusd_kill 2 KILL
cl_wait_until 30 spread_is "6 0 6" || cl_fail "survivors did not take node 2's VIPs: $(owners)"
t1=$(cl_now_ms)
sampler_stop
no_duplicates || cl_fail "a VIP was on two nodes: $(grep '+' "$SAMPLES" | head -2)"
[ $((t1 - t0)) -ge 7000 ] || cl_fail "takeover after $((t1 - t0)) ms: before the restart grace"
cl_log "4a ok: node 2's VIPs taken after $((t1 - t0)) ms (grace 8000), never twice"
before=$(owners)
start_chorusd 2
cl_wait_until 30 spread_is "4 4 4" || cl_fail "no rebalance after chorusd 2 returned: $(owners)"
m=$(moved "$before" "$(owners)")
[ "$m" -eq 4 ] || cl_fail "rebalance moved $m VIPs, minimum is 4"
cl_log "4b ok: chorusd 2 back, rebalanced with $m moves"

# 5. node crash: exactly its VIPs move; rejoin moves the minimum
before=$(owners)
mine3=$(cl_vips_on 3 | paste -sd' ')
cl_chorusd_kill 3 KILL
cl_corosync_kill 3 KILL
cl_wait_until 30 spread_is "6 6 0" || cl_fail "node 3's VIPs not taken over: $(owners)"
after=$(owners)
m=$(moved "$before" "$after")
[ "$m" -eq 4 ] || cl_fail "node crash moved $m VIPs, expected exactly node 3's 4"
for a in $mine3; do [[ " $after " == *" $a:3 "* ]] && cl_fail "$a still on node 3"; done
# node 1 still lists the lost node, as offline, once nothing is pending
n3_offline() {
    timeout 20 "$CHORUSCTL" -s "$(cl_ndir 1)/chorus-run/chorusd.sock" --json nodes |
        python3 -c 'import json, sys; d = json.load(sys.stdin)
sys.exit(0 if any(n["id"] == 3 and n["state"] == "offline" and n["reason"] == "not in the corosync ring"
                  for n in d["nodes"]) else 1)'
}
cl_wait_until 30 n3_offline || cl_fail "node 1 does not list node 3 offline: $(timeout 20 "$CHORUSCTL" -s "$(cl_ndir 1)/chorus-run/chorusd.sock" --json nodes)"
cl_log "5a ok: node 3 crash moved exactly its 4 VIPs; node 1 lists it offline"
cl_corosync_start 3
cl_wait_members 1 3 30 || cl_fail "node 3 corosync did not rejoin"
before=$(owners)
start_chorusd 3
cl_wait_until 30 spread_is "4 4 4" || cl_fail "no rebalance after node 3 rejoined: $(owners)"
m=$(moved "$before" "$(owners)")
[ "$m" -eq 4 ] || cl_fail "rejoin moved $m VIPs, minimum is 4"
cl_log "5b ok: node 3 rejoined, $m moves"
# node 1 kept quorum through node 3's loss and return: its history must not
# say otherwise (a ring change is not a quorum loss)
events1() { timeout 20 "$CHORUSCTL" -s "$(cl_ndir 1)/chorus-run/chorusd.sock" events -n 256; }
ev=$(events1) || cl_fail "events on node 1 failed"
echo "$ev" | grep -q "membership" || cl_fail "node 1's events have no membership change: $ev"
echo "$ev" | grep -q "quorum lost" && cl_fail "node 1's events say quorum lost at a membership change: $(echo "$ev" | grep -B1 -A1 'quorum lost')"
cl_log "5c ok: node 1's events show membership changes and no quorum loss"

# 6. node 1 cut off alone
cl_link_down 1
cl_wait_until 30 spread_is "0 6 6" || cl_fail "partition: expected 0/6/6, got $(owners)"
ev=$(events1) || cl_fail "events on node 1 failed"
echo "$ev" | grep -q "quorum lost" || cl_fail "isolated node 1's events do not say quorum lost: $ev"
cl_log "6a ok: isolated node 1 released (its events say quorum lost), nodes 2+3 hold all 12"
cl_link_up 1
cl_wait_members 1 3 30 || cl_fail "node 1 did not rejoin after heal"
cl_wait_until 30 spread_is "4 4 4" || cl_fail "no rebalance after heal: $(owners)"
all_once || cl_fail "after heal a VIP is not held exactly once: $(owners)"
cl_log "6b ok: healed, 4/4/4"

# 7. graceful stop: per-VIP gap seen by ip monitor on every node
mons=()
for i in 1 2 3; do
    ip -n "$(cl_ns "$i")" -ts monitor address > "$CL_DIR/mon.$i" 2>&1 &
    mons+=($!)
done
sleep 0.5
mine3=$(cl_vips_on 3 | paste -sd' ')
cl_chorusd_kill 3 TERM
cl_wait_until 20 spread_is "6 6 0" || cl_fail "graceful stop: VIPs not handed over: $(owners)"
sleep 0.5
kill "${mons[@]}" 2>/dev/null; wait "${mons[@]}" 2>/dev/null
worst=0
for a in $mine3; do
    # deletion on node 3, then the first add elsewhere; timestamps [YYYY-MM-DDTHH:MM:SS.ffffff]
    del=$(grep -F "inet $a/" "$CL_DIR/mon.3" | grep '^\[.*Deleted' | head -1 | sed 's/^\[\([^]]*\)\].*/\1/')
    add=$(cat "$CL_DIR/mon.1" "$CL_DIR/mon.2" | grep -F "inet $a/" | grep -v Deleted | head -1 |
          sed 's/^\[\([^]]*\)\].*/\1/')
    [ -n "$del" ] && [ -n "$add" ] || cl_fail "graceful stop: no monitor events for $a (del='$del' add='$add')"
    gap=$(( $(date -d "$add" +%s%6N) - $(date -d "$del" +%s%6N) ))
    [ "$gap" -gt "$worst" ] && worst=$gap
    cl_log "   $a: absent for $((gap / 1000)).$(printf %03d $((gap % 1000))) ms"
done
[ "$worst" -lt 100000 ] || cl_fail "graceful stop left a VIP absent for $((worst / 1000)) ms"
cl_log "7 ok: graceful stop, worst gap $((worst / 1000)) ms"
echo "vip-failover: all scenarios passed"
