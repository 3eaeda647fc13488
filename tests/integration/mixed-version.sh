#!/bin/bash
# Rolling upgrade: a cluster of mixed wire versions (issue: deploy).
#
# Node 3 runs as the previous protocol version (CHORUS_PROTO_MAX=1, the test
# hook that pins what a daemon advertises); nodes 1 and 2 speak the newest
# version this build has (WIRE_VERSION_MAX in coordinator/core/wire.h).
#   1. the cluster negotiates version 1 on every node and places as usual
#   2. a node failure is handled in the mixed cluster
#   3. node 3 is upgraded in place (daemon restarted within the restart grace
#      without the pin): nothing moves, and every node moves to the newest
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "chorusd/chorusctl not built"; exit 77; }
command -v python3 >/dev/null || { echo "python3 needed to read JSON"; exit 77; }

N=3
NV=12
P_MAX=$(awk '$1 == "#define" && $2 == "WIRE_VERSION_MAX" { print $3 }' "$CL_ROOT/coordinator/core/wire.h")
[[ $P_MAX =~ ^[0-9]+$ ]] || { echo "cannot read WIRE_VERSION_MAX"; exit 1; }
cl_init mixv "$N"
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"; done
start() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }
start 1; start 2
CHORUS_PROTO_MAX=1 start 3

sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
proto() { timeout 10 "$CHORUSCTL" -s "$(sock "$1")" status --json |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"]["proto"])'; }
count_on() { cl_vips_on "$1" | wc -l; }
spread_is() { [ "$(count_on 1) $(count_on 2) $(count_on 3)" = "$1" ]; }
all_proto() { local i; for i in "$@"; do [ "$(proto "$i")" = "$P" ] || return 1; done; }
owners() { local i; for i in 1 2 3; do echo "$i:$(cl_vips_on "$i" | paste -sd,)"; done; }

cl_wait_until 30 spread_is "4 4 4" || cl_fail "mixed cluster did not spread 4/4/4: $(owners)"
P=1 cl_wait_until 10 all_proto 1 2 3 || cl_fail "not negotiated to version 1: $(proto 1) $(proto 2) $(proto 3)"
cl_log "1 ok: versions $P_MAX,$P_MAX,1 negotiated to 1 on every node, 4/4/4"

cl_chorusd_kill 2 KILL
cl_corosync_kill 2 KILL
cl_wait_until 30 spread_is "6 0 6" || cl_fail "failover in the mixed cluster: $(owners)"
cl_corosync_start 2
cl_wait_members 1 3 30 || cl_fail "node 2 did not rejoin"
start 2
cl_wait_until 30 spread_is "4 4 4" || cl_fail "no rebalance after node 2 returned: $(owners)"
cl_log "2 ok: node failure handled with mixed versions"

before=$(owners)
cl_chorusd_kill 3 KILL
start 3			# the upgraded binary: no pin
P=$P_MAX cl_wait_until 20 all_proto 1 2 3 ||
    cl_fail "not at version $P_MAX after the upgrade: $(proto 1) $(proto 2) $(proto 3)"
sleep 1
[ "$(owners)" = "$before" ] || cl_fail "the in-place upgrade moved addresses: $before -> $(owners)"
cl_log "3 ok: node 3 upgraded in place, nothing moved, cluster at version $P_MAX"
echo "mixed-version: all scenarios passed"
