#!/bin/bash
# deploy/demo.sh - a two-minute tour of chorus on one machine (Debian 12, as root).
#
#     sudo deploy/demo.sh               # tour, then keep the cluster up until Enter / Ctrl-C
#     sudo deploy/demo.sh --no-wait     # tour, then tear down at once (also when stdin
#                                       # is not a terminal)
#     sudo deploy/demo.sh --no-gluster  # floating IPs only: no glusterd, no bricks
#
# It installs what is missing (deploy/deps.sh, which it names first: the build
# tools and libraries, corosync, GlusterFS, xfsprogs, and what only the tests
# run: Samba, NFS-Ganesha, promtool), builds into build-demo/ (DEMO_BUILDDIR=DIR
# uses another build tree), then starts three nodes of real corosync + chorusd,
# each in its own network namespace on a private bridge
# (tests/integration/lib.sh), with 12 floating IPs, and glusterd on each node
# with a volume of three floating bricks, each on its own LUN: a loop device
# over a sparse file carrying XFS, which every node sees as a SAN LUN and only
# the brick's owner mounts (tests/integration/lib-bricks.sh).  A gfapi client
# writes and reads the volume throughout.  With chorusctl status and a what-if
# plan on the way, node 3 loses power (link down, every process killed): the
# IPs move in about 2.5 s, its brick after the fence grace, the client goes
# on; node 3 comes back and gets its share again.  Last, the client reads back
# everything it was told was written, and xfs_repair -n checks every LUN.
# Nothing touches the host's own network: every address lives inside
# namespaces named c<PID>..., files under /tmp/chorus-it.<PID>/, and a trap
# removes all of it (processes by PID, mounts, loop devices, namespaces,
# files) on exit, error or Ctrl-C.  CL_KEEP_LOGS=DIR keeps the logs.
# shellcheck disable=SC2317,SC2119  # helpers run through cl_wait_until
set -uo pipefail

WAIT=1
GLUSTER=1
usage() { echo "usage: $0 [--no-wait] [--no-gluster]"; }
for arg in "$@"; do
    case $arg in
        --no-wait) WAIT=0 ;;
        --no-gluster) GLUSTER=0 ;;
        -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
[ -t 0 ] || WAIT=0

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: needs root (network namespaces, corosync, loop devices): sudo $0 $*" >&2
    exit 1
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${DEMO_BUILDDIR:-$ROOT/build-demo}
NV=12
N=3
GRACE_MS=8000                   # fence grace; the bricks' release timeout is 2 s less
T_START=$SECONDS

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
indent() { sed 's/^/    /'; }

if [ "$GLUSTER" = 1 ]; then
    echo "${BOLD}chorus demo${OFF}: 3 nodes of corosync + chorusd + glusterd in network namespaces,"
    echo "$NV floating IPs, a Gluster volume of 3 floating bricks on XFS loop-device LUNs, a gfapi client"
else
    echo "${BOLD}chorus demo${OFF}: 3 nodes of corosync + chorusd in network namespaces, $NV floating IPs"
fi

# --- 1. dependencies and build -------------------------------------------------
mkdir -p "$B"
echo "deploy/deps.sh installs whichever of these Debian packages are missing (GlusterFS,"
echo "xfsprogs and corosync for the demo; Samba, NFS-Ganesha and prometheus for the tests):"
"$ROOT/deploy/deps.sh" --list | fold -s -w 76 | indent
step "dependencies (deploy/deps.sh) ..."
quietly "$B/deps.log" "$ROOT/deploy/deps.sh"
if inst=$(sed -n 's/^deps: installing //p' "$B/deps.log") && [ -n "$inst" ]; then
    ok "installed: $inst"
else
    ok "all present"
fi
step "build into ${B#"$ROOT"/}/ ..."
if [ ! -x "$ROOT/configure" ]; then
    quietly "$B/autoreconf.log" sh -c "cd '$ROOT' && autoreconf -fi"
fi
if [ ! -f "$B/Makefile" ]; then
    quietly "$B/configure.log" sh -c "cd '$B' && '$ROOT/configure'"
fi
quietly "$B/make.log" make -C "$B" -j"$(nproc 2>/dev/null || echo 2)"
[ -x "$B/coordinator/chorusd" ] || die "$B/coordinator/chorusd was not built"
ok

# --- 2. cluster ----------------------------------------------------------------
export BUILDDIR=$B CL_QUIET=${CL_QUIET:-1}
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/bench/lib-measure.sh"
cl_require_root_corosync
if [ "$GLUSTER" = 1 ]; then
    . "$ROOT/tests/integration/lib-gluster.sh"
    BK_FSTYPE=xfs BK_RELEASE_MS=$(( GRACE_MS - 2000 ))
    . "$ROOT/tests/integration/lib-bricks.sh"
    why=$(bk_require 2>&1 >/dev/null) || die "${why#SKIP: } (deploy/demo.sh --no-gluster skips the Gluster part)"
fi
# on an error or Ctrl-C the lib's trap tears down; say so, on the terminal:
# the trap runs with the fds of whatever the script was doing (often
# a command with its output sent to a log or /dev/null)
exec {TTY_ERR}>&2
cl_on_teardown() { [ "${QUIET_TEARDOWN:-0}" = 1 ] || printf '\n%s==>%s tearing down\n' "$BOLD" "$OFF" >&"$TTY_ERR"; }
# every process is gone, the LUNs are not detached yet: no mount holds them,
# so xfs_repair -n can say whether any was damaged
LUNS_CHECKED=""
bk_on_luns_idle() { LUNS_CHECKED=$(bk_luns_check) && LUNS_OK=1 || LUNS_OK=0; }

vips_on() {             # vips_on I : the floating IPs on node I (not the bricks' addresses)
    local a k
    declare -A mine=()
    for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); mine[${a%/*}]=1; done
    for a in $(cl_vips_on "$1"); do [ -z "${mine[$a]:-}" ] || echo "$a"; done
}
vips_of() { vips_on "$1" | sed 's/.*\.//' | paste -sd' ' | sed 's/^./.&/; s/ / ./g'; }
count_on() { vips_on "$1" | wc -l; }
spread() { local i s=""; for (( i = 1; i <= N; i++ )); do s+="$(count_on "$i")/"; done; echo "${s%/}"; }
all_once() {            # all_once NODES... : every VIP on exactly one of NODES
    local i a k
    declare -A h=()
    for i in "$@"; do for a in $(vips_on "$i"); do h[$a]=$(( ${h[$a]:-0} + 1 )); done; done
    for (( k = 0; k < NV; k++ )); do a=$(cl_vip_addr "$k" "$NV"); [ "${h[${a%/*}]:-0}" = 1 ] || return 1; done
}
balanced() { all_once 1 2 3 && [ "$(spread)" = "4/4/4" ]; }
owners() {              # "addr:node ..." of nodes given
    local i a out=""
    for i in "$@"; do for a in $(vips_on "$i"); do out+="$a:$i "; done; done
    echo "$out" | tr ' ' '\n' | sort | paste -sd' '
}
bricks_of() {           # bricks_of I : "b1@.201 ...", the bricks running on node I
    local k s=""
    [ "$GLUSTER" = 1 ] || return 0
    for (( k = 1; k <= BK_NB; k++ )); do
        bk__runs "$1" "$k" && s+="b$k@.${BK_VIP[$k]##*.} "
    done
    echo "${s% }"
}
table() { table_ "$@" | sed 's/ *$//'; }
table_() {              # table [DEAD_NODE]
    local i
    printf '    %s%-4s %-12s %-12s %-30s %s%s\n' "$DIM" node namespace address "floating IPs (.N of the subnet)" \
        "$([ "$GLUSTER" = 1 ] && echo "bricks@address")" "$OFF"
    for (( i = 1; i <= N; i++ )); do
        if [ "$i" = "${1:-}" ]; then
            printf '    %-4s %-12s %-12s %s\n' "n$i" "$(cl_ns "$i")" "$(cl_addr "$i")" \
                "${RED}down${OFF}$(stale "$i")"
        else
            printf '    %-4s %-12s %-12s %-30s %s\n' "n$i" "$(cl_ns "$i")" "$(cl_addr "$i")" "$(vips_of "$i")" \
                "$(bricks_of "$i")"
        fi
    done
}
stale() {               # note on the addresses a powered-off node's kernel still has
    local c; c=$(count_on "$1")
    [ "$c" = 0 ] || printf ' %s(its kernel keeps %s stale copies until their lifetime runs out)%s' "$DIM" "$c" "$OFF"
}
CTL=$B/coordinator/chorusctl
ctl() { local i=$1; shift; timeout 10 "$CTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
# start_chorusd I : node I's config (the VIPs, with Gluster the bricks too), then chorusd
start_chorusd() {
    local f; f=$(cl_ndir "$1")/chorusd.conf
    cl_write_chorus_conf "$1" "$f" "$NV"
    if [ "$GLUSTER" = 0 ]; then cl_chorusd_start "$1" "$f"; return; fi
    printf '{%s}\n' "$(bk_conf_bricks "$GRACE_MS")" > "$f.bricks"
    if ! jq -s '.[0] * .[1]' "$f" "$f.bricks" > "$f.new" || ! mv "$f.new" "$f"; then
        die "cannot merge $f.bricks into $f"
    fi
    bk_chorusd_start "$1" "$f"
}
bricks_once() { local k; for (( k = 1; k <= BK_NB; k++ )); do bk__running_once "$k" || return 1; done; }
# status I : chorusctl status, once no brick is being started or stopped
status() {
    local out n
    for (( n = 0; n < 20; n++ )); do
        out=$(ctl "$1" status 2>&1)
        [[ $out == *"starting here"* || $out == *"stopping here"* ]] || break
        sleep 0.2
    done
    echo "$out"
}
acks() { grep -c '^ACK ' "$LOOP_OUT" 2>/dev/null; }
acks_past() { [ "$(acks)" -ge "$1" ]; }
client_line() { grep -m1 "^$1 " "$LOOP_OUT"; }

step "starting corosync on 3 nodes ..."
cl_init demo "$N"
for (( i = 1; i <= N; i++ )); do cl_corosync_start "$i"; done
for (( i = 1; i <= N; i++ )); do
    cl_wait_members "$i" "$N" 30 || die "corosync on n$i does not see $N members after 30 s"
done
ok "ring of 3 formed"

if [ "$GLUSTER" = 1 ]; then
    step "glusterd on 3 nodes, volume $V of 3 bricks on XFS LUNs ..."
    t0=$(cl_now_ms)
    # the pool, the brick addresses as peer aliases, each LUN made (losetup,
    # mkfs.xfs) and mounted on its brick's first node for "volume create",
    # then every brick stopped and unmounted: chorusd runs them from here on
    bk_gluster_setup 3
    ok "in $(( $(cl_now_ms) - t0 )) ms"
    for (( k = 1; k <= BK_NB; k++ )); do
        printf '    b%d  %s:%s  on %s (%s, xfs)\n' "$k" "${BK_VIP[$k]}" "${BK_PATH[$k]}" "${BK_LUN[$k]}" \
            "$(losetup -n -O BACK-FILE "${BK_LUN[$k]}")"
    done
fi

step "starting chorusd on 3 nodes ..."
t0=$(cl_now_ms)
for (( i = 1; i <= N; i++ )); do start_chorusd "$i"; done
cl_wait_until 30 balanced || die "VIPs not placed 4/4/4 after 30 s: $(spread)"
if [ "$GLUSTER" = 1 ]; then
    cl_wait_until 90 bricks_once || die "bricks not all started after 90 s: $(tail -n 5 "$(cl_ndir 1)/chorusd.log")"
    ok "VIPs placed and bricks mounted and started in $(( $(cl_now_ms) - t0 )) ms"
else
    ok "VIPs placed in $(( $(cl_now_ms) - t0 )) ms"
fi
table
echo

if [ "$GLUSTER" = 1 ]; then
    step "gfapi client (tests/integration/gfclient) in the client namespace: a file every 200 ms ..."
    LOOP_OUT=$CL_DIR/client/loop.out
    mkdir -p "$CL_DIR/client"
    # -g: how long one operation is retried through an outage; GIVEUP would be
    # an error the application sees
    GFCLIENT_STOP_FILE=$CL_DIR/client/stop GL_CLIENT_TIMEOUT_S=600 \
        gl_client "$V" -p demo- -g 60 loop 500 200 > "$LOOP_OUT" 2> "$CL_DIR/client/loop.err" &
    cl__record client "$!"
    cl_wait_until 60 acks_past 10 || die "client not writing: $(tail -n 3 "$LOOP_OUT" "$CL_DIR/client/loop.err")"
    ok "writing ($(acks) files so far)"
fi

step "what an operator sees: chorusctl status on n1"; echo
status 1 | indent
echo
step "what if n3 failed now? chorusctl plan --fail 3 (the same placement code; nothing moves)"; echo
ctl 1 plan --fail 3 2>&1 | indent
echo

# --- 3. node 3 fails -----------------------------------------------------------
mine=$(vips_on 3 | paste -sd' ')
ms_observer_start
if [ "$GLUSTER" = 1 ]; then
    step "n3 loses power (link down; corosync, chorusd, glusterd and its brick killed) ..."
    t_kill=$(cl_now_ms)
    bk_node_down 3
else
    step "SIGKILL corosync + chorusd on n3 ..."
    cpid=$(cl_corosync_pid 3); dpid=$(cl_chorusd_pid 3)
    t_kill=$(cl_now_ms)
    kill -KILL "$cpid" "$dpid"
fi
cl_wait_until 30 all_once 1 2 || die "n3's VIPs not taken over after 30 s: $(owners 1 2)"
mons="$(ms_monitor_log 1) $(ms_monitor_log 2)"
cl_wait_until 5 ms_last_vip_time_ms "$mons" "$mine" "$t_kill" >/dev/null ||
    die "the address monitors did not see n3's VIPs arrive"
t_vips=$(ms_last_vip_time_ms "$mons" "$mine" "$t_kill")
t_mem=$(for i in 1 2; do ms_membership_time_ms "$(cl_ndir "$i")/corosync.log" "$t_kill"; done | ms_min)
ok "its 4 VIPs moved"
printf '    %s%d ms%s from the failure to the last VIP up on a survivor:\n' "$BOLD" $(( t_vips - t_kill )) "$OFF"
printf '      %5d ms  corosync notices n3 is gone (token %d ms + consensus; corosync tuning)\n' \
    $(( t_mem - t_kill )) "$CL_TOKEN_MS"
printf '      %5d ms  chorus agrees on a new placement and brings the VIPs up\n' $(( t_vips - t_mem ))
if [ "$GLUSTER" = 1 ]; then
    B3=3                                    # the brick created on n3
    cl_wait_until $(( GRACE_MS / 1000 + 60 )) bk__on_one_other "$B3" 3 ||
        die "brick b$B3 not taken over from n3: $(tail -n 5 "$(cl_ndir 1)/chorusd.log")"
    t_brick=$(cl_now_ms)
    # the LUN is mounted where the brick runs and nowhere else (n3 has no
    # process left to hold a mount)
    m=$(bk_lun_mounted_on "$B3")
    [ "$m" = "$(bk_where "$B3")" ] || die "b$B3's LUN mounted on '$m', brick running on '$(bk_where "$B3")'"
    printf '    %s%d ms%s to brick b%d running on n%s (%s mounted there only, glusterfsd started):\n' \
        "$BOLD" $(( t_brick - t_kill )) "$OFF" "$B3" "$(bk_where "$B3")" "${BK_LUN[$B3]}"
    printf '      %5d ms  fence grace from the membership change: had n3 been alive and cut off,\n' "$GRACE_MS"
    printf '                 it would have lost quorum and stopped its brick by then\n'
    printf '      %5d ms  mount and start (beyond the grace)\n' $(( t_brick - t_mem - GRACE_MS ))
    cl_wait_until 60 grep -q '^RECOVER ' "$LOOP_OUT" || die "client did not recover: $(tail -n 3 "$LOOP_OUT")"
    a=$(acks); cl_wait_until 30 acks_past $(( a + 5 )) || die "client stopped writing after recovering"
    printf '    the gfapi client: %s, then writing again\n' \
        "$(client_line FAIL | awk '{ printf "first error %s (%s, retried)", $5, $3 }')"
    printf '      %5d ms  its stall (gfapi reconnects every 3 s)\n' \
        "$(client_line RECOVER | sed 's/.*stall_ms=//')"
fi
table 3
echo
step "chorusctl status on n1 after the failure"; echo
status 1 | indent
echo

# --- 4. node 3 comes back ------------------------------------------------------
step "n3 comes back (link, corosync, $([ "$GLUSTER" = 1 ] && echo "glusterd, ")chorusd) ..."
before=$(owners 1 2)
t_return=$(cl_now_ms)
[ "$GLUSTER" = 1 ] && cl_link_up 3
cl_corosync_start 3
for (( i = 1; i <= N; i++ )); do
    cl_wait_members "$i" "$N" 30 || die "n$i does not see $N members after 30 s"
done
[ "$GLUSTER" = 1 ] && { gl_start 3 || die "glusterd on n3 did not start"; }
t_start=$(cl_now_ms)
start_chorusd 3
cl_wait_until 30 balanced || die "no rebalance after 30 s: $(spread)"
after=$(owners 1 2 3)
moves=0
for a in $after; do [[ " $before " == *" $a "* ]] || moves=$(( moves + 1 ))
done
t_back=$(ms_last_vip_time_ms "$(ms_monitor_log 3)" "$(vips_on 3 | paste -sd' ')" "$t_start" 2>/dev/null) || t_back=""
ms_observer_stop
ok "VIPs rebalanced 4/4/4 with $moves moves${t_back:+, $(( t_back - t_start )) ms after chorusd started}"
if [ "$GLUSTER" = 1 ]; then
    # failback "auto": n3 gets a brick again; the move releases before it takes
    cl_wait_until 60 bk__on "$B3" 3 || die "brick b$B3 not back on n3: on '$(bk_where "$B3")'"
    t_fb=$(cl_now_ms)
    m=$(bk_lun_mounted_on "$B3")
    [ "$m" = 3 ] || die "b$B3 runs on n3 but its LUN is mounted on '$m'"
    printf '    brick b%d back on n3 %d ms after its chorusd started (released and unmounted on the survivor first)\n' \
        "$B3" $(( t_fb - t_start ))
    a=$(acks); cl_wait_until 60 acks_past $(( a + 5 )) || die "client stopped writing after the failback"
fi
table
echo

# --- 5. the client's verdict -----------------------------------------------------
if [ "$GLUSTER" = 1 ]; then
    step "the gfapi client stops and reads back every file it was told was written ..."
    : > "$CL_DIR/client/stop"
    cl_wait_until 120 grep -q '^VERIFY ' "$LOOP_OUT" || die "client did not finish: $(tail -n 3 "$LOOP_OUT")"
    n_ack=$(acks)
    verify=$(client_line VERIFY)
    # Every outage must lie in a failover window: the power loss until 10 s
    # past the takeover (gfapi's 3 s reconnect timer, TCP's backoff), or n3's
    # return until 10 s past the failback.  An error outside them, or one
    # that outlasted the client's retries (GIVEUP, UNRECOVERED), fails the
    # demo.
    bad=$(awk -v k="$t_kill" -v kb="$t_brick" -v s="$t_return" -v fb="$t_fb" '
        function inwin(t) { t *= 1000; return (t >= k && t <= kb + 10000) || (t >= s && t <= fb + 10000) }
        $1 == "GIVEUP" || $1 == "UNRECOVERED" { print; next }
        ($1 == "FAIL" || $1 == "RECOVER") && !inwin($2) { print }' "$LOOP_OUT")
    [ -z "$bad" ] || die "the client saw errors outside the failover windows: $bad"
    [ "$verify" = "VERIFY ok=$n_ack bad=0" ] ||
        die "acknowledged writes lost: $verify $(grep '^BAD ' "$LOOP_OUT" | head -n 3)"
    ok "$n_ack files acknowledged, all read back; $(grep '^LOOP ' "$LOOP_OUT" | sed 's/^LOOP //')"
    echo "    no error outside the two failover windows"
    echo
fi

# --- 6. poke at it -------------------------------------------------------------
n1=$(cl_ns 1) n2=$(cl_ns 2)
cmd() { printf '    %-58s %s# %s%s\n' "$1" "$DIM" "$2" "$OFF"; }
echo "${BOLD}Poke at it${OFF} (as root, from another terminal):"
cmd "$CTL -s $(cl_ndir 1)/chorus-run/chorusd.sock status" "the cluster as n1 sees it (also events, plan, move)"
cmd "ip -n $n1 addr show dev eth0" "n1's addresses (n2, n3 alike)"
cmd "ip netns exec $n1 corosync-quorumtool -s" "membership and quorum as n1 sees it"
if [ "$GLUSTER" = 1 ]; then
    cmd "nsenter -t $(gl_pid 1) -n -m gluster volume status $V" "glusterd's view, from n1's namespaces"
    cmd "nsenter -t $(gl_pid 1) -m findmnt -t xfs" "the LUNs mounted on n1"
fi
cmd "tail -f $CL_DIR/n1/chorusd.log" "chorusd log; corosync.log next to it"
if [ "$GLUSTER" = 1 ]; then
    # not corosync + chorusd alone: a brick whose chorusd is gone keeps
    # running, and without a watchdog the grace does not cover that
    cmd "ip -n $n2 link set eth0 down; kill -9 $(cl_corosync_pid 2) $(cl_chorusd_pid 2) $(gl_node_pids 2 | paste -sd' ')" \
        "power off n2"
else
    cmd "kill -9 $(cl_corosync_pid 2) $(cl_chorusd_pid 2)" "crash n2 (its corosync + chorusd)"
fi
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

# --- 7. teardown -----------------------------------------------------------------
step "tearing down ..."
# "PID starttime" of everything we started or that runs in our namespaces
# (the bricks, which chorusd started), to check by start time afterwards
ours=$(cat "$CL_DIR"/pids/* 2>/dev/null
       for ns in $(cl__our_netns); do
           for p in $(ip netns pids "$ns" 2>/dev/null); do echo "$p $(cl__starttime "$p")"; done
       done)
QUIET_TEARDOWN=1 cl_teardown
left=""
while read -r p st; do
    [ -n "$p" ] && cl__alive "$p" && [ "$(cl__starttime "$p")" = "$st" ] && left+=" $p($(cat "/proc/$p/comm" 2>/dev/null))"
done <<< "$ours"
[ -z "$left" ] || die "processes left behind:$left"
leftover=$(ip netns list 2>/dev/null | awk '{ print $1 }' | grep -E "^${CL_P}(sw|cl|n[0-9]+)\$")
[ -z "$leftover" ] || die "namespaces left behind: $leftover"
loops=$(losetup -n -l -O NAME,BACK-FILE 2>/dev/null | grep -F " $CL_DIR/")
[ -z "$loops" ] || die "loop devices left behind: $loops"
[ ! -e "$CL_DIR" ] || die "$CL_DIR left behind"
if [ "$GLUSTER" = 1 ]; then
    ok "processes, mounts, loop devices, namespaces and files gone"
    echo "    xfs_repair -n on each LUN once nothing had it mounted, before it was detached:"
    echo "$LUNS_CHECKED" | indent
    [ "${LUNS_OK:-0}" = 1 ] || die "a LUN's file system is damaged"
else
    ok "processes, namespaces and files gone"
fi
trap - EXIT
echo "${BOLD}demo: OK${OFF} ($(( SECONDS - T_START )) s)"
exit 0
