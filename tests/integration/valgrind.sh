#!/bin/bash
# tests/integration/valgrind.sh - chorusd under valgrind memcheck on real corosync.
#
# Run as root from a built tree:
#     sudo BUILDDIR=build tests/integration/valgrind.sh
#
# Scenario: 3-node netns cluster (tests/integration/lib.sh), 12 VIPs, node 1's chorusd
# runs as
#     valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
#              --log-file=$CL_DIR/n1/valgrind.log $CHORUSD -c CONF -f
# (through a small wrapper that the lib starts as CHORUSD for node 1: it forwards
# SIGTERM/SIGINT to valgrind and records valgrind's exit status).  Steps:
#   1. place: 12 VIPs held exactly once, 4/4/4
#   2. failover: SIGKILL node 3's corosync + chorusd; nodes 1+2 hold all 12
#   3. rebalance: restart node 3; 4/4/4 again
#   4. chorusctl against node 1: status, standby 2 (node 2 drains), active 2 (it
#      gets its share back), plan --fail 3
#   5. SIGTERM node 1's chorusd: graceful handover (nodes 2+3 hold all 12), exit
#   6. the valgrind log: "ERROR SUMMARY: 0 errors" (so no invalid read/write and,
#      with --errors-for-leak-kinds=definite, no definite leak), "definitely lost"
#      0 bytes (or no leak at all), and valgrind's exit status 0 (not 99).
# VG_EXTRA adds valgrind options (e.g. VG_EXTRA=--show-leak-kinds=all).
# Exit 0 pass, 1 fail (the valgrind log is printed), 77 skip (no root, corosync,
# valgrind or chorusd).  Bounds are generous: valgrind runs chorusd ~20-50x slower.
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
cl_require_root_corosync
VALGRIND=${VALGRIND:-$(command -v valgrind 2>/dev/null)}
[ -n "$VALGRIND" ] && [ -x "$VALGRIND" ] || { echo "SKIP: valgrind not found" >&2; exit 77; }
[ -x "$CHORUSD" ] || { echo "SKIP: chorusd not built at $CHORUSD (set BUILDDIR)" >&2; exit 77; }
CHORUSCTL=${CHORUSCTL:-$(dirname "$CHORUSD")/chorusctl}
[ -x "$CHORUSCTL" ] || { echo "SKIP: chorusctl not built at $CHORUSCTL" >&2; exit 77; }
N=3
NV=12
T=${VG_TIMEOUT_S:-180}        # every wait

cl_init valgrind "$N"
REAL_CHORUSD=$CHORUSD
VGLOG=$(cl_ndir 1)/valgrind.log
VGRC=$(cl_ndir 1)/valgrind.rc
WRAP=$CL_DIR/chorusd-valgrind
cat > "$WRAP" <<EOF
#!/bin/sh
# chorusd under valgrind; forwards TERM/INT, records valgrind's exit status
$(printf '%q' "$VALGRIND") --leak-check=full --errors-for-leak-kinds=definite \\
    --error-exitcode=99 --log-file=$(printf '%q' "$VGLOG") ${VG_EXTRA:-} \\
    $(printf '%q' "$REAL_CHORUSD") "\$@" &
child=\$!
trap 'kill -TERM \$child 2>/dev/null' TERM
trap 'kill -INT \$child 2>/dev/null' INT
while :; do
    wait \$child; rc=\$?
    kill -0 \$child 2>/dev/null || break
done
echo \$rc > $(printf '%q' "$VGRC")
exit \$rc
EOF
chmod +x "$WRAP"

# --- helpers ---------------------------------------------------------------------
VIPS=()
for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done
# held_once NODES... : the nodes together hold every VIP exactly once
held_once() {
    local a i
    declare -A hold=()
    for i in "$@"; do for a in $(cl_vips_on "$i"); do hold[$a]=$(( ${hold[$a]:-0} + 1 )); done; done
    for a in "${VIPS[@]}"; do [ "${hold[$a]:-0}" = 1 ] || return 1; done
}
count_on() { cl_vips_on "$1" | wc -l; }
spread() { local i s=""; for (( i = 1; i <= N; i++ )); do s+="$(count_on "$i")/"; done; echo "${s%/}"; }
balanced() { held_once 1 2 3 && [ "$(spread)" = 4/4/4 ]; }
drained2() { held_once 1 3 && [ "$(count_on 2)" = 0 ]; }
wait_for() {        # wait_for WHAT CMD...
    local what=$1 t0; shift; t0=$(cl_now_ms)
    cl_wait_until "$T" "$@" || cl_fail "$what: not reached within ${T}s (spread $(spread))"
    cl_log "$what: ok after $(( $(cl_now_ms) - t0 )) ms (spread $(spread))"
}
ctl() {             # ctl ARGS... : chorusctl against node 1, output logged
    local out rc
    out=$("$CHORUSCTL" -s "$(cl_ndir 1)/chorus-run/chorusd.sock" -t 60 "$@" 2>&1); rc=$?
    printf '%s\n' "$out" | sed "s/^/  chorusctl $* | /" >&2
    return $rc
}
vg_alive() { [ ! -e "$VGRC" ] && cl_chorusd_pid 1 >/dev/null; }
ring() { local i; for i in "$@"; do cl_wait_members "$i" "$#" "$T" || cl_fail "node $i does not see $# members"; done; }

# --- scenario --------------------------------------------------------------------
for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i"; done
ring 1 2 3
for (( i = 1; i <= N; i++ )); do cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"; done
CHORUSD=$WRAP cl_chorusd_start 1 "$(cl_ndir 1)/chorusd.conf"
cl_wait_until 60 grep -q 'Memcheck' "$VGLOG" 2>/dev/null || cl_fail "valgrind did not start (see $VGLOG)"
cl_chorusd_start 2 "$(cl_ndir 2)/chorusd.conf"
cl_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
wait_for "1. placed" balanced

cpid=$(cl_corosync_pid 3) || cl_fail "corosync 3 not running"
dpid=$(cl_chorusd_pid 3) || cl_fail "chorusd 3 not running"
kill -KILL "$cpid" "$dpid"
cl_corosync_kill 3 KILL; cl_chorusd_kill 3 KILL
cl_log "2. killed node 3 (corosync $cpid, chorusd $dpid)"
wait_for "2. failover to nodes 1+2" held_once 1 2
vg_alive || cl_fail "node 1's chorusd (valgrind) died"

cl_corosync_start 3
ring 1 2 3
cl_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
wait_for "3. rebalanced after node 3's return" balanced

ctl status || cl_fail "4. chorusctl status: exit $?"
ctl standby 2 || cl_fail "4. chorusctl standby 2 failed"
wait_for "4. node 2 drained" drained2
ctl active 2 || cl_fail "4. chorusctl active 2 failed"
wait_for "4. node 2 back" balanced
ctl plan --fail 3 || cl_fail "4. chorusctl plan --fail 3 failed"
ctl status || cl_fail "4. chorusctl status (after): exit $?"
vg_alive || cl_fail "node 1's chorusd (valgrind) died"

t0=$(cl_now_ms)
cl__kill_recorded chorusd.1 TERM "$(( T * 2 ))"
[ -e "$VGRC" ] || cl_fail "5. node 1's chorusd under valgrind did not exit on SIGTERM"
cl_log "5. node 1's chorusd exited $(( $(cl_now_ms) - t0 )) ms after SIGTERM, valgrind status $(cat "$VGRC")"
wait_for "5. handover to nodes 2+3" held_once 2 3

# --- verdict ---------------------------------------------------------------------
vgrc=$(cat "$VGRC")
summary=$(grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit|All heap blocks' "$VGLOG")
echo "$summary" | sed 's/^==[0-9]*== *//'
echo "valgrind exit status: $vgrc"
fail=""
grep -qE 'ERROR SUMMARY: 0 errors from 0 contexts' "$VGLOG" || fail+=" errors"
if grep -qE 'definitely lost: [1-9]' "$VGLOG"; then fail+=" definite-leak"; fi
if grep -qE 'Invalid (read|write|free)|uninitialised|Mismatched free' "$VGLOG"; then fail+=" invalid-access"; fi
[ "$vgrc" = 0 ] || fail+=" exit-status-$vgrc"
if [ -n "$fail" ]; then
    echo "---- $VGLOG" >&2; cat "$VGLOG" >&2
    cl_fail "valgrind:$fail"
fi
echo "valgrind: PASS (0 errors, 0 definite leaks, 0 invalid accesses)"
exit 0
