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
# ms_left_time_ms NODE_LOGFILE AFTER_EPOCH_MS NODEID : first membership line
# after the time with NODEID among the members that left.  With a short token a
# change of another cause (a rejoin still re-forming, a knet link flap) can
# come first, and it would pass for the detection of a kill.
ms_left_time_ms() {
    ms_corosync_event_ms "$1" "$2" "\\[TOTEM \\] A new membership \\(.*Members left:( [0-9]+)* $3( |\$)"
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

# --- the address sampler (tests/bench/addrwatch.c) --------------------------
# One addrwatch per measurement NAME, run from the root namespace (it opens a
# socket inside each namespace itself): change log $CL_DIR/aw/NAME.log,
# summary NAME.sum, its stderr NAME.err.  AW_ARGS adds options to every run
# (default "-R 1": SCHED_FIFO, so a busy machine does not stretch the 10 ms).
: "${ADDRWATCH:=$BUILDDIR/tests/bench/addrwatch}"
: "${CHORUSCTL:=$BUILDDIR/coordinator/chorusctl}"
: "${AW_ARGS:=-R 1}"
aw_dir() { echo "$CL_DIR/aw"; }
aw_sum() { echo "$(aw_dir)/$1.sum"; }

# aw_start NAME ARGS... : start "addrwatch ARGS..." (the namespaces last) in the
# background and wait (bounded, 10 s) until its first pass is done.  Not
# inside $(...): it must stay a child of the test shell.
aw_start() {
    local name=$1 d pid; shift; d=$(aw_dir)
    [ -x "$ADDRWATCH" ] || cl_fail "ADDRWATCH=$ADDRWATCH not built (make)"
    mkdir -p "$d"
    # shellcheck disable=SC2086  # AW_ARGS is a list of options
    "$ADDRWATCH" $AW_ARGS -l "$d/$name.log" -o "$d/$name.sum" "$@" </dev/null 2>"$d/$name.err" &
    pid=$!
    disown "$pid" 2>/dev/null
    cl__record "aw.$name" "$pid"
    echo "$pid aw.$name" >> "$CL_DIR/pids.all"
    cl_wait_until 10 grep -q '^# addrwatch ' "$d/$name.log" ||
        cl_fail "addrwatch $name did not start: $(head -c 300 "$d/$name.err" 2>/dev/null)"
}

# aw_stop NAME : SIGTERM, wait (bounded) until it has written its summary
aw_stop() {
    local name=$1
    cl__kill_recorded "aw.$name" TERM 10
    tail -n 1 "$(aw_sum "$name")" 2>/dev/null | grep -q '^addrwatch ' ||
        cl_fail "addrwatch $name ended without a summary: $(head -c 300 "$(aw_dir)/$name.err" 2>/dev/null)"
    cl_log "addrwatch $name: $(tail -n 1 "$(aw_sum "$name")")"
}

aw__kv() { sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p" | head -n 1; }
aw_field() { tail -n 1 "$(aw_sum "$1")" | aw__kv "$2"; }             # aw_field NAME KEY
aw_addr_field() { grep "^addr $2 " "$(aw_sum "$1")" | aw__kv "$3"; }  # aw_addr_field NAME ADDR KEY
aw_lost() { awk '$1 == "lost" { sub(/^ns=/, "", $3); printf "%s%s@%s", s, $2, $3; s = " " }' "$(aw_sum "$1")"; }

# --- what a peer's chorusd says (chorusctl status --json) -----------------
# ms_status_poll_start NAME I NODE_ID "ADDR..." : every ~200 ms, ask node I's
# chorusd for its status; append to $CL_DIR/aw/NAME.status one line per answer
#   T_BEFORE T_AFTER EXIT NODE_STATE ADDR=STATE...
# (NODE_STATE: .nodes[] with that id, "-" without an answer; the addresses:
# those of .vips[] that are listed).  At most 3000 samples.  Not inside $(...).
ms_status_poll_start() {
    local name=$1 i=$2 f pid; f="$(aw_dir)/$1.status"
    mkdir -p "$(aw_dir)"; : > "$f"; rm -f "$f.stop"
    ms__status_poll "$f" "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$3" "$4" </dev/null >/dev/null 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null
    cl__record "poll.$name" "$pid"
    echo "$pid poll.$name" >> "$CL_DIR/pids.all"
}
ms__status_poll() {
    local f=$1 sock=$2 id=$3 addrs=$4 n tb ta out rc line
    for (( n = 0; n < 3000; n++ )); do
        [ -e "$f.stop" ] && break
        tb=$(cl_now_ms)
        out=$(timeout 3 "$CHORUSCTL" -s "$sock" -t 2 status --json 2>/dev/null); rc=$?
        ta=$(cl_now_ms)
        line=$(jq -r --argjson id "$id" --arg want "$addrs" '
            ($want | split(" ")) as $w |
            ([.nodes[]? | select(.id == $id) | .state][0] // "-") as $st |
            [.vips[]? | (.address | split("/")[0]) as $a | select(any($w[]; . == $a)) |
             "\($a)=\(.state)"] as $v |
            ([$st] + $v) | join(" ")' <<< "$out" 2>/dev/null) || line=""
        echo "$tb $ta $rc ${line:--}" >> "$f"
        # one sample every 200 ms, whatever chorusctl and jq took
        ta=$(( 200 - ($(cl_now_ms) - tb) ))
        [ "$ta" -gt 0 ] && sleep "$(printf '0.%03d' "$ta")"
    done
}
# ms_status_poll_stop NAME [nowait] : ends the poller after its current sample
# (bounded); "nowait" only asks it to
ms_status_poll_stop() {
    local f; f="$(aw_dir)/$1.status"
    : > "$f.stop"
    [ "${2:-}" = nowait ] && return 0
    cl_wait_until 5 ms__poll_gone "poll.$1" || cl__kill_recorded "poll.$1" TERM 5
}
ms__poll_gone() { ! cl__pid_of "$1" >/dev/null; }

# ms_status_healthy I NODE_ID : node I's chorusctl status exits 0 and names
# NODE_ID "active"
ms_status_healthy() {
    local out
    out=$(timeout 5 "$CHORUSCTL" -s "$(cl_ndir "$1")/chorus-run/chorusd.sock" -t 3 status --json 2>/dev/null) ||
        return 1
    [ "$(jq -r --argjson id "$2" '[.nodes[] | select(.id == $id) | .state][0]' <<< "$out" 2>/dev/null)" = active ]
}

# ms_status_judge NAME SUMMARY : weigh NAME's status samples against the
# sampler's down episodes (addrwatch -e) in SUMMARY; prints
#   SAMPLES UNRESPONSIVE ACTIVE EXIT_NONZERO LIES VIP_LIES LAST_STATE LAST_EXIT
# A lie: the node "active", or one of the listed VIPs "up", while one of them
# (that one) was on no node all through the sample (from before the request
# until 20 ms after the answer: the sampler stamps a change up to a pass late).
# VIP_LIES counts only the samples with such a VIP "up".
ms_status_judge() {
    awk '
    FILENAME == ARGV[1] && $1 == "episode" && $3 == "down" { n = ++ne[$2]; es[$2, n] = $4; ee[$2, n] = $5; next }
    FILENAME == ARGV[1] { next }
    function down(a, tb, ta,   k) {
        for (k = 1; k <= ne[a]; k++) if (es[a, k] <= tb && ee[a, k] >= ta + 20) return 1
        return 0
    }
    {
        samples++; if ($3 != 0) bad++
        if ($4 == "unresponsive") unresp++
        if ($4 == "active") active++
        vlie = 0; anydown = 0
        for (f = 5; f <= NF; f++) {
            split($f, kv, "="); d = down(kv[1], $1, $2)
            anydown += d
            if (d && kv[2] == "up") vlie = 1
        }
        vlies += vlie; lies += vlie || ($4 == "active" && anydown)
        last = $4; lastrc = $3
    }
    END { printf "%d %d %d %d %d %d %s %s\n", samples, unresp, active, bad, lies, vlies,
                 last == "" ? "-" : last, lastrc == "" ? "-" : lastrc }
    ' "$2" "$(aw_dir)/$1.status"
}
# min_of_chorusd REGEX AFTER S... : earliest line matching REGEX in the
# survivors' chorusd logs (same "Mon DD HH:MM:SS.mmm" UTC stamps as corosync's; cl_ndir: lib.sh)
min_of_chorusd() {
    local re=$1 after=$2 s t out=(); shift 2
    for s in "$@"; do t=$(ms_corosync_event_ms "$(cl_ndir "$s")/chorusd.log" "$after" "$re") && out+=("$t"); done
    [ ${#out[@]} -gt 0 ] || return 1
    ms_min "${out[@]}"
}
# bench_phase A B : B - A, or "-" when either is missing
bench_phase() { if [ -n "$1" ] && [ -n "$2" ]; then echo $(( $2 - $1 )); else echo -; fi; }
# bench_phases T_MEM T_SYNC T_FIRST T_VIPS S... : where membership -> last VIP
# went, from the survivors' (S...) earliest stamps.  Sets BENCH_PHASES to
#   sync (corosync's service sync) deliver (-> chorusd logs the membership)
#   place (-> the lost node's resources are placed: at once for a leave-only
#   change, else when the round completes) holdoff (-> the first VIP is up:
#   the wait for a node that may be cut off, and expiry probes) spread (-> the
#   last is up) confirm (membership in chorusd -> its round completes; off
#   the path when the placement did not wait for it)
# and BENCH_ROUNDS to the rounds the placement waited for (0 or 1).
bench_phases() {
    local t_mem=$1 t_sync=$2 t_first=$3 t_vips=$4 t_cc t_round t_place; shift 4
    t_cc=$(min_of_chorusd "notice membership: .* \\([1-9][0-9]* left" "$t_mem" "$@") || t_cc=""
    t_round=$(min_of_chorusd "notice round [0-9a-f]+ complete" "${t_cc:-$t_mem}" "$@") || t_round=""
    if t_place=$(min_of_chorusd "notice members only left: [0-9]+ resources? placed" "${t_cc:-$t_mem}" "$@"); then
        BENCH_ROUNDS=0
    else
        t_place=$t_round BENCH_ROUNDS=1
    fi
    BENCH_PHASES="sync=$(bench_phase "$t_mem" "$t_sync") deliver=$(bench_phase "$t_sync" "$t_cc")"
    BENCH_PHASES+=" place=$(bench_phase "$t_cc" "$t_place") holdoff=$(bench_phase "$t_place" "$t_first")"
    BENCH_PHASES+=" spread=$(bench_phase "$t_first" "$t_vips") confirm=$(bench_phase "$t_cc" "$t_round")"
}
