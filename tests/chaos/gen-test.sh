#!/bin/bash
# tests/chaos/gen-test.sh - the chaos generator without a cluster (make check).
#
# What the chaos suite promises about its schedule, checked on the model
# alone: the same seed gives the same operations, another seed others; every
# operation is valid for the model it is chosen from (nothing starts what
# runs, no operator command goes to a node outside the quorate side, no
# second partition); impairments never pile up beyond three; every kind of
# operation shows up; a "nowait" fault is followed by an operator command or
# an undo.  In brick mode (CHAOS_BRICKS > 0) also: no partition while a node
# runs corosync without chorusd, chorusd stopped only inside the quorate side,
# and the default schedule is not changed by the brick mode code.  With
# CHAOS_FENCE=ipmi those rules are off again (the schedule is the default
# one), and nodes the BMC powered off (model "power-off I", put in every
# 7th operation here) are brought back by "start-node I" and "link-up I".
set -uo pipefail
. "$(dirname "$0")/lib-model.sh"
CL_N=5 NV=20
OPS=${GEN_TEST_OPS:-400}
fail() { echo "FAIL: $*" >&2; exit 1; }

# valid MODEL-STATE OP : 0 if OP may be applied to the current model
valid() {
    local op=${1#nowait } w i
    read -r -a w <<< "$op"
    i=${w[1]:-}
    chaos_model_sets
    if [ "${CHAOS_BRICKS:-0}" -gt 0 ] && [ "${CHAOS_FENCE:-grace}" != ipmi ]; then
        case ${w[0]} in
            kill-chorusd|term-chorusd|restart-chorusd) chaos_in "$i" "$Q_SET" || return 1 ;;
            partition)
                local j
                for (( j = 1; j <= CL_N; j++ )); do [ "${CS[j]}${CD[j]}" != 10 ] || return 1; done ;;
        esac
    fi
    case ${w[0]} in
        kill-chorusd|term-chorusd|restart-chorusd|kill-corosync|restart-corosync|hang-corosync|kill-node|link-down)
            [ "${CS[i]}${CD[i]}${LK[i]}${FRZ[i]}" = 1110 ] ;;
        freeze-chorusd)
            { [ "${CHAOS_BRICKS:-0}" = 0 ] || [ "${CHAOS_FENCE:-grace}" = ipmi ]; } && [ "${CS[i]}${CD[i]}${LK[i]}${FRZ[i]}" = 1110 ] ;;
        thaw-chorusd) [ "${FRZ[i]}" = 1 ] ;;
        flap) [ "${CS[i]}${CD[i]}${LK[i]}${FRZ[i]}" = 1110 ] && [ "${w[2]}" -ge 50 ] &&
                  [ "${w[2]}" -le 1500 ] ;;
        start-chorusd) [ "${CS[i]}${CD[i]}" = 10 ] ;;
        start-corosync) [ "${CS[i]}${CD[i]}${HUNG[i]}" = 010 ] ;;
        resume-corosync) [ "${HUNG[i]}" = 1 ] ;;
        start-node) [ "${CS[i]}${CD[i]}${HUNG[i]}" = 000 ] ;;
        power-off) [ "${OFF[i]}" = 0 ] ;;
        link-up) [ "${LK[i]}" = 0 ] ;;
        partition)
            [ -z "$PART" ] || return 1
            local all
            all=$(echo "$i" | tr ',|' '\n\n' | sort -n | paste -sd' ')
            [ "$all" = "1 2 3 4 5" ] || return 1
            local a=${i%%|*}; a=${a//[^,]/}
            [ "${#a}" -le 1 ] ;;   # first half has 1 or 2 nodes
        heal) [ -n "$PART" ] ;;
        standby) chaos_in "$i" "$M_SET" && chaos_in "${w[3]}" "$M_SET" && ! chaos_in "$i" "$STANDBY" ;;
        active) chaos_in "$i" "$M_SET" && chaos_in "$i" "$STANDBY" && chaos_in "${w[3]}" "$M_SET" ;;
        move) [ "$i" -ge 0 ] && [ "$i" -lt "$NV" ] && chaos_in "${w[2]}" "$M_SET" &&
                  chaos_in "${w[4]}" "$M_SET" ;;
        unpin) [ -n "${PIN[i]:-}" ] && chaos_in "${w[3]}" "$M_SET" ;;
        flood) true ;;
        *) return 1 ;;
    esac
}

run() {                             # run SEED : prints the operations, checks each
    local k d prev_nowait=0
    chaos_model_init
    chaos_rng_seed "$1"
    CHAOS_PREV_NOWAIT=0
    for (( k = 1; k <= OPS; k++ )); do
        chaos_gen
        valid "$OP" || fail "seed $1 op $k: '$OP' is not valid for: $(chaos_model_text)"
        if [ "$prev_nowait" = 1 ]; then
            case $OP in standby*|active*|move*|unpin*|heal|link-up*|start-*|resume-*|thaw-*) ;;
                *) fail "seed $1 op $k: '$OP' after a nowait fault is neither an operator command nor an undo" ;;
            esac
        fi
        prev_nowait=0; [[ $OP == "nowait "* ]] && prev_nowait=1
        chaos_model_apply "$OP" || fail "seed $1 op $k: model cannot apply '$OP'"
        d=$(chaos_degradation)
        # GEN_POWER_OFF=1: as if a BMC powered a node off (as a fence does,
        # which may add a fourth impairment: not the generator's doing)
        if [ "${GEN_POWER_OFF:-0}" = 1 ] && [ $(( k % 7 )) = 0 ] && [ "$d" -le 2 ]; then
            local p=$(( k / 7 % CL_N + 1 ))
            if [ "${OFF[p]}" = 0 ]; then
                chaos_model_apply "power-off $p" || fail "model cannot apply 'power-off $p'"
                echo "power-off $p"
                d=$(chaos_degradation)
            fi
        fi
        [ "$d" -le 3 ] || fail "seed $1 op $k: $d impairments at once: $(chaos_model_text)"
        echo "$OP"
    done
}

a=$(run 42) || exit 1
b=$(run 42) || exit 1
c=$(run 43) || exit 1
[ "$a" = "$b" ] || fail "seed 42 gave two different schedules"
[ "$a" != "$c" ] || fail "seeds 42 and 43 gave the same schedule"
kinds=$(printf '%s\n%s\n' "$a" "$c" | sed 's/^nowait //' | awk '{ print $1 }' | sort -u | paste -sd' ')
for k in kill-chorusd term-chorusd restart-chorusd start-chorusd kill-corosync restart-corosync \
         start-corosync hang-corosync resume-corosync kill-node start-node link-down link-up partition heal standby active \
         move unpin flood freeze-chorusd thaw-chorusd flap; do
    [[ " $kinds " == *" $k "* ]] || fail "no '$k' in $((2 * OPS)) operations (saw: $kinds)"
done
grep -q '^nowait ' <<< "$a$c" || fail "no nowait fault in $((2 * OPS)) operations"
grep -A1 '^nowait ' <<< "$a" | grep -qE '^(heal|link-up|start-|resume-)' || fail "no quick undo after a nowait fault"
grep -qE '^partition [0-9]\|' <<< "$a$c" || fail "no 1|4 partition"
grep -qE '^partition [0-9],[0-9]\|' <<< "$a$c" || fail "no 2|3 partition"

bricks=$(CHAOS_BRICKS=2 run 42) || exit 1
[ "$bricks" != "$a" ] || fail "brick mode does not change the schedule (its rules are never used)"
for k in kill-chorusd restart-chorusd partition kill-node flap; do
    grep -qE "^(nowait )?$k " <<< "$bricks" || fail "no '$k' in $OPS brick-mode operations"
done
! grep -qE '^(nowait )?freeze-chorusd ' <<< "$bricks" || fail "a freeze in brick mode"
ipmi=$(CHAOS_BRICKS=2 CHAOS_FENCE=ipmi run 42) || exit 1
[ "$ipmi" = "$a" ] || fail "brick mode with ipmi fencing does not give the default schedule"
off=$(CHAOS_BRICKS=2 CHAOS_FENCE=ipmi GEN_POWER_OFF=1 run 42) || exit 1
n_off=$(grep -c '^power-off ' <<< "$off")
[ "$n_off" -ge 5 ] || fail "only $n_off power-offs in $OPS operations"
for k in start-node link-up freeze-chorusd; do
    grep -qE "^(nowait )?$k " <<< "$off" || fail "no '$k' in $OPS operations with power-offs"
done
echo "gen-test: $((6 * OPS)) operations valid (one run in brick mode, two with ipmi fencing, one of them with $n_off power-offs), seed 42 reproducible, all kinds present"
