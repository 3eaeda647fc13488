# shellcheck shell=bash
# tests/chaos/lib-model.sh - the chaos driver's model of the cluster and its
# seeded fault generator.  Sourced by tests/chaos/chaos.sh.
#
# The model is what the driver did, not what the cluster did: which processes
# run, which links are up, how the switch is split, what the operator asked.
# From it follow the sets a settled cluster must show:
#   component  nodes whose corosync runs with eth0 up, on the same switch half
#   Q          the component with a majority of corosync votes (3 of 5), if any
#   M          members of Q whose chorusd runs: they alone may hold addresses
#   E          M minus the operator's standby nodes: eligible for placement
# The generator chooses each operation from the model alone (never from
# timing or observations), so one seed always yields the same operations; each
# operation is one replayable line (see chaos_apply in chaos.sh).

# --- PRNG: xorshift32 over bash's 64-bit arithmetic, identical on every bash --
chaos_rng_seed() {                  # chaos_rng_seed SEED (any non-negative integer)
    local k
    CHAOS_RNG=$(( ($1 * 2654435761 + 0x9e3779b9) & 0xffffffff ))
    [ "$CHAOS_RNG" -ne 0 ] || CHAOS_RNG=1
    for (( k = 0; k < 8; k++ )); do chaos_rng_next; done
}
chaos_rng_next() {                  # advances CHAOS_RNG (result in CHAOS_RNG)
    local x=$CHAOS_RNG
    x=$(( (x ^ (x << 13)) & 0xffffffff ))
    x=$(( x ^ (x >> 17) ))
    x=$(( (x ^ (x << 5)) & 0xffffffff ))
    CHAOS_RNG=$x
}
chaos_rand() {                      # chaos_rand N : R = uniform-ish in [0, N)
    chaos_rng_next
    R=$(( CHAOS_RNG % $1 ))
}
chaos_pick() {                      # chaos_pick WORDS... : R = one of them
    local a=("$@")
    chaos_rand "${#a[@]}"
    R=${a[$R]}
}

# --- model state ------------------------------------------------------------
# CS[i] corosync runs (and answers: a SIGSTOPped one does not, HUNG[i]=1),
# CD[i] chorusd runs (FRZ[i]=1: it is SIGSTOPped, frozen, while its corosync
# runs on), LK[i] eth0 up, GRP[i] switch half
# (0 = main bridge), PART the split as "1,2|3,4,5" or "", STANDBY " 2 4 ",
# PIN[k] node VIP k is pinned to, OFF[i]=1 its BMC powered it off
# (CHAOS_FENCE=ipmi; until "start-node I" powers it on again).
#
# A power-off is the one change the driver does not make itself: the
# survivors' fence_ipmilan makes it, through node I's BMC, whenever chorusd
# decides to fence I.  lib-brick.sh sees it in the BMC's bmcI/off.ms at
# every poll and records it as "power-off I" (chaos_model_apply): from then
# on node I is down, processes and link, as after a power loss, and the
# generator brings it back with "start-node I" and "link-up I".  So with
# ipmi fencing the operations also depend on what chorusd fenced (its
# placement of the bricks), not on the seed alone: the op log replays a
# run, and a replayed operation on a node that is powered off by then is
# skipped (chaos_apply).
chaos_model_init() {
    local i
    CS=() CD=() LK=() GRP=() PIN=() HUNG=() FRZ=() OFF=()
    for (( i = 1; i <= CL_N; i++ )); do CS[i]=1 CD[i]=1 LK[i]=1 GRP[i]=0 HUNG[i]=0 FRZ[i]=0 OFF[i]=0; done
    PART="" STANDBY=" "
}

# chaos_model_sets : Q_SET, M_SET, E_SET, F_SET (space separated, sorted) from
# the model.  F_SET: frozen daemons in the quorate group; they stay in the CPG
# view (their IPC connection is open) unless corosync gives up on them.
chaos_model_sets() {
    local i g votes=() qg=""
    for (( i = 1; i <= CL_N; i++ )); do
        [ "${CS[i]}" = 1 ] && [ "${LK[i]}" = 1 ] || continue
        g=${GRP[i]}; votes[g]=$(( ${votes[g]:-0} + 1 ))
    done
    for g in "${!votes[@]}"; do [ "${votes[g]}" -gt $(( CL_N / 2 )) ] && qg=$g; done
    Q_SET="" M_SET="" E_SET="" F_SET=""
    [ -n "$qg" ] || return 0
    for (( i = 1; i <= CL_N; i++ )); do
        [ "${CS[i]}" = 1 ] && [ "${LK[i]}" = 1 ] && [ "${GRP[i]}" = "$qg" ] || continue
        Q_SET+="$i "
        [ "${CD[i]}" = 1 ] && [ "${FRZ[i]}" = 1 ] && F_SET+="$i "
        [ "${CD[i]}" = 1 ] && [ "${FRZ[i]}" = 0 ] || continue
        M_SET+="$i "
        [[ $STANDBY == *" $i "* ]] || E_SET+="$i "
    done
    Q_SET=${Q_SET% } M_SET=${M_SET% } E_SET=${E_SET% } F_SET=${F_SET% }
}

chaos_in() { [[ " $2 " == *" $1 "* ]]; }    # chaos_in X "SET"

chaos_model_text() {                # one line: what the model says, for logs and dumps
    local i s=""
    for (( i = 1; i <= CL_N; i++ )); do
        s+="n$i:"
        if [ "${HUNG[i]}" = 1 ]; then s+="H"; elif [ "${CS[i]}" = 1 ]; then s+="C"; else s+="c"; fi
        if [ "${FRZ[i]}" = 1 ]; then s+="F"; elif [ "${CD[i]}" = 1 ]; then s+="D"; else s+="d"; fi
        [ "${LK[i]}" = 1 ] && s+="L" || s+="l"
        [ "${OFF[i]:-0}" = 0 ] || s+="P"
        s+=" "
    done
    chaos_model_sets
    local k pins=""
    for k in "${!PIN[@]}"; do pins+="$k>${PIN[k]} "; done
    echo "${s}part=[${PART}] standby=[${STANDBY# }] pins=[${pins% }] Q=[$Q_SET] M=[$M_SET] E=[$E_SET]"
}

# chaos_model_apply OP : what OP changes in the model (chaos_apply in
# chaos.sh does it to the cluster first).  Returns 1 for an unknown OP.
chaos_model_apply() {
    local w i g
    read -r -a w <<< "${1#nowait }"
    i=${w[1]:-}
    case ${w[0]} in
        kill-chorusd|term-chorusd) CD[i]=0 FRZ[i]=0 ;;
        freeze-chorusd) FRZ[i]=1 ;;
        thaw-chorusd) FRZ[i]=0 ;;
        start-chorusd) CD[i]=1 ;;
        kill-corosync) CS[i]=0 ;;
        hang-corosync) CS[i]=0 HUNG[i]=1 ;;
        resume-corosync) CS[i]=1 HUNG[i]=0 ;;
        start-corosync) CS[i]=1 ;;
        kill-node) CS[i]=0 CD[i]=0 FRZ[i]=0 ;;
        start-node) CS[i]=1 CD[i]=1 OFF[i]=0 ;;
        # not an operation: what the BMC did (see chaos_model_init)
        power-off) CS[i]=0 CD[i]=0 FRZ[i]=0 HUNG[i]=0 LK[i]=0 OFF[i]=1 ;;
        link-down) LK[i]=0 ;;
        link-up) LK[i]=1 ;;
        partition)
            for g in $(echo "${i#*|}" | tr , ' '); do GRP[g]=1; done
            PART=$i ;;
        heal) for (( g = 1; g <= CL_N; g++ )); do GRP[g]=0; done; PART="" ;;
        standby) STANDBY=" $(echo $STANDBY "$i" | tr ' ' '\n' | sort -nu | paste -sd' ') " ;;
        active) STANDBY=${STANDBY/ $i / } ;;
        move) PIN[i]=${w[2]} ;;
        unpin) unset "PIN[$i]" ;;
        restart-chorusd|restart-corosync|flood|sabotage-dup|sabotage-brick|flap) ;;
        *) return 1 ;;
    esac
    return 0
}

# --- generator -----------------------------------------------------------------
# How impaired the cluster is: nodes with anything down, plus one for a split.
chaos_degradation() {
    local i d=0
    for (( i = 1; i <= CL_N; i++ )); do
        [ "${CS[i]}${CD[i]}${LK[i]}${FRZ[i]}" = 1110 ] || d=$(( d + 1 ))
    done
    [ -z "$PART" ] || d=$(( d + 1 ))
    echo "$d"
}

# chaos_gen : OP = the next operation, chosen from the model and the PRNG.
# At most three impairments at once, so a quorate side usually exists; a
# fault is sometimes "nowait" so the operator command or the undo after it
# lands while the cluster is still reacting.
#
# With bricks (CHAOS_BRICKS > 0) and fence mode grace (CHAOS_FENCE=grace,
# the default) two faults are left out, because chorusd documents them as
# not covered without a watchdog (chorus.json(5), fence mode grace): a brick
# whose chorusd is down keeps running, so that node must not be cut off from
# the quorate side, which would take the brick over after the grace.  So: no
# partition while a node runs corosync without chorusd, and chorusd is
# stopped only on members of the quorate side (a minority node may still be
# releasing).  A frozen chorusd is left out for the same reason (its node's
# bricks run on while the others fence it by grace).  The rest of the
# schedule is unchanged.
#
# With CHAOS_FENCE=ipmi (fence mode "agent", fence_ipmilan against a BMC per
# node) all three are generated again: the survivors take a brick over only
# once the BMC has powered its node off (fence-ipmi.sh checks that order),
# and they fence in each of these cases: a node that left the ring holding
# a brick (a FENCE record: cut off, whatever its chorusd does or did), a
# node whose chorusd is gone while its corosync stays (the GRACE record of a
# daemon that left: fenced once the restart grace is over and only bricks are
# left), and a frozen daemon (excluded as a suspect: its bricks wait for the
# fence).  The BMCs are on a management network of their own (ipmi_mgmt_net),
# so a partition never cuts the quorate side off from them.  None is left
# out: the remaining hazards are chorusd's to get right (a fence that fails
# only keeps the brick down, which a settle timeout reports).
chaos_gen() {
    local i d rec=() flt=() opr=() up=() k bricks=0 hazard=0 upq=()
    chaos_model_sets
    d=$(chaos_degradation)
    if [ "${CHAOS_BRICKS:-0}" -gt 0 ] && [ "${CHAOS_FENCE:-grace}" != ipmi ]; then
        bricks=1
        for (( i = 1; i <= CL_N; i++ )); do [ "${CS[i]}${CD[i]}" != 10 ] || hazard=1; done
    fi
    for (( i = 1; i <= CL_N; i++ )); do
        [ "${FRZ[i]}" = 0 ] || { rec+=("thaw-chorusd $i"); continue; }
        case "${CS[i]}${CD[i]}" in
            01) if [ "${HUNG[i]}" = 1 ]; then rec+=("resume-corosync $i")
                else rec+=("start-corosync $i"); fi ;;
            10) rec+=("start-chorusd $i") ;;
            00) rec+=("start-node $i") ;;
        esac
        [ "${LK[i]}" = 1 ] || rec+=("link-up $i")
        [ "${CS[i]}${CD[i]}${LK[i]}" = 111 ] && up+=("$i")
        [ "${CS[i]}${CD[i]}${LK[i]}" = 111 ] && chaos_in "$i" "$Q_SET" && upq+=("$i")
    done
    [ -z "$PART" ] || rec+=("heal")
    # the kind of fault first, then the node: each kind, partitions
    # included, is equally likely whatever the number of healthy nodes
    if [ "$bricks" = 1 ] && [ "${#upq[@]}" -eq 0 ]; then
        [ "${#up[@]}" -eq 0 ] || flt+=(kill-corosync restart-corosync hang-corosync kill-node link-down
                                       flap)
    else
        [ "${#up[@]}" -eq 0 ] || flt+=(kill-chorusd term-chorusd restart-chorusd kill-corosync
                                       restart-corosync hang-corosync kill-node link-down
                                       freeze-chorusd flap)
    fi
    if [ "$bricks" = 1 ]; then
        local f keep=()
        for f in "${flt[@]}"; do [ "$f" = freeze-chorusd ] || keep+=("$f"); done
        flt=("${keep[@]}")
    fi
    [ -n "$PART" ] || [ "$hazard" = 1 ] || flt+=("partition")
    if [ -n "$M_SET" ]; then
        local ns; ns=$(echo $STANDBY | wc -w)
        for i in $M_SET; do
            if chaos_in "$i" "$STANDBY"; then opr+=("active $i")
            elif [ "$ns" -lt 2 ]; then opr+=("standby $i"); fi
        done
        opr+=("move" "move")
        for k in "${!PIN[@]}"; do opr+=("unpin $k"); done
    fi
    opr+=("flood")

    local pool
    # after a nowait fault: an operator command (not the flood) or a quick
    # undo (heal, link-up, start) while the cluster still reacts: flapping
    if [ "${CHAOS_PREV_NOWAIT:-0}" = 1 ] && [ "${#opr[@]}" -gt 1 ]; then
        unset 'opr[-1]'
        chaos_rand 2
        if [ "$R" = 0 ] && [ "${#rec[@]}" -gt 0 ]; then pool=rec; else pool=opr; fi
    elif [ "${CHAOS_PREV_NOWAIT:-0}" = 1 ] && [ "${#rec[@]}" -gt 0 ]; then
        pool=rec
    elif [ "$d" -ge 3 ] && [ "${#rec[@]}" -gt 0 ]; then pool=rec
    else
        chaos_rand 100
        if [ "${#rec[@]}" -gt 0 ] && { [ "$R" -lt 25 ] || { [ "$d" -ge 2 ] && [ "$R" -lt 65 ]; }; }; then
            pool=rec
        elif [ "$R" -lt 80 ] && [ "${#flt[@]}" -gt 0 ]; then pool=flt
        else pool=opr; fi
    fi
    local -n arr=$pool
    chaos_pick "${arr[@]}"; OP=$R
    case $OP in
        partition) chaos_gen_partition ;;
        move) chaos_gen_move ;;
        kill-chorusd|term-chorusd|restart-chorusd)
            if [ "$bricks" = 1 ]; then chaos_pick "${upq[@]}"; else chaos_pick "${up[@]}"; fi
            OP+=" $R" ;;
        kill-*|term-*|restart-*|hang-*|link-down|freeze-*) chaos_pick "${up[@]}"; OP+=" $R" ;;
        flap)   # a link bounce of 50-1500 ms: short ones change no
                # membership, long ones do, and knet may keep it down
            chaos_pick "${up[@]}"; OP+=" $R"
            chaos_rand 1451; OP+=" $(( R + 50 ))" ;;
    esac
    # an operator command during a fault's reaction, not after it: the next
    # operation is one (if the model then has a quorate member to send it to)
    CHAOS_PREV_NOWAIT=0
    if [ "$pool" = flt ]; then
        chaos_rand 5
        [ "$R" -ne 0 ] || { OP="nowait $OP"; CHAOS_PREV_NOWAIT=1; }
    fi
    case $OP in standby*|active*|move*|unpin*)
        chaos_pick $M_SET; OP+=" via $R" ;;
    esac
}

chaos_gen_partition() {             # 2|3 or 1|4, nodes shuffled by the PRNG
    local nodes=() i j t small
    for (( i = 1; i <= CL_N; i++ )); do nodes+=("$i"); done
    for (( i = CL_N - 1; i > 0; i-- )); do
        chaos_rand $(( i + 1 )); j=$R
        t=${nodes[i]}; nodes[i]=${nodes[j]}; nodes[j]=$t
    done
    chaos_rand 2; small=$(( R + 1 ))
    local a b
    a=$(printf '%s\n' "${nodes[@]:0:small}" | sort -n | paste -sd,)
    b=$(printf '%s\n' "${nodes[@]:small}" | sort -n | paste -sd,)
    OP="partition $a|$b"
}

chaos_gen_move() {                  # pin a VIP (at most two pins at once)
    local k n=0 p
    for k in "${!PIN[@]}"; do n=$(( n + 1 )); done
    if [ "$n" -ge 2 ]; then
        chaos_pick "${!PIN[@]}"; k=$R
    else
        chaos_rand "$NV"; k=$R
    fi
    chaos_pick $M_SET; p=$R
    OP="move $k $p"
}
