#!/bin/bash
# fence-ipmi.sh - fence mode "agent" (issue 17): the survivors power a lost
# node off through Pacemaker's fence_ipmilan, against an IPMI BMC per node
# (OpenIPMI's ipmi_sim), before its brick is started anywhere else.  Real
# corosync + glusterd + chorusd on 3 nodes in network namespaces, the brick
# harness of brick-failover.sh.
#
# The BMCs and fence_ipmilan's options: lib-ipmi.sh.  The brick script is
# wrapped to log every acquire with its time and node.
#
#   0. A reload with the secrets file readable by its group is refused.
#   1. The node running brick 1 is cut off (its link goes down: alive but
#      unreachable, the case a grace would have to guess about).  A survivor
#      runs fence_ipmilan against its BMC; brick 1 is started on a survivor,
#      and no survivor began acquiring it before the BMC had powered the
#      node off.  A new gfapi client writes through both bricks.
#   2. That node comes back.  The BMC of the node running brick 2 now has
#      another password than the one in fence.secrets.  That node is cut
#      off: every fence fails, status shows the failure with the agent's
#      reason and the retries, and brick 2 is not started anywhere for as
#      long.  The BMC gets the right password back: the next retry powers
#      the node off and only then brick 2 moves.
#
# Exit 77 when not root or corosync/gluster/chorusd/ipmi_sim/fence_ipmilan/
# ipmitool are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
. "$(dirname "$0")/lib-ipmi.sh"
bk_require
ipmi_require
PASSWORD="pw-$$"
ms() { echo $(( $(cl_now_ms) - $1 )); }

# acquires_by_others K NODE SINCE_MS : times of acquires of brick K that a
# node other than NODE began after SINCE_MS, one a line
acquires_by_others() {
    awk -v h="${BK_VIP[$1]}" -v n="$2" -v t="$3" '$2 == "acquire" && $4 == h && $3 != n && $1 >= t {print $1}' \
        "$CL_DIR/acquires"
}

# failed_twice NODES BASE : the nodes count 2 more failed fences than BASE,
# and the fencer's last one failed (the startup fences failed too)
failed_twice() {
    [ "$(ipmi_status_sum "$1" "sum(s['fences_failed'] for s in ss) >= $2 + 2 and any(s.get('last_fence', {}).get('ok') is False for s in ss)")" = True ]
}

# --- setup: 3 nodes, 2 bricks, a BMC each, fence mode "agent" ---------------
cl_init fenceipmi 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
bk_gluster_setup 2
D=$CL_DIR/out; mkdir -p "$D"
# the brick script, wrapped: when did which node begin an acquire
# (the node: the last number of the first address on eth0, its own)
printf '#!/bin/sh\nn=$(ip -o -4 addr show dev eth0 | awk '"'"'NR == 1 {split($4, a, "[./]"); print a[4]}'"'"')\necho "$(date +%%s%%3N) $1 $n ${CHORUS_BRICK_HOST:-?}" >> %q\nexec %q "$@"\n' \
    "$CL_DIR/acquires" "$BK_SCRIPT" > "$CL_DIR/brick-script"
chmod 755 "$CL_DIR/brick-script"
: > "$CL_DIR/acquires"
BK_SCRIPT=$CL_DIR/brick-script
ipmi_fence_config "$PASSWORD"
bk_chorusd_all 0
bk_ctl 1 status --json | grep -q '"fence": *"agent"' || cl_fail "status does not say fence mode agent"
ipmi_bmcs_start "$PASSWORD"
# the password is in neither the configuration nor any argv
grep -q -- "$PASSWORD" "$(cl_ndir 1)/chorusd.conf" && cl_fail "password in chorusd.conf"
cl_log "bricks running: b1 on $(bk_where 1), b2 on $(bk_where 2); BMCs on $CL_NET.100:6231-6233"
# A secrets file others may read is refused by a reload, which keeps the
# running configuration (its password fences in step 1).
chmod 640 "$CL_DIR/fence.secrets"
for i in 1 2 3; do
    pid=$(cl_chorusd_pid "$i")
    out=$(bk_ctl "$i" reload 2>&1); rc=$?
    [ "$rc" = 4 ] && [[ $out == *bad_config* && $out == *fence.secrets* && $out == *mode\ 0640* ]] ||
        cl_fail "node $i: reload with a group-readable secrets file (rc=$rc: $out)"
    [[ $out == *"$PASSWORD"* ]] && cl_fail "the refusal shows the password"
    sleep 0.5
    [ "$(cl_chorusd_pid "$i")" = "$pid" ] || cl_fail "chorusd $i restarted on a bad reload"
done
chmod 600 "$CL_DIR/fence.secrets"
cl_log "reload refused: $out"

# One gfapi client (client namespace) writes and re-reads small files
# throughout, retrying through outages, as in brick-failover.sh.
GFCLIENT_STOP_FILE="$D/stop" GL_CLIENT_TIMEOUT_S=900 gl_client "$V" -p loop -g 120 loop 800 200 \
    > "$D/loop" 2> "$D/loop.err" &
LOOP=$!; cl__record loop "$LOOP"
cl_wait_until 60 bk_acks_at_least "$D/loop" 10 || cl_fail "client not writing: $(tail -n3 "$D/loop" "$D/loop.err")"
writes_on() {      # writes_on WHAT : the client acknowledges 5 more writes
    local a; a=$(grep -c '^ACK ' "$D/loop")
    cl_wait_until 120 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "client does not write $1"
}

# --- 1. brick 1's node cut off: fenced through its BMC, then taken over -------
X=$(bk_where 1)
others=""; for i in 1 2 3; do [ "$i" != "$X" ] && others+="$i "; done
t_cut=$(cl_now_ms)
cl_link_down "$X"
cl_log "node $X (brick 1) cut off"
cl_wait_until 120 bk__on_one_other 1 "$X" || cl_fail "brick 1 not taken over from node $X: $(cat "$CL_DIR/bmc$X/calls" 2>/dev/null)"
t_up=$(ms "$t_cut")
Y=$(bk_where 1)
[ -s "$CL_DIR/bmc$X/off.ms" ] || cl_fail "brick 1 runs on node $Y but node $X's BMC never powered it off"
t_off=$(cat "$CL_DIR/bmc$X/off.ms")
first=$(acquires_by_others 1 "$X" "$t_cut" | head -n 1)
[ -n "$first" ] || cl_fail "no acquire of brick 1 logged on a survivor: $(cat "$CL_DIR/acquires")"
[ "$first" -ge "$t_off" ] ||
    cl_fail "brick 1: a survivor began acquiring at $first, before node $X's BMC powered it off at $t_off"
cl__gone "$(cat "$CL_DIR/pids/chorusd.$X" | cut -d' ' -f1)" || cl_fail "node $X's chorusd survived its power-off"
cl_wait_until 30 bk__running_once 1 || cl_fail "brick 1 not running exactly once"
[ "$(ipmi_status_sum "${others% }" 'sum(s["fences_ok"] for s in ss)')" -ge 1 ] || cl_fail "no survivor counts a fence"
echo "fence timing: node $X cut off -> BMC power-off $(( t_off - t_cut )) ms -> first acquire on node $Y" \
     "$(( first - t_cut )) ms -> brick 1 running on node $Y $t_up ms"
cl_wait_until 120 grep -q '^RECOVER ' "$D/loop" || cl_fail "client did not recover: $(tail -n3 "$D/loop")"
writes_on "after the takeover"

# --- 2. wrong password: fence fails, retried, nothing moves; then fixed ------
ipmi_bmc_on "$X"
bk_node_up "$X" 0
healthy() { bk_ctl "$1" status --json 2>/dev/null | grep -q '"healthy": *true'; }
cl_wait_until 90 healthy "$X" || cl_fail "node $X's chorusd did not rejoin healthy"
writes_on "after node $X returned"
Z=$(bk_where 2)
[ -n "$Z" ] || cl_fail "brick 2 not running"
others=""; for i in 1 2 3; do [ "$i" != "$Z" ] && others+="$i "; done
ipmi_bmc_stop "$Z"
ipmi_bmc_start "$Z" "not-$PASSWORD"
base=$(ipmi_status_sum "${others% }" 'sum(s["fences_failed"] for s in ss)')
t_cut=$(cl_now_ms)
cl_link_down "$Z"
cl_log "node $Z (brick 2) cut off; its BMC has another password"
cl_wait_until 60 failed_twice "${others% }" "$base" ||
    cl_fail "no failed fence retried: $(for i in $others; do bk_ctl "$i" status --json | tr -d '\n'; done)"
sleep 3
why=$(ipmi_status_sum "${others% }" '[s["last_fence"]["error"] for s in ss if s.get("last_fence")][0]')
n_failed=$(( $(ipmi_status_sum "${others% }" 'sum(s["fences_failed"] for s in ss)') - base ))
echo "fence of node $Z failing: $n_failed failures in $(ms "$t_cut") ms, status says: $why"
[[ $why == *exit* && $why == *Fail* ]] || cl_fail "status lacks the agent's reason: $why"
[[ $why == *"$PASSWORD"* ]] && cl_fail "status shows the password"
[ -z "$(acquires_by_others 2 "$Z" "$t_cut")" ] || cl_fail "brick 2 acquired while node $Z was not fenced"
[ ! -e "$CL_DIR/bmc$Z/off.ms" ] || cl_fail "node $Z powered off with a wrong password"
w=$(bk_where 2); [ -z "$w" ] || [ "$w" = "$Z" ] || cl_fail "brick 2 runs on node $w while node $Z is not fenced"
t_fix=$(cl_now_ms)
ipmi_bmc_stop "$Z"
ipmi_bmc_start "$Z" "$PASSWORD"
cl_log "node $Z's BMC has the right password again"
cl_wait_until 60 bk__on_one_other 2 "$Z" || cl_fail "brick 2 not taken over after the BMC was fixed"
[ -s "$CL_DIR/bmc$Z/off.ms" ] || cl_fail "brick 2 moved but node $Z's BMC never powered it off"
t_off=$(cat "$CL_DIR/bmc$Z/off.ms")
first=$(acquires_by_others 2 "$Z" "$t_cut" | head -n 1)
[ -n "$first" ] && [ "$first" -ge "$t_off" ] ||
    cl_fail "brick 2: acquire at '$first', BMC power-off at $t_off"
ok=$(ipmi_status_sum "${others% }" 'any(s.get("last_fence", {}).get("ok") is True for s in ss)')
[ "$ok" = True ] || cl_fail "status does not show the successful fence"
echo "fence of node $Z: BMC fixed -> power-off $(( t_off - t_fix )) ms -> brick 2 on node $(bk_where 2)" \
     "$(ms "$t_fix") ms (retried every 5 s)"
cl_wait_until 30 bk__running_once 2 || cl_fail "brick 2 not running exactly once"
writes_on "after the second takeover"
touch "$D/stop"; cl_wait_until 180 cl__gone "$LOOP" || cl_fail "client loop did not stop"
n_ack=$(grep -c '^ACK ' "$D/loop")
grep -q "^VERIFY ok=$n_ack bad=0\$" "$D/loop" ||
    cl_fail "acknowledged writes lost: $(grep '^BAD \|^VERIFY' "$D/loop" | tail -n 5)"
echo "client: $n_ack acknowledged writes through two fenced takeovers; $(grep '^VERIFY' "$D/loop")"
echo "OK: fence-ipmi"
