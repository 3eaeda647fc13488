#!/bin/bash
# addrwatch-live-test.sh - the sampler against real kernels (make check, root;
# exit 77 without).  Three namespaces of its own (names carry this PID), the
# addresses on lo; it moves addresses by hand with known timing and checks
# what addrwatch reports:
#   - an overlap of ~300 ms (take on b, then release on a) is one double of
#     the measured length, a gap of ~400 ms (release, then take) one down;
#   - an address that never moves is never lost from the keep set, the one
#     that moved is, at the moment it left;
#   - sampling really ran every 10 ms (worst gap bounded), the double and
#     the down were confirmed by a reverse-order pass;
#   - with -i, an address that appears later is tracked, -x ones are not;
#   - SIGTERM ends it with the log's footer written, and --replay of that
#     log gives the very same summary.
# Bounds are wide enough for a loaded 2-core machine; each number is also
# printed.  Teardown by trap: the namespaces and the temp dir.
set -u
AW=${ADDRWATCH:-./tests/bench/addrwatch}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip"; exit 77; }
[ -x "$AW" ] || { echo "FAIL: $AW not built"; exit 1; }
P="aw$$"
NS=("${P}a" "${P}b" "${P}c")
T=$(mktemp -d /tmp/addrwatch-live.XXXXXX) || exit 99
AWPID=""
cleanup() {
    [ -n "$AWPID" ] && kill "$AWPID" 2>/dev/null
    for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
    rm -rf -- "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$(( fails + 1 )); }
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
field() { sed -n "s/.*[ ^]$1=\\([^ ]*\\).*/\\1/p" <<< " $2" | head -n1; }

for n in "${NS[@]}"; do
    ip netns add "$n" || { echo "FAIL: ip netns add $n"; exit 1; }
    ip -n "$n" link set lo up
done
A=10.250.0.1 B=10.250.0.2 C=10.250.0.3
add() { ip -n "$1" addr add "$2/32" dev lo; }
del() { ip -n "$1" addr del "$2/32" dev lo; }
add "${NS[0]}" "$A"
add "${NS[2]}" "$B"

# wait_header LOG : the sampler has done its first pass (bounded: 5 s)
wait_header() {
    local n
    for (( n = 0; n < 100; n++ )); do
        grep -q '^# addrwatch ' "$1" 2>/dev/null && return 0
        kill -0 "$AWPID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
# stop_aw : SIGTERM, wait (bounded: 5 s) for it to exit
stop_aw() {
    local n
    kill -TERM "$AWPID" 2>/dev/null
    for (( n = 0; n < 100; n++ )); do
        kill -0 "$AWPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$AWPID" 2>/dev/null && { bad "addrwatch did not exit on SIGTERM"; kill -KILL "$AWPID"; }
    wait "$AWPID"; local rc=$?
    AWPID=""
    return "$rc"
}

# --- 1. explicit addresses: one double, one down, the keep set --------------
"$AW" -I 10 -a "$A,$B" -k "${NS[0]},${NS[2]}" -l "$T/log1" "${NS[@]}" > "$T/sum1" 2> "$T/err1" &
AWPID=$!
wait_header "$T/log1" || { cat "$T/err1"; echo "FAIL: no header"; exit 1; }
sleep 0.2
t0=$(now_us); add "${NS[1]}" "$A"; t1=$(now_us)
sleep 0.3
t2=$(now_us); del "${NS[0]}" "$A"; t3=$(now_us)
sleep 0.2
t4=$(now_us); del "${NS[1]}" "$A"; t5=$(now_us)
sleep 0.4
t6=$(now_us); add "${NS[0]}" "$A"; t7=$(now_us)
sleep 0.2
stop_aw || bad "addrwatch exit status $?: $(cat "$T/err1")"
s=$(tail -n1 "$T/sum1")
echo "summary: $s"
lineA=$(grep "^addr $A " "$T/sum1")
echo "$lineA"
# the kernel changed somewhere inside each ip command; a pass sees it up to
# one gap later: the true length lies within these bounds, give or take a gap
gap=$(field max_gap_ms "$s")
lo=$(( (t2 - t1) / 1000 - gap - 5 )) hi=$(( (t3 - t0) / 1000 + gap + 5 ))
d=$(field double_ms_max "$lineA")
[ "$(field doubles "$lineA")" = 1 ] && [ "$d" -ge "$lo" ] && [ "$d" -le "$hi" ] &&
    ok "double of $d ms (bounds $lo..$hi)" || bad "double: $lineA (bounds $lo..$hi)"
lo=$(( (t6 - t5) / 1000 - gap - 5 )) hi=$(( (t7 - t4) / 1000 + gap + 5 ))
d=$(field down_ms_max "$lineA")
[ "$(field downs "$lineA")" = 1 ] && [ "$d" -ge "$lo" ] && [ "$d" -le "$hi" ] &&
    ok "down of $d ms (bounds $lo..$hi)" || bad "down: $lineA (bounds $lo..$hi)"
grep -q "^addr $B holders_max=1 doubles=0 .* downs=0 " "$T/sum1" && ok "the address that stayed: no episode" ||
    bad "B: $(grep "^addr $B " "$T/sum1")"
lost=$(grep '^lost ' "$T/sum1")
if [ "$(grep -c . <<< "$lost")" = 1 ] && grep -q "^lost $A ns=${NS[0]} at=" <<< "$lost"; then
    at=$(field at "$lost"); at_us=${at/./}
    # it left a when the release ran (t2..t3), seen up to a gap later
    if [ "$at_us" -ge $(( t2 - 1000 )) ] && [ "$at_us" -le $(( t3 + (gap + 5) * 1000 )) ]; then
        ok "lost from the keep set at the release"
    else bad "lost at $at_us, release ran $t2..$t3"; fi
else bad "lost lines: $lost"; fi
[ "$(field kept_lost "$s")" = 1 ] || bad "kept_lost: $s"
samples=$(field samples "$s") el=$(field elapsed_ms "$s")
# generous: make check runs this beside other tests on 2 cores (a 103 ms gap
# was seen then); the benchmarks report the gap they really had
[ "$gap" -le 250 ] && [ "$samples" -ge $(( el / 10 / 4 )) ] &&
    ok "sampled $samples passes in $el ms, worst gap $gap ms" || bad "sampling: $s"
[ "$(field confirms "$s")" -ge 2 ] && ok "new double and down confirmed in reverse order" ||
    bad "confirms: $s"
"$AW" --replay "$T/log1" -k "${NS[0]},${NS[2]}" > "$T/re1" 2>&1
cmp -s "$T/sum1" "$T/re1" && ok "replay of the log gives the same summary" ||
    { bad "replay differs:"; diff "$T/sum1" "$T/re1"; }
grep -q '^# end=' "$T/log1" && ok "footer written at SIGTERM" || bad "no footer"

# --- 2. interface mode: discovered, excluded, link-local --------------------
"$AW" -I 5 -i lo -x 127.0.0.1,::1,"$B" -q -l "$T/log2" -d 1.5 "${NS[@]}" > "$T/sum2" 2> "$T/err2" &
AWPID=$!
wait_header "$T/log2" || { cat "$T/err2"; echo "FAIL: no header (2)"; exit 1; }
sleep 0.2
add "${NS[1]}" "$C"
sleep 0.2
del "${NS[1]}" "$C"
n=0; while kill -0 "$AWPID" 2>/dev/null && [ "$n" -lt 100 ]; do sleep 0.05; n=$(( n + 1 )); done
wait "$AWPID"; rc=$?; AWPID=""
[ "$rc" = 0 ] || bad "addrwatch -d exit $rc: $(cat "$T/err2")"
s=$(tail -n1 "$T/sum2"); echo "summary: $s"
grep -q " ${NS[1]} $C +\$" "$T/log2" && grep -q " ${NS[1]} $C -\$" "$T/log2" &&
    ok "-i: an address that appeared later is logged" || bad "-i: $(cat "$T/log2")"
! grep -qE " ($B|127\.0\.0\.1|::1) [+-]\$" "$T/log2" && ok "-i: -x addresses are not watched" ||
    bad "-x: $(cat "$T/log2")"
[ "$(field addrs "$s")" = 2 ] && [ "$(field downs "$s")" = 1 ] &&
    ok "-i: $A and $C tracked; $C down once, at its removal" || bad "-i summary: $s"
el=$(field elapsed_ms "$s")
[ "$el" -ge 1400 ] && [ "$el" -le 2500 ] && ok "-d 1.5 ran ${el} ms" || bad "-d: $s"

echo "addrwatch-live-test: $fails failures"
[ "$fails" = 0 ]
