#!/bin/bash
# tests/bench/smallfile-gluster.sh - the real-Gluster variant of
# smallfile-balance.sh: does the plugin's per-brick measurement track real
# small-file work?
#
# Run as root from a built tree (needs glusterfs-server and the gfapi client):
#     sudo BUILDDIR=build tests/bench/smallfile-gluster.sh
#
# What it does.  3 nodes in network namespaces, each with glusterd, corosync
# and chorusd; a distributed volume "gv" with one brick per node and
# diagnostics.stats-dump-interval 2, so every brick process writes its
# io-stats dump every 2 s.  Each node's smallfile-balance plugin reads its
# brick's dump (bricks: [{name, dump, vip}]) and adds the brick's figure to
# that node's VIP.  Then, from the client namespace, a gfapi client
# (tests/integration/gfclient loop) creates, writes, reads back and re-reads
# small files for LOOP_SECONDS.  Afterwards, per brick:
#   files     the files the client left on that brick (ls of the brick dir)
#   creates   the CREATE operations the plugin counted on that brick while
#             the client ran (from its check reason in chorusctl status)
# and the VIP load figure while busy against while idle.
#
# Output, last line:
#   smallfile-gluster bricks=3 files=F creates=C max_brick_diff=D load_idle=I load_busy=B
# Exit 0 when every brick's creates equal its files within 2 % (+1) and the
# busy load is at least 10 times the idle one; 1 otherwise; 77 when it
# cannot run.  Everything is torn down by the lib's trap.
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/lib-gluster.sh"
LOOP_SECONDS=${LOOP_SECONDS:-30}
gl_require_root_gluster client
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
PLUGIN=$(readlink -f "$BUILDDIR/plugins/smallfile-balance/.libs/chorus-smallfile-balance.so")
for f in "$CHORUSD" "$CHORUSCTL" "$PLUGIN"; do
    [ -e "$f" ] || { echo "SKIP: $f not built (set BUILDDIR)" >&2; exit 77; }
done
N=3
V=gv

cl_init sfgl "$N"
PLUGDIR=$CL_DIR/plugins
mkdir -p "$PLUGDIR" && ln -s "$PLUGIN" "$PLUGDIR/"
for i in 1 2 3; do gl_start "$i"; done
gl_pool 3
gl_volume "$V" "$(gl_brick 1 $V)" "$(gl_brick 2 $V)" "$(gl_brick 3 $V)"
# io-stats counts a FOP only with both of these on
gl_cli 1 volume set "$V" diagnostics.count-fop-hits on >/dev/null || cl_fail "count-fop-hits"
gl_cli 1 volume set "$V" diagnostics.latency-measurement on >/dev/null ||
    cl_fail "latency-measurement"
gl_cli 1 volume set "$V" diagnostics.stats-dump-interval 2 >/dev/null ||
    cl_fail "stats-dump-interval"
dump_of() { ls "$(gl_dir "$1")"/varlib/stats/glusterfsd*.dump 2>/dev/null | head -n1; }
for i in 1 2 3; do
    cl_wait_until 60 eval "[ -n \"\$(dump_of $i)\" ]" || cl_fail "no io-stats dump on node $i"
done

vip_of() { cl_vip_addr "$(( $1 - 1 ))" "$N"; }
conf() {	# node I declares only its VIP, so the brick's figure is its own
    local i=$1 d; d=$(cl_ndir "$i")
    {
        printf '{"group":"chorus","state_dir":"%s","run_dir":"%s",' "$d/chorus-state" "$d/chorus-run"
        printf '"vips":[{"address":"%s","interface":"eth0"}],' "$(vip_of "$i")"
        printf '"timing":{"restart_grace_ms":8000,"round_timeout_ms":3000},'
        printf '"plugins":{"dir":"%s","load":[{"name":"smallfile-balance","config":' "$PLUGDIR"
        printf '{"interval_ms":1000,"bricks":[{"name":"%s","dump":"%s","vip":"%s"}]}}]},' \
            "n$i" "$(dump_of "$i")" "$(vip_of "$i" | cut -d/ -f1)"
        printf '"log":{"level":"info","file":"%s","stderr":true,"syslog":false}}\n' "$d/chorusd.log"
    } > "$d/chorusd.conf"
}
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do conf "$i"; cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"; done
sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(sock "$i")" "$@"; }
# field I KEY : a number from node I's brick check reason ("creates", ...)
field() {
    ctl "$1" status --json 2>/dev/null | python3 -c '
import json, re, sys
d = json.load(sys.stdin)
for c in d.get("checks", []):
    if c.get("scope") == "load:brick:n" + sys.argv[1]:
        m = re.search(sys.argv[2] + r"=([0-9.]+)", c.get("reason", ""))
        print(m.group(1) if m else "")
' "$1" "$2"
}
vipload() {	# the cluster's load total over the VIPs, as node 1 sees it
    ctl 1 vips --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(v.get("load", 0) for v in d.get("vips", [])))'
}
cl_wait_until 30 eval '[ -n "$(field 1 creates)" ] && [ -n "$(field 3 creates)" ]' ||
    cl_fail "no brick measurement in status: $(ctl 1 status 2>&1 | tail -n 5)"
sleep 8
IDLE=$(vipload)
declare -A C0
for i in 1 2 3; do C0[$i]=$(field "$i" creates); done
cl_log "idle: load $IDLE, creates ${C0[1]} ${C0[2]} ${C0[3]}; running the gfapi client"

GL_CLIENT_TIMEOUT_S=$(( LOOP_SECONDS + 60 )) gl_client "$V" -d /sf -p f loop "$LOOP_SECONDS" 5 \
    > "$CL_DIR/loop.out" 2> "$CL_DIR/loop.err" &
LOOP=$!
cl__record gfclient.loop "$LOOP"
sleep $(( LOOP_SECONDS / 2 ))
BUSY=$(vipload)
ctl 1 status >&2 || true
cl_wait_until $(( LOOP_SECONDS + 60 )) cl__gone "$LOOP" || cl_fail "the gfapi client did not finish"
sleep 6		# one more dump period and plugin interval
FILES=0 CREATES=0 MAXDIFF=0 ok=1
for i in 1 2 3; do
    f=$(find "$(cl_ndir "$i")/bricks/$V/sf" -maxdepth 1 -type f -name 'f*' 2>/dev/null | wc -l)
    c=$(( $(field "$i" creates) - ${C0[$i]} ))
    d=$(( c > f ? c - f : f - c ))
    cl_log "brick n$i: files $f, creates counted $c"
    FILES=$(( FILES + f )); CREATES=$(( CREATES + c ))
    [ "$d" -le $(( f / 50 + 1 )) ] || ok=0
    [ "$d" -gt "$MAXDIFF" ] && MAXDIFF=$d
done
grep '^LOOP' "$CL_DIR/loop.out" >&2 || true
[ "$FILES" -gt 0 ] || ok=0
python3 -c "import sys; sys.exit(0 if $BUSY >= 10 * max($IDLE, 1) else 1)" || ok=0
echo "smallfile-gluster bricks=3 files=$FILES creates=$CREATES max_brick_diff=$MAXDIFF load_idle=$IDLE load_busy=$BUSY"
[ "$ok" = 1 ]
