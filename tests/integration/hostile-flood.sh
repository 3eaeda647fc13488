#!/bin/bash
# hostile-flood.sh - chorusd's memory stays bounded under hostile CPG traffic
# while a round is held open (issue 15, item 5).
#
# 2 nodes of real corosync + chorusd.  A silent extra member (cpg_peer silent)
# joins: every chorusd starts a round that cannot complete before
# round_timeout_ms.  While it is open, a hostile member (cpg_peer flood) on the
# other node multicasts messages with valid chorus headers:
#   A. bodies of ~1 MB of random bytes (the largest a header may announce),
#   B. bodies the decoder accepts (RELEASED naming 16384 addresses, ~295 KB).
# Every 100 ms the test reads VmRSS of both chorusd from /proc.
# It checks:
#   1. neither chorusd's RSS goes above RSS_MAX_KB (32 MB) at any sample;
#   2. both daemons live, the rounds complete once the silent members are
#      excluded, and both members agree (same digest, round complete);
#   3. the VIPs are where they were (hostile traffic moves nothing);
#   4. chorus_messages_dropped_hold_total counts what was dropped, and the log
#      names the sender.
# Ends with one line:
#   hostile-flood rss_base_kb=B rss_max_kb=M sent=N sent_mb=S dropped_hold=D
# RSS_MAX_KB=0 only measures (for the numbers of a build without the bound).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] && [ -x "$CPG_PEER" ] ||
    { echo "chorusd, chorusctl or cpg_peer not built"; exit 77; }
command -v python3 >/dev/null || { echo "python3 needed to read JSON"; exit 77; }

RSS_MAX_KB=${RSS_MAX_KB:-32768}
FLOOD_S=${FLOOD_S:-5}            # per phase; the round stays open ROUND_MS
FLOOD_RATE=${FLOOD_RATE:-20}     # messages per second per phase
ROUND_MS=${ROUND_MS:-15000}
N=2
NV=4

cl_init flood "$N"
for i in 1 2; do cl_corosync_start "$i"; done
cl_wait_members 1 2 30 || cl_fail "corosync did not form a 2-node ring"
for i in 1 2; do
    f=$(cl_ndir "$i")/chorusd.conf
    cl_write_chorus_conf "$i" "$f" "$NV"
    # a long round timeout: the silent member holds the round open for it
    sed -i "s/\"round_timeout_ms\":3000/\"round_timeout_ms\":$ROUND_MS/" "$f"
    grep -q "\"round_timeout_ms\":$ROUND_MS" "$f" || cl_fail "cannot set round_timeout_ms"
    # notice level: debug would log every dropped message (and cost time)
    sed -i 's/"level":"debug"/"level":"info"/' "$f"
    cl_chorusd_start "$i" "$f"
done

sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
ctl() { local i=$1; shift; timeout 10 "$CHORUSCTL" -s "$(sock "$i")" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
count_on() { cl_vips_on "$1" | wc -l; }
spread_is() { [ "$(count_on 1) $(count_on 2)" = "$1" ]; }
settled() {                         # both rounds complete with one digest
    local a b
    a=$(ctl 1 status --json 2>/dev/null | json 'd["cluster"]["round_complete"], d["cluster"]["digest"]') || return 1
    b=$(ctl 2 status --json 2>/dev/null | json 'd["cluster"]["round_complete"], d["cluster"]["digest"]') || return 1
    [ "$a" = "$b" ] && [[ $a == "True "* ]]
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
dropped() { ctl "$1" metrics 2>/dev/null | awk '$1 == "chorus_messages_dropped_hold_total" { print $2 }'; }

cl_wait_until 30 spread_is "2 2" || cl_fail "VIPs not spread 2/2"
cl_wait_until 20 settled || cl_fail "the two daemons did not settle"
before="$(cl_vips_on 1 | paste -sd,) | $(cl_vips_on 2 | paste -sd,)"
p1=$(cl_chorusd_pid 1) && p2=$(cl_chorusd_pid 2) || cl_fail "a chorusd is not running"
base=$(( $(rss_kb "$p1") > $(rss_kb "$p2") ? $(rss_kb "$p1") : $(rss_kb "$p2") ))
cl_log "settled: $before; RSS $(rss_kb "$p1") / $(rss_kb "$p2") kB"

# Sample both daemons every 100 ms until told to stop (a file), at most 10 min.
samples=$CL_DIR/rss.samples
sampler() {
    local n
    for (( n = 0; n < 6000; n++ )); do
        [ -e "$CL_DIR/rss.stop" ] && return 0
        echo "$(cl_now_ms) $(rss_kb "$p1") $(rss_kb "$p2")" >> "$samples"
        sleep 0.1
    done
}
sampler &
sampler_pid=$!

cl_cpg_peer_start 1 chorus silent
silent=$CL_CPG_PEER_NAME
sleep 0.5
# A: ~1 MB of random bytes behind a valid RELEASED header
cl_cpg_peer_start 2 -r "$FLOOD_RATE" -d "$FLOOD_S" -t RELEASED -b random chorus flood
flood_a=$CL_CPG_PEER_PID
# B: the largest RELEASED the decoder accepts, from a second hostile member
cl_cpg_peer_start 2 -r "$FLOOD_RATE" -d "$FLOOD_S" -t RELEASED -b valid chorus flood
flood_b=$CL_CPG_PEER_PID
cl_wait_until $(( FLOOD_S + 20 )) cl__gone "$flood_a" || cl_fail "flood A did not end"
cl_wait_until 20 cl__gone "$flood_b" || cl_fail "flood B did not end"
sum_a=$(cl_cpg_peer_summary 2 "$flood_a")
sum_b=$(cl_cpg_peer_summary 2 "$flood_b")
cl_log "A: $sum_a"
cl_log "B: $sum_b"

# The silent member keeps the round open until it is excluded; then rounds
# complete and both members must agree.
cl_wait_until $(( ROUND_MS * 3 / 1000 + 20 )) settled ||
    cl_fail "no agreement after the flood: $(ctl 1 status 2>&1 | head -5)"
cl_cpg_peer_stop "$silent"
cl_wait_until $(( ROUND_MS * 2 / 1000 + 20 )) settled || cl_fail "no agreement after the silent member left"
touch "$CL_DIR/rss.stop"
wait "$sampler_pid"

cl_chorusd_pid 1 >/dev/null && cl_chorusd_pid 2 >/dev/null || cl_fail "a chorusd died under the flood"
after="$(cl_vips_on 1 | paste -sd,) | $(cl_vips_on 2 | paste -sd,)"
[ "$after" = "$before" ] || cl_fail "VIPs moved: before $before, after $after"

max=$(awk '{ for (f = 2; f <= 3; f++) if ($f > m) m = $f } END { print m + 0 }' "$samples")
n_samples=$(wc -l < "$samples")
sent=0 sent_bytes=0
for s in "$sum_a" "$sum_b"; do
    v=$(sed -n 's/.* sent=\([0-9]*\) sent_bytes=\([0-9]*\) .*/\1 \2/p' <<<"$s")
    [ -n "$v" ] || cl_fail "no summary from a flood peer"
    sent=$(( sent + ${v% *} )); sent_bytes=$(( sent_bytes + ${v#* } ))
done
d1=$(dropped 1); d2=$(dropped 2)
echo "hostile-flood rss_base_kb=$base rss_max_kb=$max samples=$n_samples sent=$sent" \
     "sent_mb=$(( sent_bytes >> 20 )) dropped_hold=${d1:-none}/${d2:-none}"
[ "$n_samples" -ge 20 ] || cl_fail "only $n_samples RSS samples"
[ "$sent_bytes" -ge $(( 32 << 20 )) ] || cl_fail "the flood sent only $sent_bytes bytes: not a test"
if [ "$RSS_MAX_KB" -gt 0 ]; then
    [ "$max" -lt "$RSS_MAX_KB" ] || cl_fail "chorusd RSS reached $max kB (limit $RSS_MAX_KB)"
    [ "${d1:-0}" -gt 0 ] && [ "${d2:-0}" -gt 0 ] ||
        cl_fail "nothing counted in chorus_messages_dropped_hold_total ($d1/$d2)"
    [ "$d1" = "$d2" ] || cl_fail "the members dropped different counts: $d1 vs $d2"
    for i in 1 2; do
        grep -q 'holding back' "$(cl_ndir "$i")/chorusd.log" ||
            cl_fail "node $i logged no hold-back drop"
    done
fi
exit 0
