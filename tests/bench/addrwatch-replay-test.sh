#!/bin/bash
# addrwatch-replay-test.sh - the sampler's accounting, without root (make check).
# addrwatch --replay runs the same accounting as a live run over a change log;
# here the logs are written by hand, so every expected number is known:
# a move inside one pass (no double, no down), a double episode through
# three holders, a down that rounds, an address given but never seen (down
# from the start), an episode still open at the end, the -w window, the -k
# keep set with and without a window; then logs it must refuse, and bad
# arguments.  Under valgrind too when it is installed (not for a sanitized
# build: ASan's runtime and valgrind cannot share a process).
set -u
AW=${ADDRWATCH:-./tests/bench/addrwatch}
[ -x "$AW" ] || { echo "FAIL: $AW not built"; exit 1; }
T=$(mktemp -d /tmp/addrwatch-replay.XXXXXX) || exit 99
trap 'rm -rf -- "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$(( fails + 1 )); }

cat > "$T/log" <<'LOG'
# addrwatch start=1000.000 interval_ms=10 ns=a,b,c addrs=10.0.0.1,10.0.0.2,10.0.0.3,2001:db8::1
1000.000 a 10.0.0.1 +
1000.000 b 10.0.0.2 +
1000.000 c 2001:db8::1 +
1100.000 a 10.0.0.1 -
1100.000 b 10.0.0.1 +
1200.000 c 10.0.0.1 +
1250.000 a 10.0.0.1 +
1300.000 a 10.0.0.1 -
1400.000 b 10.0.0.1 -
1500.000 b 10.0.0.2 -
1800.500 a 10.0.0.2 +
1900.000 c 2001:db8::1 -
# end=2000.000 samples=100 confirms=3 max_gap_us=12000 max_pass_us=150 retries=1 dropped=0
LOG

# expect NAME EXPECTED-LINE ARGS... : the replay's output must contain the line
expect() {
    local name=$1 want=$2 out; shift 2
    out=$("$AW" --replay "$T/log" "$@" 2>&1) || { bad "$name: exit $?: $out"; return; }
    if grep -qxF -- "$want" <<< "$out"; then ok "$name"
    else bad "$name: want '$want', got:"; echo "$out" | sed 's/^/    /'; fi
}
expect "move inside one pass, double through three holders" \
    "addr 10.0.0.1 holders_max=3 doubles=1 double_ms_total=200 double_ms_max=200 downs=0 down_ms_total=0 down_ms_max=0"
expect "down of 300.5 ms rounds to 301" \
    "addr 10.0.0.2 holders_max=1 doubles=0 double_ms_total=0 double_ms_max=0 downs=1 down_ms_total=301 down_ms_max=301"
expect "given, never seen: down from the first pass" \
    "addr 10.0.0.3 holders_max=0 doubles=0 double_ms_total=0 double_ms_max=0 downs=1 down_ms_total=1000 down_ms_max=1000"
expect "open at the end: runs to the end" \
    "addr 2001:db8::1 holders_max=1 doubles=0 double_ms_total=0 double_ms_max=0 downs=1 down_ms_total=100 down_ms_max=100"
expect "overall" \
    "addrwatch namespaces=3 addrs=4 samples=100 confirms=3 interval_ms=10 max_gap_ms=12 max_pass_us=150 elapsed_ms=1000 doubles=1 double_ms_total=200 double_ms_max=200 downs=3 down_ms_total=1401 down_ms_max=1000 kept_lost=0 retries=1 dropped=0"
expect "window clips downs, not doubles" \
    "addrwatch namespaces=3 addrs=4 samples=100 confirms=3 interval_ms=10 max_gap_ms=12 max_pass_us=150 elapsed_ms=1000 doubles=1 double_ms_total=200 double_ms_max=200 downs=3 down_ms_total=601 down_ms_max=350 kept_lost=0 retries=1 dropped=0" \
    -w 1600,1950 -q
expect "window with an open start" \
    "addrwatch namespaces=3 addrs=4 samples=100 confirms=3 interval_ms=10 max_gap_ms=12 max_pass_us=150 elapsed_ms=1000 doubles=1 double_ms_total=200 double_ms_max=200 downs=1 down_ms_total=500 down_ms_max=500 kept_lost=0 retries=1 dropped=0" \
    -w ,1500 -q
expect "-e: the double episode" "episode 10.0.0.1 double 1200.000 1400.000 ms=200" -e
expect "-e: a down clipped to the window" "episode 10.0.0.2 down 1600.000 1800.500 ms=201" -e -w 1600,1950
expect "-e: a down open at the end" "episode 2001:db8::1 down 1900.000 2000.000 ms=100" -e
expect "keep set: left a at the move" "lost 10.0.0.1 ns=a at=1100.000" -k a,b
expect "keep set: left b when it went down" "lost 10.0.0.2 ns=b at=1500.000" -k a,b
expect "keep set: count" \
    "addrwatch namespaces=3 addrs=4 samples=100 confirms=3 interval_ms=10 max_gap_ms=12 max_pass_us=150 elapsed_ms=1000 doubles=1 double_ms_total=200 double_ms_max=200 downs=3 down_ms_total=1401 down_ms_max=1000 kept_lost=2 retries=1 dropped=0" \
    -k a,b -q
expect "keep set in a window: holdings at its start, changes inside it" \
    "lost 10.0.0.1 ns=b at=1400.000" -k a,b -w 1150,1450
out=$("$AW" --replay "$T/log" -k a,b -w 1150,1450 -q)
[ "$(grep -c '^lost ' <<< "$out")" = 1 ] && ok "keep set in a window: what leaves after it is not lost" ||
    bad "keep set in a window: $(grep '^lost ' <<< "$out" | paste -sd' ')"
out=$("$AW" --replay "$T/log" -k c -q)
grep -qxF "lost 2001:db8::1 ns=c at=1900.000" <<< "$out" && ! grep -q "lost 10.0.0.1" <<< "$out" &&
    ok "keep set: only what was on it" || bad "keep set c: $out"

# refuse NAME LOGTEXT WANT-IN-MESSAGE
refuse() {
    local name=$1 msg=$3 out rc=0
    printf '%s\n' "$2" > "$T/badlog"
    out=$("$AW" --replay "$T/badlog" 2>&1) || rc=$?
    if [ "$rc" = 1 ] && grep -qF -- "$msg" <<< "$out"; then ok "refuses: $name"
    else bad "refuses $name: exit $rc: $out"; fi
}
H='# addrwatch start=1000.000 interval_ms=10 ns=a,b addrs=10.0.0.1'
E='# end=2000.000 samples=1 confirms=0 max_gap_us=0 max_pass_us=0 retries=0 dropped=0'
refuse "no footer" "$H"$'\n1000.000 a 10.0.0.1 +' "did not finish"
refuse "no header" "1000.000 a 10.0.0.1 +"$'\n'"$E" "no addrwatch header"
refuse "unknown namespace" "$H"$'\n1000.000 z 10.0.0.1 +\n'"$E" ":2: not a change line"
refuse "stamp going back" "$H"$'\n1100.000 a 10.0.0.1 +\n1050.000 b 10.0.0.1 +\n'"$E" ":3: not a change line"
refuse "not an address" "$H"$'\n1000.000 a 10.0.0 +\n'"$E" ":2: not a change line"
refuse "line after the footer" "$H"$'\n'"$E"$'\n1000.000 a 10.0.0.1 +' ":3: not a change line"
refuse "empty" "" "no addrwatch header"

# usage errors: exit 2 and one line naming the problem
usage() {
    local name=$1 msg=$2 out rc=0; shift 2
    out=$("$AW" "$@" 2>&1) || rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$msg" <<< "$out"; then ok "usage: $name"
    else bad "usage $name: exit $rc: $out"; fi
}
usage "nothing to watch" "nothing to watch" n1
usage "bad address" "'10.1' is not an IPv4 or IPv6 address" -a 10.1 n1
usage "bad interval" "-I 0" -I 0 -a 10.0.0.1 n1
usage "bad window" "-w 5,3" -w 5,3 -a 10.0.0.1 n1
usage "keep not watched" "-k n2: not one of the watched namespaces" -k n2 -a 10.0.0.1 n1
usage "namespace twice" "given twice" -a 10.0.0.1 n1 n1
usage "replay with sampling options" "--replay takes only" --replay "$T/log" -a 10.0.0.1
usage "-x with -a" "-x goes with -i alone" -a 10.0.0.1 -x 10.0.0.2 n1

if command -v valgrind >/dev/null 2>&1 && ! grep -qa __asan_init "$AW"; then
    if valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=9 \
        "$AW" --replay "$T/log" -k a,b -w 1150,1450 > "$T/vg.out" 2>&1; then
        ok "valgrind: replay clean"
    else bad "valgrind: replay"; cat "$T/vg.out"; fi
    printf '%s\n' "$H" $'1000.000 a 10.0.0.1 +\nx' > "$T/badlog"
    if valgrind -q --leak-check=full --errors-for-leak-kinds=all --error-exitcode=9 \
        "$AW" --replay "$T/badlog" > "$T/vg.out" 2>&1; [ $? = 1 ]; then
        ok "valgrind: refused log clean"
    else bad "valgrind: refused log"; cat "$T/vg.out"; fi
fi
echo "addrwatch-replay-test: $fails failures"
[ "$fails" = 0 ]
