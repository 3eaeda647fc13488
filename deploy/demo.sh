#!/bin/bash
# deploy/demo.sh - a 5-minute tour of chorus on one machine (Debian 12, as root).
#
#     sudo deploy/demo.sh            # tour, then keep the cluster up until Enter / Ctrl-C
#     sudo deploy/demo.sh --no-wait  # tour, then tear down at once (also when stdin
#                                    # is not a terminal)
#
# It installs what is missing (deploy/deps.sh: the build tools and libraries,
# corosync, and what the tests run: GlusterFS, Samba, NFS-Ganesha; it names
# what it installed), builds into build-demo/, starts
# three nodes of real corosync + chorusd, each in its own network namespace on a
# private bridge (tests/integration/lib.sh), with 12 floating IPs; kills node 3
# (SIGKILL of its corosync and chorusd), shows the IPs move and how long it took
# (seen from outside chorusd, by `ip monitor`), brings node 3 back and shows the
# rebalance, with chorusctl's status and a what-if plan on the way.  Nothing
# touches the host's own network: every address lives inside namespaces named
# c<PID>..., files under /tmp/chorus-it.<PID>/, and a trap removes all of it on
# exit, error or Ctrl-C.  CL_KEEP_LOGS=DIR keeps the logs.
# shellcheck disable=SC2317,SC2119  # helpers run through cl_wait_until
set -uo pipefail

WAIT=1
for arg in "$@"; do
    case $arg in
        --no-wait) WAIT=0 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [--no-wait]" >&2; exit 2 ;;
    esac
done
[ -t 0 ] || WAIT=0

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: needs root (network namespaces, corosync): sudo $0 $*" >&2
    exit 1
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build-demo"
NV=12
N=3

if [ -t 1 ]; then BOLD=$'\e[1m' DIM=$'\e[2m' GRN=$'\e[32m' RED=$'\e[31m' OFF=$'\e[0m'
else BOLD="" DIM="" GRN="" RED="" OFF=""; fi
step() { printf '%s==>%s %s' "$BOLD" "$OFF" "$*"; }
ok() { printf ' %s%s%s\n' "$GRN" "${1:-ok}" "$OFF"; }
die() { printf ' %sFAILED%s\n%s\n' "$RED" "$OFF" "$*" >&2; exit 1; }
# quietly LOG CMD... : run CMD with its output in LOG; on failure show the tail
quietly() {
    local log=$1; shift
    "$@" >"$log" 2>&1 && return 0
    printf ' %sFAILED%s: %s\n' "$RED" "$OFF" "$*" >&2
    tail -n 40 "$log" >&2
    echo "(full output in $log)" >&2
    exit 1
}

echo "${BOLD}chorus demo${OFF}: 3 nodes of corosync + chorusd in network namespaces, $NV floating IPs"

# --- 1. dependencies and build -------------------------------------------------
mkdir -p "$B"
step "dependencies (deploy/deps.sh) ..."
quietly "$B/deps.log" "$ROOT/deploy/deps.sh"
# say what was installed on the host (the tests' GlusterFS, Samba, NFS-Ganesha too)
if inst=$(sed -n 's/^deps: installing //p' "$B/deps.log") && [ -n "$inst" ]; then
    ok "installed: $inst"
else
    ok "all present"
fi
step "build into build-demo/ ..."
if [ ! -x "$ROOT/configure" ]; then
    quietly "$B/autoreconf.log" sh -c "cd '$ROOT' && autoreconf -fi"
fi
if [ ! -f "$B/Makefile" ]; then
    quietly "$B/configure.log" sh -c "cd '$B' && ../configure"
fi
quietly "$B/make.log" make -C "$B" -j"$(nproc 2>/dev/null || echo 2)"
[ -x "$B/coordinator/chorusd" ] || die "build-demo/coordinator/chorusd was not built"
ok

# --- 2. cluster ----------------------------------------------------------------
export BUILDDIR=$B CL_QUIET=${CL_QUIET:-1}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/bench/lib-measure.sh"
cl_require_root_corosync
# on an error or Ctrl-C the lib's trap tears down; say so
cl_on_teardown() { [ "${QUIET_TEARDOWN:-0}" = 1 ] || printf '\n%s==>%s tearing down\n' "$BOLD" "$OFF" >&2; }

vips_of() { cl_vips_on "$1" | paste -sd' '; }
count_on() { cl_vips_on "$1" | wc -l; }
spread() { local i s=""; for (( i = 1; i <= N; i++ )); do s+="$(count_on "$i")/"; done; echo "${s%/}"; }
all_once() {            # all_once NODES... : every VIP on exactly one of NODES
    local i a k
    declare -A h=()
    for i in "$@"; do for a in $(cl_vips_on "$i"); do h[$a]=$(( ${h[$a]:-0} + 1 )); done; done
    for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); [ "${h[${a%/*}]:-0}" = 1 ] || return 1; done
}
balanced() { all_once 1 2 3 && [ "$(spread)" = "4/4/4" ]; }
owners() {              # "addr:node ..." of nodes given
    local i a out=""
    for i in "$@"; do for a in $(cl_vips_on "$i"); do out+="$a:$i "; done; done
    echo "$out" | tr ' ' '\n' | sort | paste -sd' '
}
table() {               # table [DEAD_NODE]
    local i
    printf '    %s%-5s %-14s %-13s %s%s\n' "$DIM" node namespace address "floating IPs" "$OFF"
    for (( i = 1; i <= N; i++ )); do
        if [ "$i" = "${1:-}" ]; then
            printf '    %-5s %-14s %-13s %s\n' "n$i" "$(cl_ns "$i")" "$(cl_addr "$i")" \
                "${RED}down${OFF}$(stale "$i")"
        else
            printf '    %-5s %-14s %-13s %s\n' "n$i" "$(cl_ns "$i")" "$(cl_addr "$i")" "$(vips_of "$i")"
        fi
    done
}
stale() {               # note on the addresses a killed node's kernel still has
    local c; c=$(count_on "$1")
    [ "$c" = 0 ] || printf ' %s(its kernel keeps %s stale copies until their lifetime runs out)%s' "$DIM" "$c" "$OFF"
}
start_chorusd() { cl_chorusd_start "$1" "$(cl_ndir "$1")/chorusd.conf"; }

step "starting corosync on 3 nodes ..."
cl_init demo "$N"
for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i"; done
for (( i = 1; i <= N; i++ )); do
    cl_wait_members "$i" "$N" 30 || die "corosync on n$i does not see $N members after 30 s"
done
ok "ring of 3 formed"
step "starting chorusd on 3 nodes ..."
t0=$(cl_now_ms)
for (( i = 1; i <= N; i++ )); do
    cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$NV"
    start_chorusd "$i"
done
cl_wait_until 30 balanced || die "VIPs not placed 4/4/4 after 30 s: $(spread)"
ok "VIPs placed in $(( $(cl_now_ms) - t0 )) ms"
table
echo

# --- 3. kill node 3 ------------------------------------------------------------
mine=$(vips_of 3)
ms_observer_start
step "SIGKILL corosync + chorusd on n3 ..."
cpid=$(cl_corosync_pid 3); dpid=$(cl_chorusd_pid 3)
t_kill=$(cl_now_ms)
kill -KILL "$cpid" "$dpid"
cl_wait_until 30 all_once 1 2 || die "n3's VIPs not taken over after 30 s: $(owners 1 2)"
mons="$(ms_monitor_log 1) $(ms_monitor_log 2)"
cl_wait_until 5 ms_last_vip_time_ms "$mons" "$mine" "$t_kill" >/dev/null ||
    die "the address monitors did not see n3's VIPs arrive"
t_vips=$(ms_last_vip_time_ms "$mons" "$mine" "$t_kill")
t_mem=$(for i in 1 2; do ms_membership_time_ms "$(cl_ndir "$i")/corosync.log" "$t_kill"; done | ms_min)
ok "its 4 VIPs moved"
printf '    %s%d ms%s from the kill to the last VIP up on a survivor:\n' "$BOLD" $(( t_vips - t_kill )) "$OFF"
printf '      %5d ms  corosync notices n3 is gone (token %d ms + consensus; corosync tuning)\n' \
    $(( t_mem - t_kill )) "$CL_TOKEN_MS"
printf '      %5d ms  chorus agrees on a new placement and brings the VIPs up\n' $(( t_vips - t_mem ))
table 3
echo
CTL=$B/coordinator/chorusctl
ctl() { local i=$1; shift; timeout 10 "$CTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
step "what an operator sees: chorusctl status on n1"; echo
ctl 1 status 2>&1 | sed 's/^/    /'
echo

# --- 4. node 3 comes back ------------------------------------------------------
step "restarting n3 (corosync, then chorusd) ..."
before=$(owners 1 2)
cl_corosync_start 3
for (( i = 1; i <= N; i++ )); do
    cl_wait_members "$i" "$N" 30 || die "n$i does not see $N members after 30 s"
done
t_start=$(cl_now_ms)
start_chorusd 3
cl_wait_until 30 balanced || die "no rebalance after 30 s: $(spread)"
after=$(owners 1 2 3)
moves=0
for a in $after; do [[ " $before " == *" $a "* ]] || moves=$(( moves + 1 ))
done
t_back=$(ms_last_vip_time_ms "$(ms_monitor_log 3)" "$(vips_of 3)" "$t_start" 2>/dev/null) || t_back=""
ms_observer_stop
ok "rebalanced 4/4/4 with $moves moves${t_back:+, $(( t_back - t_start )) ms after chorusd started}"
table
echo
step "what if n2 failed now? chorusctl plan --fail 2 (same placement code, nothing moves)"; echo
ctl 1 plan --fail 2 2>&1 | sed 's/^/    /'
echo

# --- 5. poke at it -------------------------------------------------------------
n1=$(cl_ns 1) n2=$(cl_ns 2)
cmd() { printf '    %-58s %s# %s%s\n' "$1" "$DIM" "$2" "$OFF"; }
echo "${BOLD}Poke at it${OFF} (as root, from another terminal):"
cmd "$CTL -s $(cl_ndir 1)/chorus-run/chorusd.sock status" "the cluster as n1 sees it (also events, plan, move)"
cmd "ip -n $n1 addr show dev eth0" "n1's addresses (n2, n3 alike)"
cmd "ip netns exec $n1 corosync-quorumtool -s" "membership and quorum as n1 sees it"
cmd "tail -f $CL_DIR/n1/chorusd.log" "chorusd log; corosync.log next to it"
cmd "kill -9 $(cl_corosync_pid 2) $(cl_chorusd_pid 2)" "crash n2 (its corosync + chorusd)"
cmd "ip -n $n2 link set eth0 down" "cut n2's link (then: ... eth0 up)"
cmd "ip netns exec $(cl_ns_cl) arping -c1 -I eth0 $(cl_vip_addr 0 "$NV" | cut -d/ -f1)" "which MAC answers for a VIP"
echo "Logs: $CL_DIR/n{1,2,3}/ (removed on teardown; CL_KEEP_LOGS=DIR keeps a copy)."
if [ "$WAIT" = 0 ]; then
    echo "${DIM}(not waiting: run it from a terminal without --no-wait to keep the cluster up)${OFF}"
fi

if [ "$WAIT" = 1 ]; then
    echo
    printf '%sCluster is running.%s Press Enter (or Ctrl-C) to tear it down (automatic after 1 hour). ' "$BOLD" "$OFF"
    trap 'interrupted=1' INT        # Ctrl-C here ends the demo normally
    interrupted=0
    read -r -t 3600 _ || echo
    trap 'cl_log "caught SIGINT"; cl_teardown; trap - EXIT; exit 130' INT
fi
step "tearing down ..."
QUIET_TEARDOWN=1 cl_teardown
leftover=$(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^${CL_P}(sw|cl|n[0-9]+)\$")
[ -z "$leftover" ] || die "namespaces left behind: $leftover"
ok "nothing left behind"
trap - EXIT
exit 0
