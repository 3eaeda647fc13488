#!/bin/bash
# Tickle ACKs for IPv6 and for IPv4 clients of dual-stack servers.
#
# The service listens on :: (IPv6, and IPv4 as IPv4-mapped, as NFS and SMB
# servers do).  Two VIPs: one IPv6, one IPv4.  Checks:
#   1. owner lost: the client of the IPv6 VIP is tickled by the new owner
#      (raw IPv6 ACK) and answered again soon after the membership change
#      (bound 3000 ms)
#   2. planned move of the IPv4 VIP: its connection, which the kernel keeps
#      as an IPv6 socket with IPv4-mapped addresses, is collected under the
#      IPv4 VIP and reset before the release (SOCK_DESTROY on the mapped
#      socket); the client reconnects to the new owner within 2000 ms
# IPv6 is switched on in this test's namespaces only (lib.sh turns it off).
# Exit 77 without root, corosync or python3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../bench/lib-measure.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "SKIP: chorusd/chorusctl not built"; exit 77; }

N=3
cl_init tickle6 "$N"
# shellcheck disable=SC2034  # read by lib-tickle.sh
TK_SERVER=server6
. "$here/lib-tickle.sh"
NET6="fd$(printf '%02x' $(( CL_PID % 256 ))):$(printf '%x' $(( CL_PID / 256 % 65536 )))::"
V4=$(cl_vip_addr 0 1)
V6="${NET6}150/64"
A4=${V4%/*}
A6=${V6%/*}

ipv6_on() {                         # ipv6_on NS
    ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 \
        net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 >/dev/null ||
        cl_fail "cannot enable IPv6 in $1"
}
for i in 1 2 3; do ipv6_on "$(cl_ns "$i")"; done
ipv6_on "$(cl_ns_cl)"
ip -n "$(cl_ns_cl)" addr add "${NET6}100/64" dev eth0 nodad || cl_fail "client IPv6 address"

for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do
    f="$(cl_ndir "$i")/chorusd.conf"
    cl_write_chorus_conf "$i" "$f" 1
    python3 - "$f" "$V6" <<'PY' || cl_fail "cannot write the config"
import json, sys
path, v6 = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["vips"].append({"address": v6, "interface": "eth0", "pool": "default"})
c["connections"] = {"collect_ms": 200, "update_ms": 500}
json.dump(c, open(path, "w"))
PY
    cl_chorusd_start "$i" "$f"
    tk_echo_start "$i"
done
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
owner6() { local i; for i in 1 2 3; do ip -n "$(cl_ns "$i")" -6 addr show dev eth0 | grep -qF "inet6 $A6/" && echo "$i"; done; }
placed() { [ -n "$(cl_vip_owner "$A4")" ] && [ -n "$(owner6)" ]; }
cl_wait_until 30 placed || cl_fail "VIPs not placed"

tk_client_start 4 "$A4"
tk_client_start 6 "$A6"
for k in 4 6; do
    cl_wait_until 10 grep -q connected "$(tk_client_log "$k")" || cl_fail "client $k not connected: $(cat "$(tk_client_log "$k")")"
done

# --- 1. owner of the IPv6 VIP lost ------------------------------------------------
# (the address may be between two nodes of a failback move as the last node
# joins: take the owner once it has one)
has_owner6() { [ -n "$(owner6)" ]; }
cl_wait_until 10 has_owner6 || cl_fail "the IPv6 VIP is on no node"
d=$(owner6)
surv=(); for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
for s in "${surv[@]}"; do
    cl_wait_until 10 tk_listed "$d" "$A6" 1 "$s" || cl_fail "node $s did not hear node $d's connection on $A6"
done
tk_node_die "$d"
mem_time() {
    local s t out=()
    for s in "${surv[@]}"; do t=$(ms_membership_time_ms "$(cl_ndir "$s")/corosync.log" "$TK_T_KILL") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] && ms_min "${out[@]}"
}
cl_wait_until 20 mem_time >/dev/null || cl_fail "no new membership after killing node $d"
t_mem=$(mem_time)
cl_wait_until 20 tk_first_after "$(tk_client_log 6)" ok_after_reconnect "$TK_T_KILL" >/dev/null ||
    cl_fail "client of $A6 not answered again: $(tail -3 "$(tk_client_log 6)")"
read -r t_ok who < <(tk_first_after "$(tk_client_log 6)" ok_after_reconnect "$TK_T_KILL" | awk '{ print $1, $3 }')
new=${who#n}
[[ " ${surv[*]} " == *" $new "* ]] || cl_fail "client of $A6 answered by '$who', not a survivor"
grep -qF "$A6: tickling 1 client connection(s) node $d listed" "$(cl_ndir "$new")/chorusd.log" ||
    cl_fail "node $new did not tickle $A6's client"
gap=$(( t_ok - t_mem ))
[ "$gap" -le 3000 ] || cl_fail "client of $A6 took ${gap} ms after the membership change (bound 3000)"
cl_log "1 ok: node $new tickled the IPv6 client of $A6, answered ${gap} ms after the membership change"
tk_node_back "$d"
members3() {
    ctl "$1" status --json 2>/dev/null |
        python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["cluster"]["members"] != 3)'
}
for i in 1 2 3; do cl_wait_until 60 members3 "$i" || cl_fail "node $i does not see 3 members"; done
cl_wait_until 60 placed || cl_fail "VIPs not placed after node $d came back"

# --- 2. planned move of the IPv4 VIP, served by a dual-stack socket -----------------
from=$(cl_vip_owner "$A4") || cl_fail "nobody holds $A4"
to=$(( from % N + 1 ))
cl_wait_until 10 grep -qF "conns: $A4 has 1 connection(s)" "$(cl_ndir "$from")/chorusd.log" ||
    cl_fail "node $from did not collect the IPv4-mapped connection on $A4"
t_move=$(cl_now_ms)
cl_wait_until 10 ctl "$from" move "$A4" "$to" >/dev/null || cl_fail "chorusctl move $A4 $to refused"
cl_wait_until 10 tk_first_after "$(tk_client_log 4)" ok_after_reconnect "$t_move" >/dev/null ||
    cl_fail "client of $A4 did not reconnect after the move"
read -r t_ok who < <(tk_first_after "$(tk_client_log 4)" ok_after_reconnect "$t_move" | awk '{ print $1, $3 }')
[ "$who" = "n$to" ] || cl_fail "after the move the client is answered by $who, not n$to"
grep -qF "$A4: reset 1 client connection(s) before release" "$(cl_ndir "$from")/chorusd.log" ||
    cl_fail "node $from did not reset the IPv4-mapped connection on $A4"
gap=$(( t_ok - t_move ))
[ "$gap" -le 2000 ] || cl_fail "the client took ${gap} ms to reconnect after the move (bound 2000)"
cl_log "2 ok: IPv4-mapped connection on $A4 reset by node $from, answered by n$to ${gap} ms after the move"
echo "tickle-ipv6: ok"
exit 0
