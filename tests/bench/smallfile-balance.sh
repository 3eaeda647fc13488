#!/bin/bash
# tests/bench/smallfile-balance.sh - load balancing of small-file traffic:
# 3 nodes, 9 VIPs, real corosync + chorusd with the smallfile-balance plugin.
#
# Run as root from a built tree:
#     sudo BUILDDIR=build tests/bench/smallfile-balance.sh          # 5 minutes on
#     sudo BUILDDIR=build ON_SECONDS=120 tests/bench/smallfile-balance.sh
#
# What it does.  A 3-node cluster in network namespaces (tests/integration/
# lib.sh); count balancing puts 3 VIPs on each node.  On every node a small
# server (tests/bench/sfb_load server) is bound to every VIP (IP_FREEBIND),
# standing in for the NFS/SMB/Gluster service.  From the client namespace a
# load generator drives small request/response exchanges (128 B / 512 B,
# 4 connections x 150 per second each) to the three VIPs that started on node
# 1, and bulk transfers (1 MiB requests, 8 per second) to one VIP on node 2
# and one on node 3.  The other VIPs are idle.
#   off  balancing off ("balance": {"interval_ms": 0}) for OFF_SECONDS: the
#        plugin measures and chorusctl shows load, nothing moves for it.
#   on   every daemon is reloaded in place with balancing on (interval 5 s,
#        margin 10 %, budget 2 moves per interval) and the load runs for
#        ON_SECONDS more.  Every 2 s the VIP owners are sampled (ip -n, not
#        chorusd): a move is an owner change, an oscillation a VIP arriving on
#        a node it had left during the on phase.
# max_over_mean = the busiest node's small requests / the mean over the
# nodes, from the generator's completed requests over a window (the last 20 s
# of off, the last 60 s of on, or its second half when shorter), each VIP
# counted on the node that held it.  tests/integration/smallfile-balance.sh
# runs it short (30 s off, 40 s on) as a regression test.
#
# Output, last line:
#   smallfile-balance vips=V max_over_mean_off=A max_over_mean_on=B moves=M oscillations=O
# Exit 0 when B <= 1.15, A >= 2 and O = 0; 1 otherwise; 77 when it cannot run.
# Everything lives in namespaces and a temp dir named after this script's PID;
# the lib's trap tears it all down on exit, error or signal.
# shellcheck disable=SC2317  # functions called through cl_wait_until
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
ON_SECONDS=${ON_SECONDS:-300}
OFF_SECONDS=${OFF_SECONDS:-40}
[[ $ON_SECONDS =~ ^[0-9]+$ ]] && [ "$ON_SECONDS" -ge 40 ] ||
    { echo "smallfile-balance.sh: ON_SECONDS must be >= 40" >&2; exit 2; }
WIN_ON=$(( ON_SECONDS / 2 < 60 ? ON_SECONDS / 2 : 60 ))	# the measured end of the on phase
[[ $OFF_SECONDS =~ ^[0-9]+$ ]] && [ "$OFF_SECONDS" -ge 30 ] ||
    { echo "smallfile-balance.sh: OFF_SECONDS must be >= 30" >&2; exit 2; }
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
SFB=$BUILDDIR/tests/bench/sfb_load
PLUGIN=$(readlink -f "$BUILDDIR/plugins/smallfile-balance/.libs/chorus-smallfile-balance.so")
for f in "$CHORUSD" "$CHORUSCTL" "$SFB" "$PLUGIN"; do
    [ -e "$f" ] || { echo "SKIP: $f not built (set BUILDDIR)" >&2; exit 77; }
done
command -v python3 >/dev/null || { echo "SKIP: python3 needed for the arithmetic" >&2; exit 77; }
N=3
NV=9
PORT=7000

cl_init sfbal "$N"
PLUGDIR=$CL_DIR/plugins
mkdir -p "$PLUGDIR" && ln -s "$PLUGIN" "$PLUGDIR/"

conf() {	# conf I INTERVAL_MS
    local i=$1 iv=$2 d k sep=""; d=$(cl_ndir "$i")
    {
        printf '{"group":"chorus","state_dir":"%s","run_dir":"%s","vips":[' "$d/chorus-state" "$d/chorus-run"
        for (( k = 0; k < NV; k++ )); do
            printf '%s{"address":"%s","interface":"eth0"}' "$sep" "$(cl_vip_addr "$k" "$NV")"
            sep=,
        done
        printf '],"timing":{"restart_grace_ms":8000,"round_timeout_ms":3000},'
        printf '"balance":{"interval_ms":%d,"margin_pct":10,"budget":2},' "$iv"
        printf '"plugins":{"dir":"%s","load":[{"name":"smallfile-balance","config":{"interval_ms":1000,"smoothing_pct":50}}]},' "$PLUGDIR"
        printf '"log":{"level":"info","file":"%s","stderr":true,"syslog":false}}\n' "$d/chorusd.log"
    } > "$d/chorusd.conf"
}
sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(sock "$i")" "$@"; }

VIPS=()
for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); VIPS+=("${a%/*}"); done
owners() {	# one line: owner node per VIP ("-" when none or several)
    local a o line=""
    for a in "${VIPS[@]}"; do
        o=$(cl_vip_owner "$a" 2>/dev/null | tr '\n' ' ')
        o=${o% }
        [[ $o =~ ^[0-9]+$ ]] || o=-
        line+="$o "
    done
    echo "${line% }"
}
settled() {	# every VIP held exactly once, 3 per node
    local o; o=$(owners)
    [[ $o != *-* ]] || return 1
    [ "$(tr ' ' '\n' <<<"$o" | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')" = "3 " ]
}

for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do conf "$i" 0; cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"; done
cl_wait_until 60 settled || cl_fail "VIPs not placed 3/3/3: $(owners)"
for i in 1 2 3; do
    cl__spawn "sfb.server.$i" "$i" "$(cl_ndir "$i")/sfb-server.out" "$SFB" server "$PORT" "${VIPS[@]}"
    cl__wait_exec "$CL_SPAWN_PID" || cl_fail "server $i did not start"
done

read -r -a OWN0 <<<"$(owners)"
HOT=() BULK=() b2="" b3=""
for (( k = 0; k < NV; k++ )); do
    case ${OWN0[$k]} in
        1) HOT+=("${VIPS[$k]}") ;;
        2) [ -n "$b2" ] || b2=${VIPS[$k]} ;;
        3) [ -n "$b3" ] || b3=${VIPS[$k]} ;;
    esac
done
BULK=("$b2" "$b3")
cl_log "owners at start: ${OWN0[*]}; small-file VIPs ${HOT[*]}; bulk VIPs ${BULK[*]}"
specs=()
for a in "${HOT[@]}"; do specs+=("small:$a:$PORT:4:150"); done
for a in "${BULK[@]}"; do specs+=("bulk:$a:$PORT:1:8"); done
COUNTS=$CL_DIR/counts
TOTAL=$(( OFF_SECONDS + ON_SECONDS + 60 ))
ip netns exec "$(cl_ns_cl)" "$SFB" client "$TOTAL" "$COUNTS" "${specs[@]}" \
    </dev/null >"$CL_DIR/sfb-client.out" 2>&1 &
cl__record sfb.client $!
disown $! 2>/dev/null

snap() {	# snap FILE : copy of the generator's counters plus the owners
    cp "$COUNTS" "$1.counts" 2>/dev/null || : > "$1.counts"
    owners > "$1.owners"
}
# max_over_mean FROM TO : busiest node's small requests over the mean, per
# the owners at the end of the window
max_over_mean() {
    python3 - "$1" "$2" "${VIPS[@]}" <<'EOF'
import sys
a, b, vips = sys.argv[1], sys.argv[2], sys.argv[3:]
def counts(p):
    d = {}
    for line in open(p + ".counts"):
        i, kind, addr, req, err = line.split()
        if kind == "small":
            d[addr] = int(req)
    return d
c0, c1 = counts(a), counts(b)
own = open(b + ".owners").read().split()
node = {1: 0, 2: 0, 3: 0}
for addr, n in c1.items():
    o = own[vips.index(addr)]
    if o.isdigit():
        node[int(o)] += n - c0.get(addr, 0)
mean = sum(node.values()) / 3.0
print("%.2f" % (max(node.values()) / mean if mean > 0 else 0.0))
EOF
}

cl_wait_until 10 test -s "$COUNTS" || cl_fail "the load generator does not report"
sleep $(( OFF_SECONDS - 20 ))
snap "$CL_DIR/off0"
sleep 20
snap "$CL_DIR/off1"
A=$(max_over_mean "$CL_DIR/off0" "$CL_DIR/off1")
[ "$(cat "$CL_DIR/off0.owners")" = "$(cat "$CL_DIR/off1.owners")" ] ||
    cl_fail "addresses moved with balancing off"
ctl 1 vips >&2 || true
cl_log "balancing off: max_over_mean=$A; reloading with balancing on"

for i in 1 2 3; do
    conf "$i" 5000
    ctl "$i" reload >/dev/null || cl_fail "reload of node $i refused"
    sleep 2
done

# the on phase: sample owners every 2 s, count moves and returns
declare -A LEFT=()
read -r -a LAST <<<"$(cat "$CL_DIR/off1.owners")"
MOVES=0 OSC=0
t_end=$(( $(cl_now_ms) + ON_SECONDS * 1000 ))
win_at=$(( t_end - WIN_ON * 1000 ))
took_win=0
for (( n = 0; n < ON_SECONDS; n++ )); do
    now=$(cl_now_ms)
    [ "$now" -lt "$t_end" ] || break
    if [ "$took_win" = 0 ] && [ "$now" -ge "$win_at" ]; then
        snap "$CL_DIR/on0"
        took_win=1
    fi
    sleep 2
    read -r -a C <<<"$(owners)"
    for (( k = 0; k < NV; k++ )); do
        # a sample taken mid-handover shows "-": compare definite owners only
        [ "${C[$k]}" != - ] && [ "${C[$k]}" != "${LAST[$k]}" ] || continue
        MOVES=$(( MOVES + 1 ))
        [[ " ${LEFT[$k]:-} " == *" ${C[$k]} "* ]] && OSC=$(( OSC + 1 ))
        LEFT[$k]="${LEFT[$k]:-} ${LAST[$k]}"
        cl_log "VIP ${VIPS[$k]} moved ${LAST[$k]} -> ${C[$k]}"
        LAST[$k]=${C[$k]}
    done
done
snap "$CL_DIR/on1"
B=$(max_over_mean "$CL_DIR/on0" "$CL_DIR/on1")
ctl 1 status >&2 || true
ok=$(python3 -c "print(int($B <= 1.15 and $A >= 2.0 and $OSC == 0))")
echo "smallfile-balance vips=$NV max_over_mean_off=$A max_over_mean_on=$B moves=$MOVES oscillations=$OSC"
[ "$ok" = 1 ]
