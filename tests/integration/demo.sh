#!/bin/bash
# demo.sh - the README's first command, deploy/demo.sh, does what the README
# says, on the already built tree ($BUILDDIR): non-interactively, to the end.
#
#   1. deploy/demo.sh --no-wait: ends "demo: OK"; n3's VIPs moved; its brick
#      taken over after the fence grace and given back; every LUN clean by
#      xfs_repair -n; nothing left behind (the demo checks its own teardown,
#      this test checks it again).  Its logs are kept (CL_KEEP_LOGS) so that
#      the gfapi client's own output is judged here too: no operation given
#      up, every acknowledged write read back, no stall longer than the
#      takeover can explain, and the demo within its time budget.
#   2. deploy/demo.sh --no-wait --no-gluster: the VIPs alone.
# Exit 77 when not root or corosync/gluster are missing.
set -u
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
. "$(dirname "$0")/lib-gluster.sh"
gl_require_root_gluster client
command -v mkfs.xfs >/dev/null 2>&1 || { echo "SKIP: mkfs.xfs not found (xfsprogs)" >&2; exit 77; }
DEMO=$CL_ROOT/deploy/demo.sh
DEMO_LIMIT_S=${DEMO_LIMIT_S:-150}   # the README promises about two minutes; 47 s measured
# the fence grace (8 s) + corosync's detection + mount and start + gfapi's
# 3 s reconnect timer and TCP's backoff: about 13 s measured
STALL_MAX_MS=${STALL_MAX_MS:-20000}

OUT=$(mktemp -d /tmp/chorus-demo-test.XXXXXX) || exit 1
trap 'rm -rf -- "$OUT"' EXIT
fail() { echo "FAIL [demo]: $*" >&2; exit 1; }
# demo_run NAME ARGS... : the demo, bounded, without a terminal
demo_run() {
    local name=$1 rc; shift
    mkdir -p "$OUT/$name/logs"
    env CL_KEEP_LOGS="$OUT/$name/logs" DEMO_BUILDDIR="$BUILDDIR" \
        timeout -k 10 $(( DEMO_LIMIT_S + 120 )) "$DEMO" --no-wait "$@" \
        </dev/null >"$OUT/$name/out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || { tail -n 30 "$OUT/$name/out" >&2; fail "deploy/demo.sh $* exited $rc"; }
}
has() { grep -qE -- "$2" "$OUT/$1/out" || fail "deploy/demo.sh ($1) did not print /$2/: $(tail -n 5 "$OUT/$1/out")"; }
# left_behind NAME : namespaces, loop devices or files of that demo run
left_behind() {
    local p
    p=$(sed -n 's/.* \(c[0-9]\{1,\}\)n1 .*/\1/p' "$OUT/$1/out" | head -n 1)
    [ -n "$p" ] || fail "cannot tell the demo's namespace prefix"
    ip netns list | awk '{ print $1 }' | grep -E "^${p}(sw|cl|n[0-9]+)\$"
    losetup -n -l -O NAME,BACK-FILE | grep -F " /tmp/chorus-it.${p#c}/"
    ls -d "/tmp/chorus-it.${p#c}" 2>/dev/null
}

# --- 1. with Gluster ---------------------------------------------------------
demo_run gluster
has gluster '^==> n3 loses power .* its 4 VIPs moved$'
has gluster '^    [0-9]+ ms to brick b3 running on n[12] \(/dev/loop[0-9]+ mounted there only'
has gluster 'brick b3 back on n3 .*unmounted on the survivor first'
has gluster '^    no error outside the two failover windows$'
for k in 1 2 3; do has gluster "^    LUN $k /dev/loop[0-9]+ clean\$"; done
has gluster '^demo: OK \([0-9]+ s\)$'
secs=$(sed -n 's/^demo: OK (\([0-9]*\) s)$/\1/p' "$OUT/gluster/out")
[ "$secs" -le "$DEMO_LIMIT_S" ] || fail "the demo took $secs s, more than $DEMO_LIMIT_S s"
left=$(left_behind gluster); [ -z "$left" ] || fail "left behind: $left"
# the client's own account, from the kept logs
loop=""
for f in "$OUT"/gluster/logs/chorus-it.*/client/loop.out; do [ -f "$f" ] && loop=$f; done
[ -n "$loop" ] || fail "the gfapi client's output was not kept"
! grep -E '^(GIVEUP|UNRECOVERED|BAD) ' "$loop" || fail "the client saw errors it could not ride out"
n_ack=$(grep -c '^ACK ' "$loop")
[ "$n_ack" -ge 20 ] || fail "the client acknowledged only $n_ack writes"
grep -qx "VERIFY ok=$n_ack bad=0" "$loop" || fail "acknowledged writes lost: $(grep '^VERIFY' "$loop")"
stall=$(sed -n 's/^LOOP .* max_stall_ms=\([0-9]*\).*/\1/p' "$loop")
[[ $stall =~ ^[0-9]+$ ]] && [ "$stall" -le "$STALL_MAX_MS" ] || fail "client stall ${stall:-?} ms (at most $STALL_MAX_MS)"
# one outage for the takeover, one for the failback, none other
outages=$(grep -c '^FAIL ' "$loop")
[ "$outages" -le 2 ] || fail "the client had $outages outages: $(grep '^FAIL ' "$loop" | head -n 4)"
echo "demo with Gluster: OK in $secs s; client: $(grep '^LOOP ' "$loop"); $(grep '^VERIFY ' "$loop")"

# --- 2. VIPs alone -------------------------------------------------------------
demo_run vips --no-gluster
has vips '^==> SIGKILL corosync \+ chorusd on n3 .* its 4 VIPs moved$'
has vips 'VIPs rebalanced 4/4/4'
has vips '^demo: OK \([0-9]+ s\)$'
! grep -qE 'glusterd|gfapi|LUN' "$OUT/vips/out" || fail "--no-gluster still ran Gluster"
left=$(left_behind vips); [ -z "$left" ] || fail "left behind: $left"
echo "demo without Gluster: OK in $(sed -n 's/^demo: OK (\([0-9]*\) s)$/\1/p' "$OUT/vips/out") s"
echo "OK: demo"
