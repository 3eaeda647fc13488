#!/bin/sh
# metrics-check.sh - validate Prometheus text exposition (format 0.0.4) strictly.
#
#     chorusctl metrics | tests/cli/metrics-check.sh [--prefix chorus_]
#
# Reads the exposition on standard input and exits 0 only if it passes both:
#  1. promtool check metrics (Debian package "prometheus"), parser and lint,
#     when promtool is installed;
#  2. the check below, in POSIX awk, which is stricter than promtool where a
#     scraper would silently misbehave:
#     - every line is a sample, a HELP or TYPE line, a comment, or empty;
#       no carriage returns; the text ends with a newline;
#     - metric names match [a-zA-Z_][a-zA-Z0-9_]* (colons are for recording
#       rules), label names [a-zA-Z_][a-zA-Z0-9_]* and not __reserved;
#       label values are double-quoted with only \\ \" \n escapes; no label
#       twice in one sample;
#     - values are floats (or NaN, +Inf, -Inf), timestamps integers;
#     - every family has one HELP (not empty) and one TYPE, both before its
#       first sample, and its samples are together, not interleaved;
#     - no series (name and label set) appears twice;
#     - counters end in _total and are not negative; histogram buckets have le;
#     - with --prefix P, every metric name starts with P;
#     - at least one sample.
#
# METRICS_CHECK_PROMTOOL=auto (default: use promtool if found), yes (fail
# without it), no (the awk check alone).  Exit 0 valid, 1 invalid, 2 usage.
set -u

prefix=
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || { echo "metrics-check: --prefix needs a value" >&2; exit 2; }
                  prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: metrics-check.sh [--prefix P] < exposition" >&2; exit 2 ;;
    esac
done

tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT INT TERM
cat >"$tmp"
rc=0

case ${METRICS_CHECK_PROMTOOL:-auto} in
    no) ;;
    auto|yes)
        if command -v promtool >/dev/null 2>&1; then
            if ! out=$(promtool check metrics <"$tmp" 2>&1); then
                printf 'metrics-check: promtool: %s\n' "$out" >&2
                rc=1
            fi
        elif [ "${METRICS_CHECK_PROMTOOL:-auto}" = yes ]; then
            echo "metrics-check: promtool not found (apt-get install prometheus)" >&2
            exit 2
        fi ;;
    *) echo "metrics-check: METRICS_CHECK_PROMTOOL must be auto, yes or no" >&2; exit 2 ;;
esac

if [ -s "$tmp" ] && [ "$(tail -c 1 "$tmp" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo "metrics-check: the last line does not end with a newline" >&2
    rc=1
fi

LC_ALL=C awk -v prefix="$prefix" '
function err(msg) { printf "metrics-check: line %d: %s\n", NR, msg > "/dev/stderr"; bad++ }
function isname(s) { return s ~ /^[a-zA-Z_][a-zA-Z0-9_]*$/ }
function isfloat(s) {
    return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ ||
           s == "NaN" || s == "+Inf" || s == "-Inf" || s == "Inf"
}
function skipblank() { while (pos <= n && (substr(ln, pos, 1) == " " || substr(ln, pos, 1) == "\t")) pos++ }
# The family a sample belongs to: itself, or the histogram/summary it is part of.
function family(name,    base) {
    if (name in type) return name
    if (name ~ /_(bucket|count|sum)$/) {
        base = name; sub(/_(bucket|count|sum)$/, "", base)
        if (type[base] == "histogram" || (type[base] == "summary" && name !~ /_bucket$/))
            return base
    }
    return name
}
# "# HELP name text" / "# TYPE name type": the family must not have samples yet.
function meta(kind, rest,    name, text, i, c) {
    if (!match(rest, /^[^ \t]+/)) { err(kind " without a metric name"); return }
    name = substr(rest, 1, RLENGTH)
    text = substr(rest, RLENGTH + 1); sub(/^[ \t]+/, "", text)
    if (!isname(name)) { err("bad metric name \"" name "\" in " kind); return }
    if (prefix != "" && index(name, prefix) != 1) err("metric " name " does not start with " prefix)
    if (name in sampled) err(kind " for " name " after its samples")
    if (kind == "HELP") {
        if (name in help) err("second HELP for " name)
        help[name] = 1
        if (text == "") err("empty HELP for " name)
        for (i = 1; i <= length(text); i++) {
            if (substr(text, i, 1) != "\\") continue
            c = substr(text, i + 1, 1)
            if (c != "\\" && c != "n") { err("bad escape \\" c " in HELP for " name); break }
            i++
        }
    } else {
        if (name in type) err("second TYPE for " name)
        if (text !~ /^(counter|gauge|histogram|summary|untyped)[ \t]*$/)
            err("unknown TYPE \"" text "\" for " name)
        sub(/[ \t]+$/, "", text)
        type[name] = text
    }
}
function sample(    p0, name, lname, lval, c, nl, i, j, t, keys, key, fam, fields, value) {
    pos = 1; n = length(ln)
    skipblank()
    if (!match(substr(ln, pos), /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { err("not a sample: " ln); return }
    name = substr(ln, pos, RLENGTH); pos += RLENGTH
    if (!isname(name)) { err("metric name " name " has a colon (reserved for recording rules)"); return }
    if (prefix != "" && index(name, prefix) != 1) err("metric " name " does not start with " prefix)
    nl = 0; split("", seenl)
    p0 = pos; skipblank()
    if (substr(ln, pos, 1) != "{") pos = p0
    else {
        pos++
        for (;;) {
            skipblank()
            if (substr(ln, pos, 1) == "}") { pos++; break }
            if (!match(substr(ln, pos), /^[a-zA-Z_][a-zA-Z0-9_]*/)) { err("bad label name in " name); return }
            lname = substr(ln, pos, RLENGTH); pos += RLENGTH
            if (lname ~ /^__/) err("label " lname " of " name " is reserved (__)")
            if (lname in seenl) err("label " lname " twice in a sample of " name)
            seenl[lname] = 1
            skipblank()
            if (substr(ln, pos, 1) != "=") { err("expected = after label " lname " of " name); return }
            pos++; skipblank()
            if (substr(ln, pos, 1) != "\"") { err("label value of " lname " not quoted in " name); return }
            pos++; lval = ""
            for (;;) {
                if (pos > n) { err("unterminated label value of " lname " in " name); return }
                c = substr(ln, pos, 1)
                if (c == "\"") { pos++; break }
                if (c == "\\") {
                    c = substr(ln, pos + 1, 1)
                    if (c != "\\" && c != "\"" && c != "n") { err("bad escape \\" c " in label " lname " of " name); return }
                    lval = lval "\\" c; pos += 2; continue
                }
                lval = lval c; pos++
            }
            keys[++nl] = lname "=\"" lval "\""
            skipblank()
            c = substr(ln, pos, 1)
            if (c == ",") { pos++; continue }
            if (c != "}") { err("expected , or } after label " lname " of " name); return }
        }
    }
    # value [timestamp]: blank-separated, and nothing else
    if (nl == 0 && substr(ln, pos, 1) != " " && substr(ln, pos, 1) != "\t") { err("no blank before the value of " name); return }
    t = substr(ln, pos); sub(/^[ \t]+/, "", t); sub(/[ \t]+$/, "", t)
    fields = split(t, f, /[ \t]+/)
    if (fields < 1 || t == "") { err("no value for " name); return }
    if (fields > 2) { err("text after the timestamp of " name); return }
    value = f[1]
    if (!isfloat(value)) err("value \"" value "\" of " name " is not a float")
    if (fields == 2 && f[2] !~ /^-?[0-9]+$/) err("timestamp \"" f[2] "\" of " name " is not an integer")

    # the series, with its labels sorted, must be new
    for (i = 2; i <= nl; i++)
        for (j = i; j > 1 && keys[j - 1] > keys[j]; j--) { t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t }
    key = name "{"
    for (i = 1; i <= nl; i++) key = key (i > 1 ? "," : "") keys[i]
    key = key "}"
    if (key in series) err("duplicate series " key)
    series[key] = 1
    samples++

    fam = family(name)
    if (!(fam in type)) err("sample of " name " before (or without) a TYPE line for " fam)
    if (!(fam in help)) err("sample of " name " before (or without) a HELP line for " fam)
    if (fam != current) {
        if (fam in sampled) err("samples of " fam " are not together")
        current = fam
    }
    sampled[fam] = 1
    if (type[fam] == "counter") {
        if (name !~ /_total$/) err("counter " name " does not end in _total")
        if (value ~ /^-/ || value == "NaN") err("counter " name " is " value)
    }
    if (type[fam] == "histogram" && name ~ /_bucket$/ && !("le" in seenl)) err("bucket of " fam " without le")
}
/\r/ { err("carriage return"); next }
/^[ \t]*$/ { next }
/^[ \t]*#/ {
    ln = $0; sub(/^[ \t]*#[ \t]*/, "", ln)
    if (ln ~ /^HELP[ \t]/) meta("HELP", substr(ln, 6))
    else if (ln ~ /^TYPE[ \t]/) meta("TYPE", substr(ln, 6))
    else if (ln == "HELP" || ln == "TYPE") err(ln " without a metric name")
    next
}
{ ln = $0; sample() }
END {
    if (samples == 0) err("no samples")
    exit (bad > 0)
}' "$tmp" || rc=1

exit "$rc"
