#!/bin/bash
# Tickle ACKs and connection resets on a real 3-node corosync cluster.
#
# A request/response service runs on every node (tests/integration/echo.py),
# clients in the client namespace talk to the VIPs.  Checks:
#   1. the connection list is bounded: 20 idle connections on one VIP with
#      connections.max_per_vip 8 are listed (and replicated) as 8, never more;
#      once they close, the peers hear an empty list
#   2. owner lost: the node holding a client's VIP loses its link and its
#      processes; the survivor that takes the VIP tickles the client, which is
#      reset and answered by the new owner soon after corosync's new membership
#      (bound: 3000 ms; the target is under 500, the bench measures it)
#   3. planned move (chorusctl move): the old owner resets the client's
#      connection (SOCK_DESTROY) before releasing; the client reconnects to the
#      new owner at once (bound 2000 ms after the command), its error is a
#      reset or end of file, never a timeout
#   4. the fallback when the old owner does not reset (reset_on_release false,
#      as on a kernel without SOCK_DESTROY): two IDLE connections, which
#      nothing else would wake, are reset by the new owner's tickle ACKs
#      within 2000 ms of a planned move
# Exit 77 without root, corosync or python3.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../bench/lib-measure.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "SKIP: chorusd/chorusctl not built"; exit 77; }

N=3
NV=3
cl_init tickle "$N"
. "$here/lib-tickle.sh"
CONNS='{"tickle":true,"reset_on_release":true,"max_per_vip":8,"collect_ms":200,"update_ms":500}'
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do
    tk_conf "$i" "$NV" "$CONNS"
    cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
    tk_echo_start "$i"
done
cl_wait_until 30 tk_spread_is "1 1 1" || cl_fail "VIPs not spread 1/1/1"
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }

# --- 1. the cap --------------------------------------------------------------
v1=$(cl_vips_on 1)
tk_spawn_cl hold "$CL_DIR/clients/hold.log" hold "$v1" "$TK_PORT" 20
cl_wait_until 20 grep -q held "$CL_DIR/clients/hold.log" || cl_fail "could not open 20 connections to $v1"
cl_wait_until 10 grep -qF "conns: $v1 has 20 connection(s), listing 8 (12 dropped" "$(cl_ndir 1)/chorusd.log" ||
    cl_fail "node 1 did not list 8 of the 20 connections on $v1: $(grep "conns: $v1" "$(cl_ndir 1)/chorusd.log" | tail -3)"
for s in 2 3; do
    cl_wait_until 10 tk_listed 1 "$v1" 8 "$s" || cl_fail "node $s did not hear node 1's 8 connections on $v1"
done
over=$(grep -hoE "lists [0-9]+ connection" "$(cl_ndir 2)/chorusd.log" "$(cl_ndir 3)/chorusd.log" |
       awk '$2 > 8' | head -3)
[ -z "$over" ] || cl_fail "a peer heard more than the cap: $over"
cl__kill_recorded hold TERM 5
for s in 2 3; do
    cl_wait_until 10 tk_listed 1 "$v1" 0 "$s" || cl_fail "node $s did not hear that $v1's connections closed"
done
cl_log "1 ok: 20 connections on $v1 listed and replicated as 8 (the cap), then 0"

# --- 2. owner lost: the new owner tickles the client ---------------------------
for (( k = 0; k < NV; k++ )); do
    a=$(cl_vip_addr "$k" "$NV"); tk_client_start "$k" "${a%/*}"
done
for (( k = 0; k < NV; k++ )); do
    cl_wait_until 10 grep -q connected "$(tk_client_log "$k")" || cl_fail "client $k not connected"
done
a0=$(cl_vip_addr 0 "$NV"); a0=${a0%/*}
d=$(cl_vip_owner "$a0") || cl_fail "nobody holds $a0"
surv=(); for (( i = 1; i <= N; i++ )); do [ "$i" = "$d" ] || surv+=("$i"); done
for s in "${surv[@]}"; do
    cl_wait_until 10 tk_listed "$d" "$a0" 1 "$s" || cl_fail "node $s did not hear node $d's connection on $a0"
done
tk_node_die "$d"
cl_log "2: node $d (holding $a0) lost its link and its processes"
mem_time() { min_of_survivors ms_membership_time_ms "$TK_T_KILL" "${surv[@]}"; }
min_of_survivors() {
    local fn=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$("$fn" "$(cl_ndir "$s")/corosync.log" "$after") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] && ms_min "${out[@]}"
}
cl_wait_until 20 mem_time >/dev/null || cl_fail "no new membership after killing node $d"
t_mem=$(mem_time)
cl_wait_until 20 tk_first_after "$(tk_client_log 0)" ok_after_reconnect "$TK_T_KILL" >/dev/null ||
    cl_fail "client of $a0 did not get an answer again: $(tail -3 "$(tk_client_log 0)")"
read -r t_ok who < <(tk_first_after "$(tk_client_log 0)" ok_after_reconnect "$TK_T_KILL" | awk '{ print $1, $3 }')
err=$(tk_first_after "$(tk_client_log 0)" error "$TK_T_KILL" | awk '{ print $3 }')
gap=$(( t_ok - t_mem ))
new=${who#n}
[[ " ${surv[*]} " == *" $new "* ]] || cl_fail "client of $a0 answered by '$who', not a survivor"
grep -qF "$a0: tickling 1 client connection(s) node $d listed" "$(cl_ndir "$new")/chorusd.log" ||
    cl_fail "node $new did not tickle $a0's client"
cl_log "2: membership -> client answered again: ${gap} ms (error: $err, answered by $who)"
[ "$gap" -le 3000 ] || cl_fail "client of $a0 took ${gap} ms after the membership change (bound 3000)"
cl_log "2 ok: node $new tickled the client of $a0, answered ${gap} ms after the membership change"

tk_node_back "$d"
cl_wait_until 60 tk_spread_is "1 1 1" || cl_fail "node $d did not get its share back"

# --- 3. planned move: the old owner resets, the client reconnects at once -------
a1=$(cl_vip_addr 1 "$NV"); a1=${a1%/*}
cl_wait_until 10 grep -q connected "$(tk_client_log 1)" || cl_fail "client 1 not connected"
from=$(cl_vip_owner "$a1") || cl_fail "nobody holds $a1"
to=$(( from % N + 1 ))
t_move=$(cl_now_ms)
ctl "$from" move "$a1" "$to" >/dev/null ||
    cl_fail "chorusctl move $a1 $to refused"
cl_wait_until 10 tk_first_after "$(tk_client_log 1)" ok_after_reconnect "$t_move" >/dev/null ||
    cl_fail "client of $a1 did not reconnect after the move: $(tail -3 "$(tk_client_log 1)")"
read -r t_ok who < <(tk_first_after "$(tk_client_log 1)" ok_after_reconnect "$t_move" | awk '{ print $1, $3 }')
err=$(tk_first_after "$(tk_client_log 1)" error "$t_move" | awk '{ print $3 }')
gap=$(( t_ok - t_move ))
[ "$who" = "n$to" ] || cl_fail "after the move the client is answered by $who, not n$to"
case $err in reset|eof|BrokenPipeError|ConnectionAbortedError) ;;
    *) cl_fail "the client's connection ended with '$err', not a reset" ;; esac
grep -qF "$a1: reset 1 client connection(s) before release" "$(cl_ndir "$from")/chorusd.log" ||
    cl_fail "node $from did not reset $a1's connection before releasing it"
[ "$gap" -le 2000 ] || cl_fail "the client took ${gap} ms to reconnect after the move (bound 2000)"
cl_log "3 ok: move $a1 $from -> $to: client reset ($err) and answered by n$to ${gap} ms after the command"

# --- 4. fallback: the old owner leaves its sockets, the new owner tickles --------
a2=$(cl_vip_addr 2 "$NV"); a2=${a2%/*}
from=$(cl_vip_owner "$a2") || cl_fail "nobody holds $a2"
to=$(( from % N + 1 ))
tk_spawn_cl idle "$CL_DIR/clients/idle.log" hold "$a2" "$TK_PORT" 2
cl_wait_until 20 grep -q held "$CL_DIR/clients/idle.log" || cl_fail "could not open 2 connections to $a2"
nlisted() { grep -cF "conns: node $from lists $1 connection(s) on $a2" "$(cl_ndir "$to")/chorusd.log"; }
cl_wait_until 10 tk_listed "$from" "$a2" 3 "$to" || cl_fail "node $to did not hear node $from's 3 connections on $a2"
before=$(nlisted 3)
tk_conf "$from" "$NV" '{"tickle":true,"reset_on_release":false,"max_per_vip":8,"collect_ms":200,"update_ms":500}'
ctl "$from" reload >/dev/null || cl_fail "reload of node $from failed"
# the reloaded daemon rejoins and lists its 3 connections on $a2 again (client 2 + 2 idle)
more_listed() { [ "$(nlisted 3)" -gt "$before" ]; }
cl_wait_until 20 more_listed || cl_fail "node $to did not hear node $from's 3 connections on $a2 after the reload"
nreset=$(grep -cF "$a2: reset" "$(cl_ndir "$from")/chorusd.log")
t_move=$(cl_now_ms)
cl_wait_until 10 ctl "$from" move "$a2" "$to" >/dev/null || cl_fail "chorusctl move $a2 $to refused"
closed_both() { [ "$(awk -v t="$t_move" '$1 >= t && $2 == "closed"' "$CL_DIR/clients/idle.log" | wc -l)" = 2 ]; }
cl_wait_until 10 closed_both || cl_fail "the idle connections to $a2 were not reset after the move: $(cat "$CL_DIR/clients/idle.log")"
t_closed=$(awk -v t="$t_move" '$1 >= t && $2 == "closed" { m = $1 } END { print m }' "$CL_DIR/clients/idle.log")
[ "$(grep -cF "$a2: reset" "$(cl_ndir "$from")/chorusd.log")" = "$nreset" ] ||
    cl_fail "node $from reset connections although reset_on_release is false"
grep -qF "$a2: tickling 3 client connection(s) node $from listed" "$(cl_ndir "$to")/chorusd.log" ||
    cl_fail "node $to did not tickle the 3 connections on $a2"
gap=$(( t_closed - t_move ))
[ "$gap" -le 2000 ] || cl_fail "the idle connections were reset ${gap} ms after the move (bound 2000)"
cl_log "4 ok: no reset on release; node $to's tickles reset both idle connections ${gap} ms after the move"
echo "tickle: ok"
exit 0
