# shellcheck shell=bash
# tests/bench/lib-measure.sh - measurement tooling for the failover benchmark.
# Source after (or instead of) tests/integration/lib.sh:
#     . "$(dirname "$0")/lib-measure.sh"
#
# Time sources, all epoch milliseconds, all UTC:
#   - corosync logs: "timestamp: hires" lines ("Nov 23 22:04:45.564 [pid] host ...");
#     lib.sh starts corosync with TZ=UTC, and the line has no year (taken from the
#     reference time, corrected across a new year).
#   - address events: "ip -n NS -ts monitor address" (iproute2 6.1 prints
#     "[2026-11-23T22:07:00.398254] 2: eth0    inet 10.1.2.3/24 ..." with microseconds,
#     local time, so it runs with TZ=UTC).  The stamp is taken when ip reads the
#     netlink message: well under 1 ms after the kernel change.
#   - the harness: cl_now_ms (bash $EPOCHREALTIME).

if ! declare -F cl_init >/dev/null; then
    . "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../integration/lib.sh"
fi

# ms_monitor_log I : path of node I's address monitor log
ms_monitor_log() { echo "$CL_DIR/mon/n$1.log"; }

# ms_observer_start [I...] : one "ip -ts monitor address" per node namespace (default
# all nodes), logging to $CL_DIR/mon/n<i>.log; waits (bounded) until each one is
# provably listening (it has logged a sentinel address added/removed on lo).
ms_observer_start() {
    local nodes=("$@") i ns log pid sentinel
    [ ${#nodes[@]} -gt 0 ] || for (( i = 1; i <= CL_N; i++ )); do nodes+=("$i"); done
    mkdir -p "$CL_DIR/mon"
    for i in "${nodes[@]}"; do
        ns=$(cl_ns "$i"); log=$(ms_monitor_log "$i")
        if cl__pid_of "mon.$i" >/dev/null; then continue; fi
        TZ=UTC ip -n "$ns" -ts monitor address </dev/null >>"$log" 2>&1 &
        pid=$!
        disown "$pid" 2>/dev/null
        cl__record "mon.$i" "$pid"
        echo "$pid mon.$i" >> "$CL_DIR/pids.all"
    done
    for i in "${nodes[@]}"; do
        ns=$(cl_ns "$i"); log=$(ms_monitor_log "$i")
        sentinel="127.0.0.$(( 200 + i % 50 ))"
        if ! cl_wait_until 5 ms__sentinel "$ns" "$sentinel" "$log"; then
            cl_fail "address monitor for node $i not listening"
        fi
        ip -n "$ns" addr del "$sentinel/8" dev lo 2>/dev/null
    done
    cl_log "address observers running on nodes ${nodes[*]}"
}
ms__sentinel() {                    # (re)add the sentinel until the monitor logs it
    ip -n "$1" addr replace "$2/8" dev lo 2>/dev/null
    grep -qF "inet $2/" "$3" 2>/dev/null
}

ms_observer_stop() {
    local f
    for f in "$CL_DIR"/pids/mon.*; do
        [ -f "$f" ] && cl__kill_recorded "${f##*/}" TERM 3
    done
    return 0
}

# Shared awk: civil date -> epoch ms (UTC), no mktime needed (mawk).
MS__AWK_TIME='
function ms_days(y, m, d,   era, yoe, doy, doe) {
    y -= (m <= 2)
    era = int((y >= 0 ? y : y - 399) / 400)
    yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}
function ms_epoch(y, mo, d, h, mi, s, frac) {  # frac: digits after the dot
    frac = substr(frac "000", 1, 3)
    return (((ms_days(y, mo, d) * 24 + h) * 60 + mi) * 60 + s) * 1000 + frac
}
'

# ms_corosync_event_ms LOG AFTER_EPOCH_MS REGEX : epoch ms of the first line of a
# corosync hires log matching REGEX (awk ERE) stamped at or after AFTER_EPOCH_MS.
ms_corosync_event_ms() {
    local log=$1 after=$2 re=$3
    [ -f "$log" ] || return 1
    MS_RE=$re awk -v after="$after" "$MS__AWK_TIME"'
    BEGIN {
        split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " ")
        for (i = 1; i <= 12; i++) mon[mn[i]] = i
        # the year of the reference time, UTC
        days = int(after / 86400000); y = 1970
        while (ms_days(y + 1, 1, 1) <= days) y++
        half = 183 * 86400000
    }
    $0 ~ ENVIRON["MS_RE"] && ($1 in mon) {
        split($3, t, /[:.]/)
        e = ms_epoch(y, mon[$1], $2 + 0, t[1] + 0, t[2] + 0, t[3] + 0, t[4])
        if (e > after + half) e = ms_epoch(y - 1, mon[$1], $2 + 0, t[1] + 0, t[2] + 0, t[3] + 0, t[4])
        else if (e < after - half) e = ms_epoch(y + 1, mon[$1], $2 + 0, t[1] + 0, t[2] + 0, t[3] + 0, t[4])
        if (e >= after) { printf "%.0f\n", e; found = 1; exit }
    }
    END { exit !found }' "$log"
}

# ms_membership_time_ms NODE_LOGFILE AFTER_EPOCH_MS : first "[TOTEM ] A new membership
# (R) was formed." after the time (the totem ring is formed).
ms_membership_time_ms() {
    ms_corosync_event_ms "$1" "$2" '\[TOTEM \] A new membership \('
}
# ms_sync_time_ms NODE_LOGFILE AFTER_EPOCH_MS : first "[MAIN  ] Completed service
# synchronization" after the time: services synced, i.e. about when CPG delivers
# the configuration change to clients (chorusd).
ms_sync_time_ms() {
    ms_corosync_event_ms "$1" "$2" '\[MAIN  \] Completed service synchronization'
}

# ms_vip_times "MONITOR_LOG..." "ADDR..." AFTER_EPOCH_MS : for each address (prefix
# ignored) print "ADDR EPOCH_MS" of its first appearance (a line without "Deleted"
# containing "inet ADDR/") at or after the time, in any of the logs; "ADDR -" if
# it never appeared.  Exit 1 if any is missing.
ms_vip_times() {
    local logs=$1 addrs=$2 after=$3 f files=()
    for f in $logs; do [ -f "$f" ] && files+=("$f"); done
    [ ${#files[@]} -gt 0 ] || return 1
    awk -v after="$after" -v addrs="$addrs" "$MS__AWK_TIME"'
    BEGIN {
        n = split(addrs, a, /[ \t\n]+/)
        for (i = 1; i <= n; i++) if (a[i] != "") { sub(/\/.*/, "", a[i]); want[a[i]] = 1; order[++k] = a[i] }
    }
    /^\[[0-9]+-[0-9]+-[0-9]+T/ && !/Deleted/ {
        for (f = 2; f < NF; f++) if ($f == "inet") {
            ad = $(f + 1); sub(/\/.*/, "", ad)
            if (!(ad in want)) break
            split(substr($1, 2, length($1) - 2), d, /[-T:.]/)
            e = ms_epoch(d[1] + 0, d[2] + 0, d[3] + 0, d[4] + 0, d[5] + 0, d[6] + 0, d[7])
            if (e >= after && (!(ad in seen) || e < seen[ad])) seen[ad] = e
            break
        }
    }
    END {
        miss = 0
        for (i = 1; i <= k; i++) {
            if (order[i] in seen) printf "%s %.0f\n", order[i], seen[order[i]]
            else { print order[i], "-"; miss = 1 }
        }
        exit miss
    }' "${files[@]}"
}

# ms_last_vip_time_ms "MONITOR_LOG..." "ADDR..." AFTER_EPOCH_MS : epoch ms when the
# last of the addresses appeared; prints nothing and exits 1 if any did not.
ms_last_vip_time_ms() {
    local out
    out=$(ms_vip_times "$@") || return 1
    echo "$out" | awk '{ print $2 }' | ms_max
}
ms_first_vip_time_ms() {
    local out
    out=$(ms_vip_times "$@")
    echo "$out" | awk '$2 != "-" { print $2 }' | ms_min
}

# Statistics over numbers given as arguments, or one per line on stdin.
ms__nums() { if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cat; fi; }
ms_median() {
    ms__nums "$@" | awk 'NF' | sort -n | awk '{ v[NR] = $1 }
        END { if (!NR) exit 1
              if (NR % 2) printf "%.0f\n", v[(NR + 1) / 2]
              else printf "%.0f\n", int((v[NR / 2] + v[NR / 2 + 1]) / 2 + 0.5) }'
}
ms_max() { ms__nums "$@" | awk 'NF && (!n++ || $1 > m) { m = $1 } END { if (!n) exit 1; printf "%.0f\n", m }'; }
ms_min() { ms__nums "$@" | awk 'NF && (!n++ || $1 < m) { m = $1 } END { if (!n) exit 1; printf "%.0f\n", m }'; }
# ms_pctl P : P-th percentile (nearest rank)
ms_pctl() {
    local p=$1; shift
    ms__nums "$@" | awk 'NF' | sort -n | awk -v p="$p" '{ v[NR] = $1 }
        END { if (!NR) exit 1; r = int((p * NR + 99) / 100); if (r < 1) r = 1; printf "%.0f\n", v[r] }'
}
