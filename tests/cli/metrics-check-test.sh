#!/bin/sh
# Test of tests/cli/metrics-check.sh: the chorusd-like sample passes, the
# broken sample fails, and each single defect below is caught by the awk check
# on its own (promtool misses some, e.g. duplicate series).  The promtool half
# runs when promtool is installed (Debian package "prometheus").
set -u
here=${srcdir:-$(dirname "$0")/../..}/tests/cli
check="$here/metrics-check.sh"
good="$here/metrics-sample.txt"
bad="$here/metrics-sample-bad.txt"
pass=0 fail=0 skip=0
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT

ok() { pass=$((pass + 1)); printf 'ok - %s\n' "$1"; }
notok() { fail=$((fail + 1)); printf 'not ok - %s\n' "$1"; }
# accept NAME FILE [ARGS]: the awk check alone must accept FILE
accept() {
    n=$1 f=$2; shift 2
    if METRICS_CHECK_PROMTOOL=no "$check" "$@" <"$f" 2>"$t/err"; then ok "accepts: $n"
    else notok "accepts: $n"; cat "$t/err"; fi
}
# reject NAME FILE [ARGS]: the awk check alone must refuse FILE
reject() {
    n=$1 f=$2; shift 2
    if METRICS_CHECK_PROMTOOL=no "$check" "$@" <"$f" 2>"$t/err"; then notok "rejects: $n"
    else ok "rejects: $n ($(head -n 1 "$t/err" | sed 's/^metrics-check: //'))"; fi
}
# mutate NAME SED-SCRIPT: the good sample edited by sed must be refused
mutate() { sed "$2" "$good" >"$t/m"; reject "$1" "$t/m"; }
# extra NAME TEXT: the good sample with TEXT appended must be refused
extra() { { cat "$good"; printf '%s\n' "$2"; } >"$t/m"; reject "$1" "$t/m"; }

accept "chorusd sample" "$good"
accept "chorusd sample, --prefix chorus_" "$good" --prefix chorus_
{ cat "$good"; printf '%s\n' '# HELP chorus_x_seconds A histogram.' '# TYPE chorus_x_seconds histogram' \
    'chorus_x_seconds_bucket{le="0.1"} 1' 'chorus_x_seconds_bucket{le="+Inf"} 2' \
    'chorus_x_seconds_sum 0.3' 'chorus_x_seconds_count 2' \
    '# HELP chorus_y Escapes \\ and \n in help.' '# TYPE chorus_y gauge' \
    'chorus_y{a="q\"uote",b="back\\slash",c="new\nline",} NaN 1700000000000' \
    'chorus_y{a="b"}	+Inf' '# a plain comment' '' \
    '# HELP chorus_z Declared, no samples yet (chorusd before its first round).' \
    '# TYPE chorus_z gauge'; } >"$t/rich"
accept "histogram, escapes, NaN/+Inf, timestamp, tab, empty family" "$t/rich"

reject "the broken sample" "$bad"
reject "empty input" /dev/null
extra "duplicate series" 'chorus_node_vips{node="1"} 3'
extra "duplicate series, labels in another order" \
    "$(printf '%s\n' '# HELP chorus_p P.' '# TYPE chorus_p gauge' 'chorus_p{a="1",b="2"} 1' 'chorus_p{b="2",a="1"} 1')"
mutate "sample without TYPE" '/^# TYPE chorus_members /d'
mutate "sample without HELP" '/^# HELP chorus_quorate /d'
extra "TYPE after the samples" '# TYPE chorus_members gauge'
extra "HELP after the samples" '# HELP chorus_members again'
extra "family interleaved" 'chorus_members{x="1"} 3'
mutate "value not a float" 's/^chorus_quorate 1$/chorus_quorate yes/'
mutate "value missing" 's/^chorus_quorate 1$/chorus_quorate/'
mutate "label value unquoted" 's/{node="1"}/{node=1}/'
mutate "label value unterminated" 's/{node="1"}/{node="1}/'
mutate "bad escape in a label value" 's/{node="1"}/{node="\\x"}/'
mutate "label name reserved" 's/{node="1"}/{__node="1"}/'
mutate "label twice" 's/{node="1"}/{node="1",node="4"}/'
mutate "label list not closed" 's/{node="1"}/{node="1" 3/'
mutate "unknown TYPE" 's/^# TYPE chorus_members gauge/# TYPE chorus_members gauges/'
mutate "counter without _total" 's/^# TYPE chorus_members gauge/# TYPE chorus_members counter/'
mutate "negative counter" 's/^chorus_rounds_total 7/chorus_rounds_total -1/'
mutate "metric name with a dash" 's/^chorus_members 3/chorus-members 3/'
mutate "metric name with a colon" 's/chorus_members/chorus:members/'
mutate "empty HELP" 's/^# HELP chorus_members .*/# HELP chorus_members/'
mutate "bad escape in HELP" 's/^# HELP chorus_members .*/# HELP chorus_members bad \\t escape/'
mutate "second HELP" '/^# HELP chorus_members /p'
mutate "text after the timestamp" 's/^chorus_members 3$/chorus_members 3 1700000000000 extra/'
mutate "timestamp not an integer" 's/^chorus_members 3$/chorus_members 3 1.5/'
mutate "carriage return" 's/$/\r/'
printf '%s' "$(cat "$good")" >"$t/m"; reject "no final newline" "$t/m"
{ cat "$good"; printf '%s\n' '# HELP node_x X.' '# TYPE node_x gauge' 'node_x 1'; } >"$t/m"
accept "foreign prefix without --prefix" "$t/m"
reject "foreign prefix with --prefix chorus_" "$t/m" --prefix chorus_

if command -v promtool >/dev/null 2>&1; then
    if METRICS_CHECK_PROMTOOL=yes "$check" --prefix chorus_ <"$good" 2>"$t/err"; then ok "promtool + awk accept the sample"
    else notok "promtool + awk accept the sample"; cat "$t/err"; fi
    if promtool check metrics <"$bad" >"$t/err" 2>&1; then notok "promtool alone rejects the broken sample"
    else ok "promtool alone rejects the broken sample ($(head -n 1 "$t/err"))"; fi
    if METRICS_CHECK_PROMTOOL=yes "$check" <"$bad" 2>/dev/null; then notok "promtool + awk reject the broken sample"
    else ok "promtool + awk reject the broken sample"; fi
else
    skip=$((skip + 3)); echo "skip - promtool not installed (apt-get install prometheus): 3 checks"
fi

echo "metrics-check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
