# shellcheck shell=bash
# tests/chaos/lib-brick.sh - the chaos suite's brick mode (CHAOS_BRICKS=N):
# Gluster bricks as the strict exclusive kind "brick".  Sourced by chaos.sh
# after lib-check.sh, and only when N > 0, so without it nothing changes.
#
# glusterd runs on every node; the distribute volume has N bricks on floating
# addresses (tests/integration/lib-bricks.sh), chorusd runs in glusterd's
# mount namespace with fence mode "grace".  A brick runs on a node when its
# glusterfsd pidfile in that node's /run names a live process inside that
# node's network namespace (bk_pid).
#
# Never: one brick running on two nodes, neither at a poll (lib-check.sh,
# strict kind) nor in the samples of a background watcher (bk_watch, every
# CHAOS_BRICK_SAMPLE_S, default 0.05 s), which sees doubles shorter than a poll.
# Settled: with a quorate side that has a daemon, each brick runs exactly once
# (unless every member is in standby), on an eligible member that owns its
# address in the table and holds it in the kernel, or still on a member of the
# quorate side whose chorusd is down (its bricks keep running without the
# daemon: the restart grace keeps them accounted to it); without one, a brick
# runs only where no chorusd could stop it.
#
# CHAOS_FENCE=ipmi: fence mode "agent", Pacemaker's fence_ipmilan against an
# OpenIPMI ipmi_sim BMC per node (tests/integration/lib-ipmi.sh), on a
# management network of their own.  A BMC's power-off is a power loss of its
# node (processes, link, addresses); the driver sees it in bmcI/off.ms at
# every poll (chaos_fence_poll), logs it as a "chaos power-off" line and
# records it in the model, and brings the node back later with "start-node
# I" (power on, then its processes) and "link-up I".  Settled then also
# needs: no brick on a node whose chorusd is down while a quorate side has a
# daemon (the survivors fence that node: after the restart grace, or at
# once if it left the ring), no member running a fence, none showing a node
# "lost" (left the ring with bricks, not yet fenced).

: "${CHAOS_BRICK_SAMPLE_S:=0.05}"
BK_WATCH_PID=""

# brick addresses are checked with their bricks, not as VIPs
chaos_held_vips() {
    local a k skip
    for a in $(cl_vips_on "$1"); do
        skip=0
        for (( k = 1; k <= BK_NB; k++ )); do [ "$a" != "${BK_VIP[$k]}" ] || skip=1; done
        [ "$skip" = 1 ] || echo "$a"
    done
}

chaos_held_brick() {
    local k
    for (( k = 1; k <= BK_NB; k++ )); do bk__runs "$1" "$k" && echo "b$k"; done
    return 0
}

# chaos_brick_setup NB GRACE_MS : glusterd, pool, volume, then the watcher
# (chorusd is started by chaos.sh with chaos_brick_conf added to its config)
chaos_brick_setup() {
    bk_gluster_setup "$1"
    CHAOS_BRICK_GRACE_MS=$2
    BK_WATCH_OUT=$CL_DIR/brick-watch
    : > "$BK_WATCH_OUT"
    bk_watch "$BK_WATCH_OUT" "$CHAOS_BRICK_SAMPLE_S" 1000000 &
    BK_WATCH_PID=$!
    cl__record brickwatch "$BK_WATCH_PID"
}

chaos_brick_stop_watch() {
    [ -n "$BK_WATCH_PID" ] || return 0
    kill "$BK_WATCH_PID" 2>/dev/null
    cl_wait_until 10 cl__gone "$BK_WATCH_PID"
    BK_WATCH_PID=""
}

# chaos_brick_conf FILE : add the bricks and fence members to a chaos config
# (whose last line is its "log" member)
chaos_brick_conf() {
    local f=$1
    { head -n -1 "$f"; printf '%s,\n' "$(bk_conf_bricks "$CHAOS_BRICK_GRACE_MS")"; tail -n 1 "$f"; } > "$f.new" &&
        mv "$f.new" "$f"
}

# A node that crashes loses its processes, its mounts (they live in glusterd's
# mount namespace) and the addresses on its interfaces.  All processes get
# SIGKILL from one kill(1), as in chaos_kill_node.
chaos_brick_kill_node() {
    local i=$1 p q g
    p=$(cl_chorusd_pid "$i") || p=""
    q=$(cl_corosync_pid "$i") || q=""
    g=$(gl_node_pids "$i" | paste -sd' ')
    # shellcheck disable=SC2086
    [ -z "$p$q$g" ] || kill -KILL $p $q $g 2>/dev/null
    cl_chorusd_kill "$i" KILL
    cl_corosync_kill "$i" KILL
    gl_node_kill "$i" KILL || cl_fail "node $i: gluster processes survived SIGKILL"
    [ -z "$q" ] || cl__shm_cleanup "$q"
    local a
    for a in $(cl_vips_on "$i"); do
        ip -n "$(cl_ns "$i")" addr del "$a/$CL_PREFIXLEN" dev eth0 2>/dev/null
    done
}

chaos_brick_start_node() {    # (with CHAOS_FENCE=ipmi, chaos_apply powers it on first)
    cl_corosync_start "$1" 20
    gl_start "$1"
    bk_chorusd_start "$1" "$(conf_of "$1")"
}

# the watcher's verdict, at every poll
chaos_always_brick() {
    [ -s "$BK_WATCH_OUT" ] || return 0
    chaos_violation "brick on two nodes at once (watcher, every ${CHAOS_BRICK_SAMPLE_S} s): $(head -n 1 "$BK_WATCH_OUT")"
    return 1
}

# --- fence mode agent: fence_ipmilan against a BMC per node ------------------
CHAOS_FENCES=0
declare -A CHAOS_BMC_SEEN=()       # "set power 0" calls of a BMC already accounted

# chaos_ipmi_setup PASSWORD : the management network and the fence config
# (before chaos_brick_conf writes it into chorus.json)
chaos_ipmi_setup() {
    ipmi_mgmt_net
    ipmi_fence_config "$1"
}

chaos__bmc_offs() { local n; n=$(grep -c 'set power 0' "$CL_DIR/bmc$1/calls" 2>/dev/null); echo "${n:-0}"; }

# chaos__bmc_busy I : node I's BMC was told to power it off after the
# driver last powered it on (and may still be at it)
chaos__bmc_busy() { [ "$(chaos__bmc_offs "$1")" -gt "${CHAOS_BMC_SEEN[$1]:-0}" ]; }

# chaos_fence_poll [WAIT_S] : take in every power-off a BMC did since the
# last poll; with WAIT_S, also wait (bounded) for one under way to finish
chaos_fence_poll() {
    local wait=${1:-0} i b
    for (( i = 1; i <= CL_N; i++ )); do
        [ "${OFF[i]}" = 0 ] || continue
        b=$CL_DIR/bmc$i
        if [ ! -s "$b/off.ms" ]; then
            chaos__bmc_busy "$i" && [ "$wait" -gt 0 ] || continue
            cl_wait_until "$wait" test -s "$b/off.ms" || {
                chaos_violation "node $i: its BMC was told to power it off and did not within $wait s: $(tail -n 3 "$b/off.log" 2>/dev/null | tr '\n' '|')"
                return 1
            }
        fi
        CHAOS_BMC_SEEN[$i]=$(chaos__bmc_offs "$i")
        CHAOS_FENCES=$(( CHAOS_FENCES + 1 ))
        chaos_model_apply "power-off $i"
        echo "chaos power-off $CHAOS_FENCES: node $i by its BMC at op $CHAOS_K ($(( $(cat "$b/off.ms") - ${t_run:-0} )) ms into the run)" |
            tee -a "$CHAOS_OPLOG"
        cl_log "chaos power-off: node $i (fenced through its BMC): $(chaos_model_text)"
    done
    return 0
}
chaos_observe_more() { [ "$CHAOS_FENCE" != ipmi ] || chaos_fence_poll 0; }

# chaos_death_explained I : a process of node I that the model says runs is
# gone: was it its BMC?  (It kills them before it writes off.ms.)
chaos_death_explained() {
    [ "$CHAOS_FENCE" = ipmi ] || return 1
    chaos__bmc_busy "$1" || [ -s "$CL_DIR/bmc$1/off.ms" ] || return 1
    chaos_fence_poll 30 || return 1
    [ "${OFF[$1]}" = 1 ]
}

# chaos_settled_fence : with CHAOS_FENCE=ipmi, no fence under way or due
# (see the top of this file); WHY otherwise
chaos_settled_fence() {
    local i f
    [ "$CHAOS_FENCE" = ipmi ] && [ -n "$M_SET" ] || return 0
    for i in $M_SET; do
        IFS=$'\t' read -r -a f <<< "${ST[i]}"
        [ "${f[9]:-0}" = 0 ] || { WHY="node $i is fencing node ${f[9]}"; return 1; }
        [[ " ${f[7]} " != *"=lost "* ]] || { WHY="node $i shows a node lost, not yet fenced: ${f[7]}"; return 1; }
    done
    for (( i = 1; i <= CL_N; i++ )); do
        ! chaos__bmc_busy "$i" || [ "${OFF[i]}" = 1 ] || { WHY="node $i's BMC is powering it off"; return 1; }
    done
    return 0
}

# chaos_settled_brick : see the top of this file.  Reads ST, HELD_brick and the
# model sets (chaos_check_settled computed them); sets WHY when not settled and
# CHAOS_SETTLED_MORE to "bK=NODE ..." for the restart check.
chaos_settled_brick() {
    local k i x w f a rest own st
    local -A xown=()
    CHAOS_SETTLED_MORE=""
    chaos_settled_fence || return 1
    if [ -n "$M_SET" ]; then
        i=${M_SET%% *}
        IFS=$'\t' read -r -a f <<< "${ST[i]}"
        for a in ${f[8]:-}; do xown[${a%%=*}]=${a#*=}; done
    fi
    for (( k = 1; k <= BK_NB; k++ )); do
        w=""
        for (( i = 1; i <= CL_N; i++ )); do
            [[ ${HELD_brick[i]} == *" b$k "* ]] && w+="$i "
        done
        w=${w% }
        if [ -z "$M_SET" ]; then
            for x in $w; do
                [ "${CD[x]}" = 0 ] || { WHY="b$k runs on node $x with no quorate daemon"; return 1; }
            done
            continue
        fi
        if [ -z "$w" ]; then
            [ -z "$E_SET" ] || { WHY="b$k runs nowhere, eligible [$E_SET]"; return 1; }
            continue
        fi
        [[ $w != *" "* ]] || { WHY="b$k runs on nodes $w"; return 1; }
        x=$w
        CHAOS_SETTLED_MORE+="b$k=$x "
        if [ "${CD[x]}" = 0 ]; then
            [ "$CHAOS_FENCE" != ipmi ] || { WHY="b$k on node $x, whose chorusd is down: the survivors must fence it"; return 1; }
            chaos_in "$x" "$Q_SET" || { WHY="b$k on node $x: no daemon, not in the quorate side [$Q_SET]"; return 1; }
            continue
        fi
        chaos_in "$x" "$E_SET" || { WHY="b$k on node $x, not eligible [$E_SET]"; return 1; }
        rest=${xown[${BK_VIP[$k]}]:-}
        own=${rest%%:*} st=${rest#*:}
        [ "$own" = "$x" ] && [ "$st" != moving ] ||
            { WHY="b$k runs on node $x, table says ${BK_VIP[$k]}=${rest:-none}"; return 1; }
        for (( i = 1; i <= CL_N; i++ )); do
            if cl_vips_on "$i" | grep -qxF -- "${BK_VIP[$k]}"; then
                [ "$i" = "$x" ] || { WHY="b$k on node $x, its address on node $i"; return 1; }
            else
                [ "$i" != "$x" ] || { WHY="b$k on node $x without its address"; return 1; }
            fi
        done
    done
    return 0
}

# chaos_brick_sabotage K : never generated (self-test, selftest-brick.ops):
# behind chorusd's back, a process in the netns of the lowest node that does
# not run brick K, with that node's pidfile for brick K naming it, as if the
# brick had been started there too.  The checks must call it a double.
chaos_brick_sabotage() {
    local k=$1 i pid
    for (( i = 1; i <= CL_N; i++ )); do bk__runs "$i" "$k" || break; done
    [ "$i" -le "$CL_N" ] || cl_fail "sabotage: brick $k runs on every node already"
    ip netns exec "$(cl_ns "$i")" sleep 600 </dev/null >/dev/null 2>&1 &
    pid=$!
    cl__record "sabotage.$k" "$pid"
    cl_wait_until 5 bk__in_ns "$pid" "$i" || cl_fail "sabotage: no process in node $i's netns"
    mkdir -p "$(dirname "$(cl_ndir "$i")${BK_PIDF[$k]}")"
    echo "$pid" > "$(cl_ndir "$i")${BK_PIDF[$k]}"
    cl_log "sabotage: brick $k planted on node $i (pid $pid)"
}
bk__in_ns() { [ "/proc/$1/ns/net" -ef "/run/netns/${CL_P}n$2" ]; }

# --- a fresh client after every takeover ----------------------------------------
# After each settle that left the bricks somewhere new, a brand-new gfapi
# client must read every file written at the start and create 24 files that
# land on every brick (bk_new_client: what a restarted NFS-Ganesha, a VDI
# host that rebooted or a new mount meets).  Only where a client could: the
# quorate side is on the client's half of the switch, every brick runs, and
# on a node whose chorusd runs (a brick left on a node whose daemon is down
# keeps running, but its address lapses with the daemon).  Three tries 3 s
# apart, as in brick-newclient.sh: a brick just started may not have signed
# in to the port mapper yet; the failure this checks for lasts a minute or
# more.  CHAOS_FRESH=0 turns it off.
: "${CHAOS_FRESH:=1}"
CHAOS_FRESH_LAST="" CHAOS_FRESH_RUNS=0 CHAOS_FRESH_RETRIES=0 CHAOS_FRESH_SKIPPED=0

# chaos_brick_fresh_setup : the files every fresh client reads back
chaos_brick_fresh_setup() {
    [ "$CHAOS_FRESH" = 1 ] || return 0
    cl_wait_until 60 bk_usable || cl_fail "fresh client: the volume is not usable by a new client"
    GL_CLIENT_TIMEOUT_S=90 gl_client "$V" -p pre- write 40 > "$CL_DIR/fresh-pre" 2> "$CL_DIR/fresh-pre.err"
    [ "$(grep -c '^ACK ' "$CL_DIR/fresh-pre")" = 40 ] ||
        cl_fail "fresh client: $(grep -c '^ACK ' "$CL_DIR/fresh-pre")/40 initial writes"
    CHAOS_FRESH_LAST=$CHAOS_SETTLED_MORE
    cl_log "fresh client: 40 files written for every fresh client to read back"
}

# chaos_brick_fresh_check : after a settle (CHAOS_SETTLED_MORE "bK=NODE ...")
chaos_brick_fresh_check() {
    [ "$CHAOS_FRESH" = 1 ] || return 0
    local more=$CHAOS_SETTLED_MORE x q a servers="" k
    [ "$more" != "$CHAOS_FRESH_LAST" ] || return 0
    chaos_model_sets
    q=${Q_SET%% *}
    if [ "$(wc -w <<< "$more")" != "$BK_NB" ] || [ -z "$q" ] || [ "${GRP[q]}" != 0 ]; then
        CHAOS_FRESH_SKIPPED=$(( CHAOS_FRESH_SKIPPED + 1 ))
        return 0
    fi
    for x in $more; do
        x=${x#*=}
        [ "${CD[x]}" = 1 ] && [ "${FRZ[x]}" = 0 ] || { CHAOS_FRESH_SKIPPED=$(( CHAOS_FRESH_SKIPPED + 1 )); return 0; }
    done
    CHAOS_FRESH_LAST=$more
    CHAOS_FRESH_RUNS=$(( CHAOS_FRESH_RUNS + 1 ))
    # volfile from the glusterds behind the brick addresses: a node that is
    # down or cut off first in the list would cost TCP's connect timeout
    for (( k = 1; k <= BK_NB; k++ )); do servers+="${servers:+,}${BK_VIP[$k]}"; done
    for (( a = 1; a <= 3; a++ )); do
        GL_SERVERS=$servers bk_new_client "$CL_DIR/fresh-pre" "fresh$CHAOS_K$( [ "$a" = 1 ] || echo "-t$a")" 24 && break
        if [ "$a" = 3 ]; then
            chaos_violation "a fresh client after the bricks moved to [${more% }]: $BK_NEW_WHY (3 tries, 3 s apart)"
            return 1
        fi
        CHAOS_FRESH_RETRIES=$(( CHAOS_FRESH_RETRIES + 1 ))
        cl_log "fresh client, try $a: $BK_NEW_WHY; again in 3 s"
        sleep 3
    done
    cl_log "fresh client after the bricks moved to [${more% }]: $BK_NEW_INFO"
}
