#!/bin/bash
# Control-socket latency under load: status requests from 4 concurrent
# clients against a live node of a 3-node netns cluster (12 VIPs) for 10 s.
# Run as root from a built tree:  sudo BUILDDIR=build tests/bench/control.sh
# Last line: control clients=4 requests=N p50_us=X p99_us=Y
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
cl_require_root_corosync
LOAD=${LOAD:-$BUILDDIR/tests/bench/control_load}
[ -x "$CHORUSD" ] && [ -x "$LOAD" ] || { echo "build first (chorusd, tests/bench/control_load)"; exit 77; }
CLIENTS=${CLIENTS:-4}
SECONDS_RUN=${SECONDS_RUN:-10}
cl_init ctlbench 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "no 3-node ring"
for i in 1 2 3; do
    cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" 12
    sed -i 's/"level":"debug"/"level":"info"/' "$(cl_ndir "$i")/chorusd.conf"
    cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
done
sock="$(cl_ndir 1)/chorus-run/chorusd.sock"
cl_wait_until 20 test -S "$sock" || cl_fail "no control socket"
sleep 2
out=$("$LOAD" "$sock" "$CLIENTS" "$SECONDS_RUN" status) || cl_fail "load run failed: $out"
echo "$out"
echo "$out" | sed 's/ max_us=.*//'
