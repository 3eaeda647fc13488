#!/bin/bash
# tests/chaos/chaos.sh - seeded, bounded faults against a 5-node cluster of
# real corosync + chorusd in network namespaces (issue 8).
#
#   CHAOS_SEED=S      PRNG seed (default: random, printed first)
#   CHAOS_FAULTS=N    operations to inject (default 60)
#   CHAOS_REPLAY=F    instead of the PRNG, replay the "chaos op" lines of a log
#   CHAOS_SETTLE_S    bound on each settle (default 60); a timeout is a violation
#   CHAOS_KEEP_GOING  1: count violations and go on instead of stopping at the first
#   CHAOS_EXPECT_VIOLATION  1: succeed only if a violation is found (self-test,
#                     with CHAOS_REPLAY=tests/chaos/selftest.ops)
#   CHAOS_OPLOG       where the replayable operation log goes
#                     (default /tmp/chaos-ops.SEED.PID.log; kept only on failure)
#   CHAOS_NV          VIPs (default 20; at most 50 with bricks)
#   CHAOS_BRICKS=N    brick mode (default 0: off): glusterd on every node, a
#                     distribute volume with N floating bricks managed by
#                     chorusd (fence mode grace), and the strict kind "brick"
#                     (tests/chaos/lib-brick.sh); CHAOS_SETTLE_S then defaults
#                     to 90 (the settle after a lost node includes the grace)
#   CHAOS_FENCE       with bricks: grace (default) or ipmi: fence mode "agent",
#                     Pacemaker's fence_ipmilan against an OpenIPMI ipmi_sim
#                     BMC per node on a management network of their own
#                     (lib-ipmi.sh); a BMC's power-off is a power loss of its
#                     node, which the model learns at every poll ("chaos
#                     power-off" lines) and undoes with start-node + link-up.
#                     The faults grace leaves out are generated again
#                     (lib-model.sh, chaos_gen); CHAOS_SETTLE_S defaults to 60
#   CHAOS_FRESH       with bricks: 1 (default) checks a brand-new gfapi client
#                     after every settle that moved a brick (lib-brick.sh)
#   CHAOS_BRICK_RELEASE_MS  bricks.release_timeout_ms (default 10000); the
#                     fence grace is the shortest the loader allows, this + 2000
#   BUILDDIR, CL_TOKEN_MS, CL_KEEP_LOGS  as in tests/integration/lib.sh
#
# Operations (one replayable line each, "chaos op K: OP"):
#   kill-chorusd I | term-chorusd I | restart-chorusd I | start-chorusd I
#   kill-corosync I | restart-corosync I | start-corosync I   (chorusd stays up)
#   hang-corosync I | resume-corosync I (SIGSTOP / SIGCONT, chorusd stays up)
#   kill-node I | start-node I          (SIGKILL corosync and chorusd together)
#   link-down I | link-up I | partition 1,2|3,4,5 | heal
#   flap I MS                           (eth0 down MS ms (50-1500), then up)
#   freeze-chorusd I | thaw-chorusd I   (SIGSTOP / SIGCONT chorusd, corosync
#                                        runs on; not in brick mode with
#                                        fence grace)
#   standby I via V | active I via V | move K I via V | unpin K via V
#   flood                               (4 clients hammer status for a while)
# "nowait OP" does not wait for the cluster to settle before the next
# operation, which is then an operator command issued during the reaction.
# With CHAOS_FENCE=ipmi the log also has "chaos power-off N: node I ..."
# lines (what the BMCs did; not replayed: a replay sees its own), and an
# operation on a node that is off by then is skipped.
#
# After every operation, at every poll until settled: no chorusd or corosync
# died that the model says runs; no address held by two nodes of one completed
# quorate view, and none held twice at all, across views either (the side
# that loses quorum lets go before the other takes; CHAOS_DUP_MAX_MS > 0
# tolerates that many ms, lib-check.sh).  Settled: every member of the quorate side (model) agrees on
# ring, generation and assignment digest, every address with an eligible node
# is up exactly on its owner and nowhere else, standby and pins are honoured,
# counts are balanced (failback auto).  Seen twice, 200 ms apart.
# Last line: chaos seed=S faults=F violations=V max_settle_ms=X
# (with CHAOS_FENCE=ipmi also power_offs=P: the BMC power-offs seen)
set -uo pipefail
CHAOS_DIR=$(cd "$(dirname "$0")" && pwd)
: "${CL_TOKEN_MS:=1000}"
: "${CHAOS_BRICKS:=0}"
: "${CHAOS_FENCE:=grace}"
[[ $CHAOS_BRICKS =~ ^[0-9]+$ ]] && [ "$CHAOS_BRICKS" -le 10 ] || { echo "CHAOS_BRICKS must be 0..10"; exit 2; }
case $CHAOS_FENCE in grace|ipmi) ;; *) echo "CHAOS_FENCE must be grace or ipmi"; exit 2 ;; esac
[ "$CHAOS_FENCE" = grace ] || [ "$CHAOS_BRICKS" -gt 0 ] || { echo "CHAOS_FENCE=ipmi needs CHAOS_BRICKS"; exit 2; }
. "$CHAOS_DIR/../integration/lib.sh"
if [ "$CHAOS_BRICKS" -gt 0 ]; then
    . "$CHAOS_DIR/../integration/lib-gluster.sh"
    . "$CHAOS_DIR/../integration/lib-bricks.sh"
    CHAOS_EXCL_KINDS="vips brick" CHAOS_STRICT_KINDS="brick"
    # a lost node's bricks wait for the fence: the grace, or detection +
    # fence_ipmilan (~1.3 s with lib-ipmi.sh's options) + the brick's start
    if [ "$CHAOS_FENCE" = ipmi ]; then
        . "$CHAOS_DIR/../integration/lib-ipmi.sh"
        : "${CHAOS_SETTLE_S:=60}"
    fi
    : "${CHAOS_SETTLE_S:=90}"
    : "${CHAOS_BRICK_RELEASE_MS:=10000}"
    BK_RELEASE_MS=$CHAOS_BRICK_RELEASE_MS
fi
. "$CHAOS_DIR/lib-model.sh"
. "$CHAOS_DIR/lib-check.sh"
cl_require_root_corosync
if [ "$CHAOS_BRICKS" -gt 0 ]; then
    . "$CHAOS_DIR/lib-brick.sh"
    # the fresh-client check counts where creates land by listing the LUNs
    [ "$BK_FSTYPE" = bind ] || CHAOS_FRESH=0
    if [ "$CHAOS_FRESH" = 1 ]; then bk_require; else bk_require noclient; fi
    [ "$CHAOS_FENCE" = grace ] || ipmi_require
fi
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "chorusd/chorusctl not built"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq needed to read status --json"; exit 77; }

: "${CHAOS_FAULTS:=60}"
: "${CHAOS_SETTLE_S:=60}"
: "${CHAOS_NV:=20}"
: "${CHAOS_KEEP_GOING:=0}"
NV=$CHAOS_NV
[ "$NV" -ge 1 ] && [ "$NV" -le 100 ] || { echo "CHAOS_NV must be 1..100"; exit 2; }
# brick addresses are .201 and up
[ "$CHAOS_BRICKS" = 0 ] || [ "$NV" -le 50 ] || { echo "CHAOS_NV must be 1..50 with bricks"; exit 2; }
if [ -z "${CHAOS_SEED:-}" ]; then
    t=${EPOCHREALTIME/[.,]/}
    CHAOS_SEED=$(( (t ^ ($$ << 16)) % 1000000000 ))
fi
[[ $CHAOS_SEED =~ ^[0-9]+$ ]] || { echo "CHAOS_SEED must be a number"; exit 2; }
: "${CHAOS_OPLOG:=/tmp/chaos-ops.$CHAOS_SEED.$$.log}"
if [ -n "${CHAOS_REPLAY:-}" ]; then
    echo "chaos: replaying $CHAOS_REPLAY (seed $CHAOS_SEED is not used)"
else
    echo "chaos: seed=$CHAOS_SEED faults=$CHAOS_FAULTS"
fi
[ "$CHAOS_BRICKS" = 0 ] || echo "chaos: brick mode, $CHAOS_BRICKS bricks, fence $CHAOS_FENCE"

CHAOS_DONE=0 CHAOS_VIOLATIONS=0 CHAOS_TRANSIENT_DUPS=0 CHAOS_MAX_DUP_MS=0 CHAOS_MAX_SETTLE=0 CHAOS_K=0
CHAOS_OP="(start)" FLOOD_PIDS=()
declare -A SETTLE_MAX=() SETTLE_N=()
: > "$CHAOS_OPLOG"

chaos_summary() {
    echo "chaos seed=$CHAOS_SEED faults=$CHAOS_K violations=$CHAOS_VIOLATIONS max_settle_ms=$CHAOS_MAX_SETTLE$(
        [ "$CHAOS_FENCE" = grace ] || echo " power_offs=${CHAOS_FENCES:-0}")"
}

chaos_replay_hint() {
    [ -n "${CHAOS_REPLAY:-}" ] ||
        echo "chaos: replay with: CHAOS_SEED=$CHAOS_SEED CHAOS_FAULTS=$CHAOS_K $0"
    echo "chaos: replay with: CHAOS_REPLAY=$CHAOS_OPLOG $0"
    echo "chaos: operations so far:"
    sed 's/^/    /' "$CHAOS_OPLOG"
}

# Every stop that is not the normal end (a harness cl_fail, a signal) still
# tells the seed, the operations and the summary.
cl_on_teardown() {
    local p
    for p in "${FLOOD_PIDS[@]+"${FLOOD_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done
    [ "$CHAOS_BRICKS" = 0 ] || chaos_brick_stop_watch
    [ "$CHAOS_DONE" = 1 ] && return 0
    echo "chaos: stopped early at op $CHAOS_K ($CHAOS_OP)"
    CHAOS_VIOLATIONS=$(( CHAOS_VIOLATIONS + 1 ))
    chaos_replay_hint
    chaos_summary
}

declare -A CHAOS_REPORTED=()
chaos_violation() {
    # going on, a condition that lasts is reported (and counted) once
    [ -z "${CHAOS_REPORTED[$*]:-}" ] || return 0
    CHAOS_REPORTED[$*]=1
    CHAOS_VIOLATIONS=$(( CHAOS_VIOLATIONS + 1 ))
    echo "chaos VIOLATION at op $CHAOS_K ($CHAOS_OP): $*"
    if [ "${CHAOS_EXPECT_VIOLATION:-0}" = 1 ]; then
        echo "chaos: a violation was expected (self-test): the checks work"
        CHAOS_DONE=1
        exit 0
    fi
    chaos_dump
    if [ "$CHAOS_KEEP_GOING" != 1 ]; then
        chaos_replay_hint
        chaos_summary
        CHAOS_DONE=1
        exit 1
    fi
}

# --- operations --------------------------------------------------------------
conf_of() { echo "$(cl_ndir "$1")/chorusd.conf"; }

# with bricks, chorusd runs in glusterd's mount namespace (lib-bricks.sh)
chaos_chorusd_start() {
    if [ "$CHAOS_BRICKS" -gt 0 ]; then bk_chorusd_start "$1" "$(conf_of "$1")"
    else cl_chorusd_start "$1" "$(conf_of "$1")"; fi
}

# Both processes get SIGKILL from one kill(1): corosync must not live long
# enough to tell the others that its chorusd left (a node crash, not a stop).
chaos_kill_node() {
    local i=$1 p q
    p=$(cl_chorusd_pid "$i") || p=""
    q=$(cl_corosync_pid "$i") || q=""
    # shellcheck disable=SC2086
    [ -z "$p$q" ] || kill -KILL $p $q 2>/dev/null
    cl_chorusd_kill "$i" KILL
    cl_corosync_kill "$i" KILL
    [ -z "$q" ] || cl__shm_cleanup "$q"
}

# Operator commands go through node V; a refusal while a round runs (or
# quorum is being decided) is retried, bounded: the commands are idempotent.
chaos_operator() {
    local via=$1; shift
    local t0 out; t0=$(cl_now_ms)
    local n
    for (( n = 0; n < 200; n++ )); do
        out=$(chaos_ctl "$via" -t 5 "$@" 2>&1) && return 0
        [ $(( $(cl_now_ms) - t0 )) -lt 20000 ] || break
        sleep 0.1
    done
    chaos_violation "operator command '$*' via node $via refused for 20 s: $out"
}

chaos_flood() {                     # 4 clients x (200 requests or 8 s), in the background
    local p c
    for p in "${FLOOD_PIDS[@]+"${FLOOD_PIDS[@]}"}"; do
        cl_wait_until 15 cl__gone "$p" || kill "$p" 2>/dev/null
    done
    FLOOD_PIDS=()
    chaos_model_sets
    local targets=${M_SET:-1 2 3 4 5}
    for (( c = 0; c < 4; c++ )); do
        (
            t_end=$(( $(cl_now_ms) + 8000 ))
            for (( r = 0; r < 200; r++ )); do
                for i in $targets; do
                    timeout 3 "$CHORUSCTL" -s "$(chaos_sock "$i")" -t 2 status --json >/dev/null 2>&1
                done
                [ "$(cl_now_ms)" -lt "$t_end" ] || break
            done
        ) &
        FLOOD_PIDS+=($!)
    done
}

# chaos_apply OP : carry out one operation on the cluster, then record it in
# the model (chaos_model_apply).  Used both for generated and for replayed
# operations, so these two functions define what an operation line means.
chaos_apply() {
    local op=$1 w
    read -r -a w <<< "$op"
    local via="" i=${w[1]:-}
    [ "${#w[@]}" -ge 3 ] && [ "${w[-2]}" = via ] && via=${w[-1]}
    # ipmi: a BMC may have powered a node off since the operation was chosen
    # (or, replaying, at another point than in the run that is replayed):
    # take that in first, and skip an operation on a node that is off
    # (except the ones that bring it back) or sent through one
    if [ "$CHAOS_FENCE" = ipmi ]; then
        chaos_fence_poll 30 || return 0
        local n=""
        case ${w[0]} in
            start-node|link-up|link-down|partition|heal|flood|sabotage-*) ;;
            *) [[ $i =~ ^[0-9]+$ ]] && [ "${OFF[i]:-0}" = 1 ] && [ -z "$via" ] && n=$i ;;
        esac
        [ -n "$via" ] && [ "${OFF[via]:-0}" = 1 ] && n=$via
        if [ -n "$n" ]; then
            echo "chaos: op $CHAOS_K ($op) skipped: node $n is powered off" | tee -a "$CHAOS_OPLOG"
            return 0
        fi
        # replaying, the power-offs may differ from the run's: an undo of
        # what a power-off already undid, or a start of what runs, is skipped
        if ! chaos_op_possible "${w[@]}"; then
            echo "chaos: op $CHAOS_K ($op) skipped: not possible now: $(chaos_model_text)" | tee -a "$CHAOS_OPLOG"
            return 0
        fi
        # what starts processes may meet the BMC: a node whose fence was
        # due (say, it left holding a brick while there was no quorum) is
        # powered off once a quorate side sees it again, before its chorusd
        # has said what it runs, so start-node can be cut short by the
        # power-off.  That is a node that did not come back, not a failure.
        case ${w[0]} in
            start-node|start-chorusd|start-corosync|restart-chorusd|restart-corosync)
                local offs a
                if [ "${w[0]}" = start-node ]; then
                    # power on: the BMC answers "on" and forgets its last power-off
                    ipmi_bmc_on "$i"
                    CHAOS_BMC_SEEN[$i]=$(chaos__bmc_offs "$i")
                fi
                offs=$(chaos__bmc_offs "$i")
                local ok=1
                ( CL_DUMP_ON_FAIL=0 GL_WAIT_S=30; chaos_do "${w[@]}" ) || ok=0
                if [ "$(chaos__bmc_offs "$i")" -gt "$offs" ]; then
                    # the power went while we were starting: what we started
                    # after the BMC's kills must not run on either
                    cl_wait_until 30 test -s "$CL_DIR/bmc$i/off.ms"
                    bk_node_down "$i"
                    for a in $(cl_vips_on "$i"); do
                        ip -n "$(cl_ns "$i")" addr del "$a/$CL_PREFIXLEN" dev eth0 2>/dev/null
                    done
                    echo "chaos: op $CHAOS_K ($op) cut short: node $i's BMC powered it off meanwhile" |
                        tee -a "$CHAOS_OPLOG"
                elif [ "$ok" = 0 ]; then
                    cl_fail "op $CHAOS_K ($op) failed"
                fi
                chaos_model_apply "$op"
                chaos_fence_poll 30
                return 0 ;;
        esac
    fi
    chaos_do "${w[@]}"
    chaos_model_apply "$op"
}

# chaos_op_possible WORDS... : the operation fits the model (as the
# generator's choices always do)
chaos_op_possible() {
    local i=${2:-}
    case $1 in
        start-node) [ "${CS[i]}${CD[i]}" = 00 ] && [ "${HUNG[i]}" = 0 ] ;;
        start-chorusd) [ "${CS[i]}${CD[i]}" = 10 ] ;;
        start-corosync) [ "${CS[i]}${CD[i]}${HUNG[i]}" = 010 ] ;;
        resume-corosync) [ "${HUNG[i]}" = 1 ] ;;
        thaw-chorusd) [ "${FRZ[i]}" = 1 ] ;;
        kill-chorusd|term-chorusd|restart-chorusd|kill-corosync|restart-corosync|hang-corosync|kill-node|freeze-chorusd|flap)
            [ "${CS[i]}${CD[i]}${FRZ[i]}" = 110 ] ;;
        *) true ;;
    esac
}

# chaos_do WORDS... : carry out one operation (its words, "nowait" removed)
chaos_do() {
    local w=("$@")
    local via="" i=${w[1]:-}
    [ "${#w[@]}" -ge 3 ] && [ "${w[-2]}" = via ] && via=${w[-1]}
    case ${w[0]} in
        kill-chorusd) cl_chorusd_kill "$i" KILL ;;
        term-chorusd) cl_chorusd_kill "$i" TERM ;;
        restart-chorusd) cl_chorusd_kill "$i" KILL; chaos_chorusd_start "$i" ;;
        start-chorusd) chaos_chorusd_start "$i" ;;
        kill-corosync) cl_corosync_kill "$i" KILL ;;
        # a hung corosync: chorusd gets no hang-up and must notice by itself
        hang-corosync) kill -STOP "$(cl_corosync_pid "$i")" ;;
        resume-corosync) kill -CONT "$(cl_corosync_pid "$i")" ;;
        restart-corosync) cl_corosync_kill "$i" KILL; cl_corosync_start "$i" 20 ;;
        start-corosync) cl_corosync_start "$i" 20 ;;
        kill-node)
            if [ "$CHAOS_BRICKS" -gt 0 ]; then chaos_brick_kill_node "$i"; else chaos_kill_node "$i"; fi ;;
        start-node)
            if [ "$CHAOS_BRICKS" -gt 0 ]; then chaos_brick_start_node "$i"
            else cl_corosync_start "$i" 20; cl_chorusd_start "$i" "$(conf_of "$i")"; fi ;;
        link-down) cl_link_down "$i" ;;
        link-up) cl_link_up "$i" ;;
        # a frozen daemon (SIGSTOP) while its corosync runs on: the others
        # must notice, take its addresses once they expired, never before
        freeze-chorusd) kill -STOP "$(cl_chorusd_pid "$i")" ;;
        thaw-chorusd) kill -CONT "$(cl_chorusd_pid "$i")" ;;
        flap) cl_link_down "$i"; sleep "$(printf '%d.%03d' $(( w[2] / 1000 )) $(( w[2] % 1000 )))"
              cl_link_up "$i" ;;
        partition) cl_partition "$(echo "${i%%|*}" | tr , ' ')" "$(echo "${i#*|}" | tr , ' ')" ;;
        heal) cl_heal ;;
        standby|active) chaos_operator "$via" "${w[0]}" "$i" ;;
        move) chaos_operator "$via" move "$(cl_vip_addr "$i" "$NV" | cut -d/ -f1)" "${w[2]}" ;;
        unpin) chaos_operator "$via" unpin "$(cl_vip_addr "$i" "$NV" | cut -d/ -f1)" ;;
        flood) chaos_flood ;;
        # never generated: plants VIP K on node I behind chorusd's back, to
        # show that the checks catch a double holding.  As a /32, which no
        # reconcile of the configured /24 would remove, so the plant stays.
        sabotage-dup)
            local a; a=$(cl_vip_addr "$i" "$NV")
            ip -n "$(cl_ns "${w[2]}")" addr add "${a%/*}/32" dev eth0 ;;
        sabotage-brick)
            [ "$CHAOS_BRICKS" -gt 0 ] || { echo "chaos: sabotage-brick needs CHAOS_BRICKS"; exit 2; }
            chaos_brick_sabotage "$i" ;;
        *) echo "chaos: unknown operation '${w[*]}'"; exit 2 ;;
    esac
}

# chaos_settle : poll (bounded) until settled twice in a row; check the
# always-invariants at every poll.  Sets SETTLE_MS.
chaos_settle() {
    local t0 now n ok_since=""
    t0=$(cl_now_ms)
    local max=$(( CHAOS_SETTLE_S * 20 + 10 ))
    for (( n = 0; n < max; n++ )); do
        chaos_observe
        chaos_check_always || [ "$CHAOS_KEEP_GOING" = 1 ] || return 1
        now=$(cl_now_ms)
        if chaos_check_settled; then
            if [ -n "$ok_since" ] && [ $(( now - ok_since )) -ge 200 ]; then
                SETTLE_MS=$(( ok_since - t0 ))
                return 0
            fi
            [ -n "$ok_since" ] || ok_since=$now
        else
            ok_since=""
        fi
        [ $(( now - t0 )) -lt $(( CHAOS_SETTLE_S * 1000 )) ] || break
        sleep 0.1
    done
    chaos_violation "not settled after ${CHAOS_SETTLE_S} s: $WHY"
    return 1
}

# --- the run -------------------------------------------------------------------
cl_init chaos 5
for (( i = 1; i <= CL_N; i++ )); do cl_corosync_start "$i" 20; done
cl_wait_members 1 "$CL_N" 60 || cl_fail "corosync did not form a $CL_N-node ring"
if [ "$CHAOS_BRICKS" -gt 0 ]; then
    chaos_brick_setup "$CHAOS_BRICKS" $(( CHAOS_BRICK_RELEASE_MS + 2000 ))
    CHAOS_IPMI_PW="pw-$$"
    [ "$CHAOS_FENCE" = grace ] || chaos_ipmi_setup "$CHAOS_IPMI_PW"
    cl_log "volume $V with $CHAOS_BRICKS floating bricks handed to chorusd, fence grace $CHAOS_BRICK_GRACE_MS ms"
fi
for (( i = 1; i <= CL_N; i++ )); do
    cl_write_chorus_conf "$i" "$(conf_of "$i")" "$NV"
    # shortest grace the loader allows (lifetime 2 s + 2 s): a dead daemon's
    # addresses move after 4 s, which keeps a 60-fault run within minutes
    sed -i -e 's/"level":"debug"/"level":"info"/' \
        -e 's/"restart_grace_ms":[0-9]*/"restart_grace_ms":4000/' "$(conf_of "$i")"
    [ "$CHAOS_BRICKS" = 0 ] || chaos_brick_conf "$(conf_of "$i")"
    chaos_chorusd_start "$i"
done
# the BMCs once no startup fence runs (ipmi_bmcs_start says why)
[ "$CHAOS_FENCE" = grace ] || { ipmi_bmcs_start "$CHAOS_IPMI_PW"; cl_log "a BMC per node at $(ipmi__host):6231-623$CL_N, fence_ipmilan"; }
chaos_model_init
chaos_rng_seed "$CHAOS_SEED"
chaos_settle || exit 1
LAST_SETTLED_K=0
cl_log "initial settle after $SETTLE_MS ms: $(chaos_model_text)${CHAOS_SETTLED_MORE:+ bricks: $CHAOS_SETTLED_MORE}"
[ "$CHAOS_BRICKS" = 0 ] || chaos_brick_fresh_setup

replay_ops=()
if [ -n "${CHAOS_REPLAY:-}" ]; then
    mapfile -t replay_ops < <(sed -n 's/^.*chaos op [0-9]*: //p' "$CHAOS_REPLAY")
    CHAOS_FAULTS=${#replay_ops[@]}
fi
t_run=$(cl_now_ms)
for (( CHAOS_K = 1; CHAOS_K <= CHAOS_FAULTS; CHAOS_K++ )); do
    # (ipmi: the generator chooses from a model that has every power-off so far)
    [ "$CHAOS_FENCE" = grace ] || chaos_fence_poll 30 || continue
    if [ -n "${CHAOS_REPLAY:-}" ]; then OP=${replay_ops[CHAOS_K - 1]}; else chaos_gen; fi
    CHAOS_OP=$OP
    echo "chaos op $CHAOS_K: $OP" >> "$CHAOS_OPLOG"
    cl_log "chaos op $CHAOS_K: $OP"
    nowait=0
    if [[ $OP == "nowait "* ]]; then nowait=1; OP=${OP#nowait }; fi
    # an in-place restart (inside the grace) must move nothing: compare with
    # the assignment the previous operation settled on
    before="" ring_before=""
    [ "${OP%% *}" = restart-chorusd ] && [ "$nowait" = 0 ] &&
        [ "$LAST_SETTLED_K" = $(( CHAOS_K - 1 )) ] && before=$LAST_OWNERS &&
        ring_before=$(chaos_rings)
    chaos_apply "$OP"
    if [ "$nowait" = 1 ]; then
        chaos_observe; chaos_check_always
        continue
    fi
    chaos_settle || continue
    LAST_SETTLED_K=$CHAOS_K
    # ... unless corosync itself changed the membership meanwhile (a chorusd
    # restart never changes the ring): a knet link left asymmetric by an
    # earlier flap can split the ring seconds later, and then addresses move
    # for that partition, as they must
    if [ -n "$before" ] && [ "$before" != "$LAST_OWNERS" ] && [ "$(chaos_rings)" != "$ring_before" ]; then
        cl_log "addresses moved during the restart, but corosync's ring changed meanwhile ($ring_before -> $(chaos_rings)): not the restart's doing"
    elif [ -n "$before" ] && [ "$before" != "$LAST_OWNERS" ]; then
        chaos_violation "restart of chorusd inside the grace moved addresses: [$before] -> [$LAST_OWNERS]"
        continue
    fi
    kind=${OP%% *}
    [ "$SETTLE_MS" -gt "$CHAOS_MAX_SETTLE" ] && CHAOS_MAX_SETTLE=$SETTLE_MS
    [ "$SETTLE_MS" -gt "${SETTLE_MAX[$kind]:-0}" ] && SETTLE_MAX[$kind]=$SETTLE_MS
    SETTLE_N[$kind]=$(( ${SETTLE_N[$kind]:-0} + 1 ))
    cl_log "settled in $SETTLE_MS ms: $(chaos_model_text)${CHAOS_SETTLED_MORE:+ bricks: $CHAOS_SETTLED_MORE}"
    [ "$CHAOS_BRICKS" = 0 ] || chaos_brick_fresh_check
done
CHAOS_K=$(( CHAOS_K - 1 ))
for kind in $(printf '%s\n' "${!SETTLE_N[@]}" | sort); do
    echo "chaos: $kind x${SETTLE_N[$kind]} max_settle_ms=${SETTLE_MAX[$kind]}"
done
echo "chaos: $(( ($(cl_now_ms) - t_run) / 1000 )) s; addresses held twice across views (release windows): $CHAOS_TRANSIENT_DUPS, longest seen ${CHAOS_MAX_DUP_MS} ms"
if [ "$CHAOS_BRICKS" -gt 0 ]; then
    chaos_brick_stop_watch
    chaos_always_brick
    echo "chaos: brick watcher: $(wc -l < "$BK_WATCH_OUT.all") samples every ${CHAOS_BRICK_SAMPLE_S} s, doubles: $(wc -l < "$BK_WATCH_OUT")"
    if [ "$CHAOS_FENCE" = ipmi ]; then
        f_ok=0
        for (( i = 1; i <= CL_N; i++ )); do
            f_ok=$(( f_ok + $(chaos__bmc_offs "$i") ))
        done
        echo "chaos: fence_ipmilan: $CHAOS_FENCES power-offs seen by the driver, $f_ok 'power off' commands the BMCs got"
    fi
    [ "$CHAOS_FRESH" = 0 ] ||
        echo "chaos: fresh clients: $CHAOS_FRESH_RUNS after the bricks moved, $CHAOS_FRESH_RETRIES retries, $CHAOS_FRESH_SKIPPED placements no client could reach"
fi
CHAOS_DONE=1
if [ "$CHAOS_VIOLATIONS" -gt 0 ]; then chaos_replay_hint; else rm -f "$CHAOS_OPLOG"; fi
chaos_summary
if [ "${CHAOS_EXPECT_VIOLATION:-0}" = 1 ]; then
    echo "chaos: self-test FAILED: the planted fault went unnoticed"
    exit 1
fi
[ "$CHAOS_VIOLATIONS" -eq 0 ]
