#!/bin/bash
# Control-socket latency under load: status requests from 4 concurrent
# clients (root) against a live node of a 3-node netns cluster (12 VIPs) for
# 10 s.  With HOSTILE=N, N hostile clients (idle, trickling, garbage, deaf
# subscribers: tests/bench/control_hostile) of the read group, spread over
# 10 uids, hold and hammer the socket meanwhile.
# Run as root from a built tree:  sudo BUILDDIR=build [HOSTILE=200] tests/bench/control.sh
# Last line: control clients=4 hostile=N requests=N p50_us=X p99_us=Y
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
cl_require_root_corosync
LOAD=${LOAD:-$BUILDDIR/tests/bench/control_load}
HOSTILE_BIN=${HOSTILE_BIN:-$BUILDDIR/tests/bench/control_hostile}
[ -x "$CHORUSD" ] && [ -x "$LOAD" ] || { echo "build first (chorusd, tests/bench/control_load)"; exit 77; }
CLIENTS=${CLIENTS:-4}
SECONDS_RUN=${SECONDS_RUN:-10}
HOSTILE=${HOSTILE:-0}
if [ "$HOSTILE" -gt 0 ] && [ ! -x "$HOSTILE_BIN" ]; then echo "build tests/bench/control_hostile"; exit 77; fi
cl_init ctlbench 3
# a read group by number: no account or group needs to exist for it
RGID=$(( 4000000 + CL_PID % 100000 ))
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "no 3-node ring"
for i in 1 2 3; do
    cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" 12
    sed -i 's/"level":"debug"/"level":"info"/' "$(cl_ndir "$i")/chorusd.conf"
    [ "$HOSTILE" -gt 0 ] &&
        sed -i "s/^{/{\"control\":{\"read_group\":$RGID},/" "$(cl_ndir "$i")/chorusd.conf"
    cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
done
sock="$(cl_ndir 1)/chorus-run/chorusd.sock"
cl_wait_until 20 test -S "$sock" || cl_fail "no control socket"
sleep 2
if [ "$HOSTILE" -gt 0 ]; then
    q=$(( HOSTILE / 4 ))
    "$HOSTILE_BIN" "$sock" $(( SECONDS_RUN + 5 )) \
        -n "idle=$q,trickle=$q,garbage=$q,subscribe=$(( HOSTILE - 3 * q ))" \
        -u $(( 3000000 + CL_PID % 100000 * 10 )) -k 10 -g "$RGID" >"$CL_DIR/hostile.out" 2>&1 &
    cl__record hostile "$!"
    sleep 3
fi
out=$("$LOAD" "$sock" "$CLIENTS" "$SECONDS_RUN" status) || cl_fail "load run failed: $out"
echo "$out"
echo "$out" | sed "s/ max_us=.*//; s/clients=$CLIENTS /clients=$CLIENTS hostile=$HOSTILE /"
