#!/bin/bash
# gluster-health.sh - the gfapi-health plugin against a real 3-node volume,
# driven by tests/integration/gfhealth_drive (a fake host, no chorusd):
#   1. cost: 100 rw probes from node 1's namespace, interval GH_INTERVAL_MS
#      (default 100): probe time p50/p95/max and RSS growth; same for ro mode
#   2. a long-lived handle (60 probes, 250 ms apart): SIGTERM node 2's brick,
#      then "volume start force": time to the first failed probe ("N of 3
#      subvolumes unreachable") and back to ok
#   3. (GH_STOP_TEST=1) SIGSTOP node 3's brick: the probe blocks until SIGCONT
# Exit 77 when not root or gluster/the plugin are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
gl_require_root_gluster
SO=$BUILDDIR/plugins/gfapi-health/.libs/chorus-gfapi-health.so
DRIVE=$BUILDDIR/tests/integration/gfhealth_drive
if [ ! -f "$SO" ] || [ ! -x "$DRIVE" ]; then echo "SKIP: $SO or $DRIVE not built" >&2; exit 77; fi
: "${GH_INTERVAL_MS:=100}" "${GH_COUNT:=100}"

cl_init glhealth 3
V=gv
D=$CL_DIR/out; mkdir -p "$D"
for i in 1 2 3; do gl_start "$i"; done
gl_pool 3
gl_volume "$V" "$(gl_brick 1 $V)" "$(gl_brick 2 $V)" "$(gl_brick 3 $V)"

conf() {                            # conf MODE : plugin config for node 1
    printf '{"volumes":[{"name":"%s","servers":["127.0.0.1","%s"],"mode":"%s","warn_ms":200,"fail_ms":2000,"min_free_pct":5,"log_file":"%s","log_level":5}],"interval_ms":2000,"timeout_ms":5000}' \
        "$V" "$(cl_addr 2)" "$1" "$CL_DIR/gfapi-health.log"
}
drive() {                           # drive MODE COUNT INTERVAL_MS : node 1, node id 1
    cl_exec 1 timeout -k 5 $(( $2 * $3 / 1000 + 60 )) "$DRIVE" "$SO" "$(conf "$1")" "$2" "$3" 1
}

# --- 1. cost ---------------------------------------------------------------------
for mode in rw ro; do
    drive "$mode" "$GH_COUNT" "$GH_INTERVAL_MS" > "$D/cost.$mode" 2> "$D/cost.$mode.err" ||
        cl_fail "driver ($mode): $(tail -n3 "$D/cost.$mode.err")"
    sed -n 1p "$D/cost.$mode" | sed "s/^/  first $mode: /"
    bad=$(awk '$1 == "PROBE" && $6 != "ok"' "$D/cost.$mode" | wc -l)
    [ "$bad" = 0 ] || cl_fail "$mode: $bad probes not ok: $(awk '$1 == "PROBE" && $6 != "ok"' "$D/cost.$mode" | head -n3)"
    echo "COST mode=$mode interval_ms=$GH_INTERVAL_MS $(grep '^SUMMARY' "$D/cost.$mode" | cut -d' ' -f2-)"
    echo "  RSS kB by probe count: $(awk '$1 == "RSS" { printf "%s:%s ", $2, $3 }' "$D/cost.$mode")"
done
# the probe leaves nothing behind but its directories
left=$(find "$(cl_ndir 1)/bricks/$V/.chorus-health" "$(cl_ndir 2)/bricks/$V/.chorus-health" \
            "$(cl_ndir 3)/bricks/$V/.chorus-health" -type f 2>/dev/null)
[ -z "$left" ] || cl_fail "probe files left: $left"

# --- 2. brick 2 down, seen by a long-lived handle --------------------------------
# 60 probes 250 ms apart (15 s); brick 2 is killed at ~3 s, restarted at ~8 s
: > "$D/live"
cl_exec 1 timeout -k 5 60 "$DRIVE" "$SO" "$(conf rw)" 60 250 1 > "$D/live" 2> "$D/live.err" &
cl__record gfhealth.live $!
LIVE=$!
cl_wait_until 20 grep -q '^PROBE' "$D/live" || cl_fail "driver: no probe ($(tail -n3 "$D/live.err"))"
sleep 3
t_kill=$(cl_now_ms)
gl_brick_kill "$V" 2 TERM || cl_fail "brick 2 did not exit"
sleep 5
t_start=$(cl_now_ms)
gl_volume_start_force "$V" 3 || cl_fail "brick 2 not back"
echo "brick 2 killed, restarted $(( t_start - t_kill )) ms later, online $(( $(cl_now_ms) - t_kill )) ms after the kill"
cl_wait_until 40 cl__gone "$LIVE" || cl_fail "driver still running"
wait "$LIVE" 2>/dev/null
# verdict changes, times relative to the kill
awk -v k="$t_kill" -v s="$t_start" '$1 == "PROBE" {
        v = $6; r = ""; for (f = 7; f <= NF; f++) r = r " " $f
        if (v != last) printf "  %+6d ms  %s:%s\n", $2 * 1000 - k, v, r
        last = v; n[v]++ }
    END { printf "  probes: ok=%d degraded=%d failed=%d\n", n["ok"], n["degraded"], n["failed"] }' "$D/live"
first_bad=$(awk -v k="$t_kill" '$1 == "PROBE" && $6 != "ok" && $2 * 1000 > k { printf "%d", $2 * 1000 - k; exit }' "$D/live")
back_ok=$(awk -v s="$t_start" '$1 == "PROBE" && $6 == "ok" && $2 * 1000 > s { printf "%d", $2 * 1000 - s; exit }' "$D/live")
[ -n "$first_bad" ] || cl_fail "the probe never noticed brick 2 down"
[ -n "$back_ok" ] || cl_fail "the probe never recovered"
echo "DETECT brick kill -> first failed probe: $first_bad ms (interval 250); start force -> first ok probe: $back_ok ms"
grep -h '^SUMMARY' "$D/live" | sed 's/^/  /'

# --- 3. (GH_STOP_TEST=1) a SIGSTOPped brick blocks the probe ------------------------
# No RST, no FIN: the probe's call to that brick just waits (measured: over 70 s,
# network.ping-timeout did not end it).  Only the host's timeout_ms reports it;
# the driver has none, so this shows how long the worker stays stuck.
gh__probes_since() { awk -v k="$1" '$1 == "PROBE" && $2 * 1000 > k' "$D/stop"; }
if [ "${GH_STOP_TEST:-0}" = 1 ]; then
    : "${GH_STOP_S:=20}"
    cl_exec 1 timeout -k 5 120 "$DRIVE" "$SO" "$(conf rw)" 1000 250 1 > "$D/stop" 2> "$D/stop.err" &
    cl__record gfhealth.stop $!
    STOPD=$!
    cl_wait_until 20 grep -q '^PROBE' "$D/stop" || cl_fail "driver: no probe"
    sleep 1
    t_stop=$(cl_now_ms)
    gl_brick_stop "$V" 3 || cl_fail "cannot SIGSTOP brick 3"
    sleep 2
    t_blk=$(cl_now_ms)
    sleep "$GH_STOP_S"
    n=$(gh__probes_since "$t_blk" | wc -l)
    echo "brick 3 SIGSTOPped: probes completed in the ${GH_STOP_S} s from 2 s after the stop: $n"
    t_cont=$(cl_now_ms)
    gl_brick_cont "$V" 3
    cl_wait_until 30 eval 'gh__probes_since "$t_cont" | grep -q .' || cl_fail "no probe 30 s after SIGCONT"
    gh__probes_since "$t_stop" | awk -v k="$t_stop" -v c="$t_cont" '
        { printf "  +%d ms after STOP (%+d ms after CONT): probe took %s ms: %s", $2 * 1000 - k, $2 * 1000 - c, $5, $6
          for (f = 7; f <= NF; f++) printf " %s", $f; print ""; if (++n == 3) exit }'
    kill -TERM "$STOPD" 2>/dev/null
fi
echo "PASS gluster-health"
