#!/bin/bash
# hostile-conns.sh - one member cannot fill a node's table of other nodes'
# connection lists (tickle ACKs, issue 15 item 5).
#
# 2 nodes of real corosync + chorusd, 130 VIPs.  A hostile member on node 2
# (cpg_peer flood -t CONNS -b valid) lists 1024 made-up clients on every
# VIP: 133,120 connections, valid by the wire's caps.  Node 1 keeps at most
# half of its table (262,144) for any one sender, so the rest of the group
# still has room.  It checks on node 1:
#   1. chorus_conns_remote <= 131072 and chorus_conns_lists_refused_total > 0
#      (without the per-sender share both would read 133120 and 0);
#   2. chorusd's RSS stays under RSS_MAX_KB (32 MB), both daemons live, the
#      VIPs stay where they were.
# Ends with: hostile-conns remote=R refused=F rss_max_kb=M
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] && [ -x "$CPG_PEER" ] ||
    { echo "chorusd, chorusctl or cpg_peer not built"; exit 77; }

RSS_MAX_KB=${RSS_MAX_KB:-32768}
N=2
NV=130
PER_VIP=1024
SENDER_MAX=131072

cl_init conns "$N"
for i in 1 2; do cl_corosync_start "$i"; done
cl_wait_members 1 2 30 || cl_fail "corosync did not form a 2-node ring"
for i in 1 2; do
    f=$(cl_ndir "$i")/chorusd.conf
    cl_write_chorus_conf "$i" "$f" "$NV"
    sed -i 's/"level":"debug"/"level":"info"/' "$f"
    cl_chorusd_start "$i" "$f"
done

sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
ctl() { local i=$1; shift; timeout 10 "$CHORUSCTL" -s "$(sock "$i")" "$@"; }
metric() { ctl "$1" metrics 2>/dev/null | awk -v m="chorus_$2" '$1 == m { print $2 }'; }
count_on() { cl_vips_on "$1" | wc -l; }
spread_is() { [ "$(count_on 1) $(count_on 2)" = "$1" ]; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

cl_wait_until 60 spread_is "65 65" || cl_fail "VIPs not spread 65/65: $(count_on 1) $(count_on 2)"
cl_wait_until 20 ctl 1 status >/dev/null || cl_fail "node 1 not healthy"
before="$(cl_vips_on 1 | md5sum) $(cl_vips_on 2 | md5sum)"
p1=$(cl_chorusd_pid 1) || cl_fail "chorusd 1 not running"

vips=""
for (( k = 0; k < NV; k++ )); do vips+="${vips:+,}$(cl_vip_addr "$k" "$NV")"; done
max=0
cl_cpg_peer_start 2 -t CONNS -b valid -A "$vips" -n "$PER_VIP" -r 50 -d 4 chorus flood
peer=$CL_CPG_PEER_PID
for (( n = 0; n < 200; n++ )); do
    r=$(rss_kb "$p1"); [ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
    cl__gone "$peer" && break
    sleep 0.1
done
cl_wait_until 20 cl__gone "$peer" || cl_fail "cpg_peer did not end"
sum=$(cl_cpg_peer_summary 2 "$peer")
cl_log "peer: $sum"
[[ $sum =~ \ sent=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 65 ] ||
    cl_fail "the peer did not send every list once: $sum"

remote=$(metric 1 conns_remote); refused=$(metric 1 conns_lists_refused_total)
echo "hostile-conns remote=${remote:-none} refused=${refused:-none} rss_max_kb=$max"
[ -n "$remote" ] && [ -n "$refused" ] || cl_fail "no conns metrics from node 1"
[ "$remote" -gt 0 ] || cl_fail "node 1 kept none of the lists: not a test"
[ "$remote" -le "$SENDER_MAX" ] || cl_fail "one sender holds $remote connections (cap $SENDER_MAX)"
[ "$refused" -gt 0 ] || cl_fail "nothing refused although the sender passed its share"
[ "$max" -lt "$RSS_MAX_KB" ] || cl_fail "chorusd 1 RSS reached $max kB"
cl_chorusd_pid 1 >/dev/null && cl_chorusd_pid 2 >/dev/null || cl_fail "a chorusd died"
after="$(cl_vips_on 1 | md5sum) $(cl_vips_on 2 | md5sum)"
[ "$after" = "$before" ] || cl_fail "VIPs moved"
exit 0
