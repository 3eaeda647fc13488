# shellcheck shell=bash
# tests/chaos/lib-check.sh - what the chaos driver observes and the invariants
# it checks.  Sourced by tests/chaos/chaos.sh after lib-model.sh.
#
# Observation (chaos_observe) reads, for every node, the kernel's addresses
# (`ip -n`) and, where chorusd runs, `chorusctl status --json`.  Reads of
# different namespaces are not atomic, so a conclusion that two nodes held
# something at once is only drawn after reading them again in the opposite
# order (a release-then-take move can never show both in both orders).
#
# Exclusive resources are checked through one hook per kind: chaos_held_<kind>
# NODE prints what NODE holds now, one per line, and CHAOS_EXCL_KINDS lists
# the kinds.  A kind in CHAOS_STRICT_KINDS may never be held twice, not even
# for an instant across a partition (bricks: glusterfsd pidfiles, when the
# daemon places bricks); the others (VIPs) may be held twice only by nodes
# that are not in one view, and only briefly (the minority's release window).
# Optional hooks per kind: chaos_always_<kind> (0, or 1 after recording a
# violation) at every poll, and chaos_settled_<kind> (0, or 1 with WHY), which
# replaces the check that every item is held exactly by its table owner.
# lib-brick.sh defines them for bricks.  Two more optional hooks, defined by
# lib-brick.sh with CHAOS_FENCE=ipmi: chaos_observe_more (at the start of
# every observation: takes in what the BMCs powered off) and
# chaos_death_explained NODE (0 when a daemon the model says runs is gone
# because its node's BMC powered it off; the model then says so).
: "${CHAOS_EXCL_KINDS:=vips}"
: "${CHAOS_STRICT_KINDS:=}"
: "${CHAOS_DUP_MAX_MS:=0}"

chaos_held_vips() { cl_vips_on "$1"; }

chaos_sock() { echo "$(cl_ndir "$1")/chorus-run/chorusd.sock"; }
chaos_ctl() { local i=$1; shift; timeout 10 "$CHORUSCTL" -s "$(chaos_sock "$i")" "$@"; }

# chaos_status I : one tab-separated line from node I's status, or nothing:
# quorate round_complete ring generation digest members owners nodes xowners
# fencing, where owners is "addr=owner:state:pin ..." for the addresses,
# nodes "id=state ..." and xowners "addr=owner:state ..." for the exclusive
# resources (bricks), if any, and fencing the node that a fence agent run
# by this node is fencing now (0: none).
chaos_status() {
    timeout 5 "$CHORUSCTL" -s "$(chaos_sock "$1")" -t 3 status --json 2>/dev/null |
        jq -r '[.cluster.quorate, .cluster.round_complete, .cluster.ring,
                .cluster.generation, .cluster.digest, .cluster.members,
                ([.vips[] | select(.exclusive != true) |
                  "\(.address | split("/")[0])=\(.owner // 0):\(.state):\(.pinned // 0)"] | join(" ")),
                ([.nodes[] | "\(.id)=\(.state)"] | join(" ")),
                ([.vips[] | select(.exclusive == true) |
                  "\(.address | split("/")[0])=\(.owner // 0):\(.state)"] | join(" ")),
                (.bricks.fencing // 0)] | @tsv' 2>/dev/null
}

# chaos_observe : HELD_<kind>[i] (" a b ... ") and ST[i] (status line or "")
chaos_observe() {
    local i kind
    if declare -F chaos_observe_more >/dev/null; then chaos_observe_more; fi
    for kind in $CHAOS_EXCL_KINDS; do
        local -n h="HELD_$kind"
        h=()
        for (( i = 1; i <= CL_N; i++ )); do
            h[i]=" $(chaos_held_"$kind" "$i" | paste -sd' ') "
        done
    done
    ST=()
    for (( i = 1; i <= CL_N; i++ )); do
        ST[i]=""
        # (a frozen daemon does not answer: it would only cost a timeout)
        [ "${CD[i]}" = 1 ] && [ "${FRZ[i]:-0}" = 0 ] && ST[i]=$(chaos_status "$i")
    done
    return 0
}

# chaos_rings : the distinct corosync ring ids the nodes' status showed at
# the last observation ("1.70 1.74"), whichever nodes answered
chaos_rings() {
    local i
    for (( i = 1; i <= CL_N; i++ )); do
        [ -n "${ST[i]:-}" ] && chaos_st_field "$i" 3
    done | sort -u | paste -sd' '
}

chaos_st_field() {                  # chaos_st_field I N : field N (1-based) of ST[i]
    local f; IFS=$'\t' read -r -a f <<< "${ST[$1]}"
    echo "${f[$(( $2 - 1 ))]:-}"
}

# In one completed, quorate view: both say so and name the same ring.
chaos_same_view() {
    local a=$1 b=$2
    [ -n "${ST[a]}" ] && [ -n "${ST[b]}" ] || return 1
    [ "$(chaos_st_field "$a" 1)" = true ] && [ "$(chaos_st_field "$b" 1)" = true ] || return 1
    [ "$(chaos_st_field "$a" 2)" = true ] && [ "$(chaos_st_field "$b" 2)" = true ] || return 1
    [ "$(chaos_st_field "$a" 3)" = "$(chaos_st_field "$b" 3)" ]
}

# chaos_check_always : invariants that hold at every moment.  Returns 1 after
# recording a violation.  DUP_SINCE[key] remembers when a double holding was
# first seen, to bound how long a release window may last.
declare -A DUP_SINCE=()
chaos_check_always() {
    local i kind now; now=$(cl_now_ms)
    for (( i = 1; i <= CL_N; i++ )); do
        if [ "${CD[i]}" = 1 ] && ! cl_chorusd_pid "$i" >/dev/null; then
            declare -F chaos_death_explained >/dev/null && chaos_death_explained "$i" && continue
            chaos_violation "chorusd $i died (model says it runs): $(tail -n 5 "$(cl_ndir "$i")/chorusd.out" | tr '\n' '|')"
            return 1
        fi
        if [ "${CS[i]}" = 1 ] && ! cl_corosync_pid "$i" >/dev/null; then
            declare -F chaos_death_explained >/dev/null && chaos_death_explained "$i" && continue
            chaos_violation "corosync $i died (model says it runs)"
            return 1
        fi
    done
    for kind in $CHAOS_EXCL_KINDS; do
        if declare -F "chaos_always_$kind" >/dev/null; then "chaos_always_$kind" || return 1; fi
    done
    local seen=" "
    for kind in $CHAOS_EXCL_KINDS; do
        local -n h="HELD_$kind"
        local -A holders=()
        local a
        for (( i = 1; i <= CL_N; i++ )); do
            for a in ${h[i]}; do holders[$a]+="$i "; done
        done
        for a in "${!holders[@]}"; do
            local hs=(${holders[$a]})
            [ "${#hs[@]}" -ge 2 ] || continue
            # a planned move from a lower to a higher node can look like
            # this in one ascending pass: only a pair that is confirmed in
            # the opposite order counts
            local x y pair=""
            for x in "${hs[@]}"; do for y in "${hs[@]}"; do
                [ "$x" -lt "$y" ] && [ -z "$pair" ] || continue
                chaos_dup_confirm "$kind" "$a" "$x" "$y" && pair="$x $y"
            done; done
            [ -n "$pair" ] || continue
            x=${pair% *} y=${pair#* }
            if chaos_in "$kind" "$CHAOS_STRICT_KINDS"; then
                chaos_violation "$kind $a held by nodes $x and $y at once"
                return 1
            fi
            if chaos_same_view "$x" "$y"; then
                chaos_violation "$kind $a on nodes $x and $y, both in completed quorate view $(chaos_st_field "$x" 3)"
                return 1
            fi
            local key="$kind:$a:$x,$y"
            seen+="$key "
            if [ -z "${DUP_SINCE[$key]:-}" ]; then
                DUP_SINCE[$key]=$now
                CHAOS_TRANSIENT_DUPS=$(( CHAOS_TRANSIENT_DUPS + 1 ))
                cl_log "across views: $kind $a on nodes $x and $y ($(chaos_st_field "$x" 3)/$(chaos_st_field "$x" 1) vs $(chaos_st_field "$y" 3)/$(chaos_st_field "$y" 1))"
            fi
            # 0 (the default): the minority lets go before the majority
            # takes, so any double seen in both reading orders is one too many
            if [ "$CHAOS_DUP_MAX_MS" = 0 ] || [ $(( now - DUP_SINCE[$key] )) -gt "$CHAOS_DUP_MAX_MS" ]; then
                chaos_violation "$kind $a on nodes $x and $y at once (across views, allowed ${CHAOS_DUP_MAX_MS} ms)"
                return 1
            fi
        done
    done
    local key
    for key in "${!DUP_SINCE[@]}"; do
        [[ $seen == *" $key "* ]] && continue
        # gone: it lasted at most until this poll (sampled, so an upper bound)
        local d=$(( now - DUP_SINCE[$key] ))
        [ "$d" -le "$CHAOS_MAX_DUP_MS" ] || CHAOS_MAX_DUP_MS=$d
        unset "DUP_SINCE[$key]"
    done
    return 0
}

# chaos_dup_confirm KIND ADDR A B : still held by both when read B first, then A
# (A was read before B in chaos_observe); refreshes both nodes' status too.
chaos_dup_confirm() {
    local kind=$1 a=$2 x=$3 y=$4
    chaos_held_"$kind" "$y" | grep -qxF -- "$a" || return 1
    chaos_held_"$kind" "$x" | grep -qxF -- "$a" || return 1
    ST[x]=$(chaos_status "$x"); ST[y]=$(chaos_status "$y")
    return 0
}

# chaos_check_settled : 0 when the cluster shows exactly what the model asks
# for; otherwise 1 with WHY saying what is still missing.
chaos_check_settled() {
    local i f ref="" refgen="" refown="" a o
    chaos_model_sets
    WHY=""
    local -A owner=()
    local owners_now=""
    if [ -n "$M_SET" ]; then
        local nm; nm=$(echo $M_SET | wc -w)
        for i in $M_SET; do
            [ -n "${ST[i]}" ] || { WHY="node $i: no status"; return 1; }
            IFS=$'\t' read -r -a f <<< "${ST[i]}"
            [ "${f[0]}" = true ] || { WHY="node $i: not quorate"; return 1; }
            [ "${f[1]}" = true ] || { WHY="node $i: round not complete"; return 1; }
            # a frozen daemon is still a member of the view (shown
            # unresponsive), unless corosync dropped its connection
            if [ -n "$F_SET" ] && [ "${f[5]}" = $(( nm + $(echo $F_SET | wc -w) )) ]; then
                local j
                for j in $F_SET; do
                    [[ " ${f[7]} " == *" $j=unresponsive "* ]] ||
                        { WHY="node $i: frozen node $j not shown unresponsive: ${f[7]}"; return 1; }
                done
            elif [ "${f[5]}" != "$nm" ]; then
                WHY="node $i: ${f[5]} members, want $nm${F_SET:+ (or $nm + frozen [$F_SET])}"
                return 1
            fi
            if [ -z "$ref" ]; then ref=${f[4]} refgen=${f[3]} refown=${f[6]}
            elif [ "${f[4]}" != "$ref" ] || [ "${f[3]}" != "$refgen" ] || [ "${f[6]}" != "$refown" ]; then
                WHY="node $i disagrees: gen ${f[3]} digest ${f[4]} vs gen $refgen digest $ref"
                return 1
            fi
            local ns; ns=" ${f[7]} "
            if chaos_in "$i" "$STANDBY"; then
                [[ $ns == *" $i=standby "* ]] || { WHY="node $i not shown in standby"; return 1; }
            else
                [[ $ns == *" $i=active "* ]] || { WHY="node $i not shown active: ${f[7]}"; return 1; }
            fi
        done
        local e_n; e_n=$(echo $E_SET | wc -w)
        local -A cnt=()
        for a in $refown; do
            local ad=${a%%=*} rest=${a#*=}
            local own=${rest%%:*} st pin
            rest=${rest#*:}; st=${rest%%:*}; pin=${rest#*:}
            [ "$st" != moving ] || { WHY="$ad still moving"; return 1; }
            if [ "$e_n" -gt 0 ]; then
                chaos_in "$own" "$E_SET" || { WHY="$ad owned by $own, not eligible [$E_SET]"; return 1; }
            else
                [ "$own" = 0 ] || { WHY="$ad owned by $own with nobody eligible"; return 1; }
            fi
            owner[$ad]=$own
            owners_now+="$ad=$own "
            cnt[$own]=$(( ${cnt[$own]:-0} + 1 ))
            local k=$(( ${ad##*.} - 150 ))
            if [ -n "${PIN[k]:-}" ]; then
                [ "$pin" = "${PIN[k]}" ] || { WHY="$ad shows pin $pin, want ${PIN[k]}"; return 1; }
                if chaos_in "${PIN[k]}" "$E_SET" && [ "$own" != "${PIN[k]}" ]; then
                    WHY="$ad pinned to eligible ${PIN[k]} but on $own"; return 1
                fi
            else
                [ "$pin" = 0 ] || { WHY="$ad shows pin $pin, want none"; return 1; }
            fi
        done
        # failback is auto: with no pins, counts differ by at most one
        if [ "${#PIN[@]}" -eq 0 ] && [ "$e_n" -gt 0 ]; then
            local lo=999999 hi=0 c
            for i in $E_SET; do
                c=${cnt[$i]:-0}
                [ "$c" -lt "$lo" ] && lo=$c
                [ "$c" -gt "$hi" ] && hi=$c
            done
            [ $(( hi - lo )) -le 1 ] || { WHY="unbalanced: $lo..$hi over [$E_SET]"; return 1; }
        fi
    fi
    # the kernels: every address exactly where the assignment puts it
    local kind
    CHAOS_SETTLED_MORE=""
    for kind in $CHAOS_EXCL_KINDS; do
        if declare -F "chaos_settled_$kind" >/dev/null; then
            "chaos_settled_$kind" || return 1
            continue
        fi
        local -n h="HELD_$kind"
        for (( i = 1; i <= CL_N; i++ )); do
            for a in ${h[i]}; do
                [ "${owner[$a]:-0}" = "$i" ] || { WHY="$a on node $i, owner ${owner[$a]:-none}"; return 1; }
            done
        done
        for a in "${!owner[@]}"; do
            o=${owner[$a]}
            [ "$o" = 0 ] || [[ ${h[o]} == *" $a "* ]] || { WHY="$a not on its owner $o"; return 1; }
        done
    done
    LAST_OWNERS=$owners_now$CHAOS_SETTLED_MORE   # "addr=owner ..." as settled
    return 0
}

# chaos_dump : everything a reader needs to see why a check failed
chaos_dump() {
    local i kind
    echo "---- chaos dump: model $(chaos_model_text)"
    for (( i = 1; i <= CL_N; i++ )); do
        echo "n$i held:${HELD_vips[i]:-}"
        for kind in $CHAOS_EXCL_KINDS; do
            [ "$kind" != vips ] || continue
            local -n hk="HELD_$kind"
            echo "n$i $kind:${hk[i]:-}"
        done
        echo "n$i status: ${ST[i]:-(none)}"
    done
    for (( i = 1; i <= CL_N; i++ )); do
        local f; f="$(cl_ndir "$i")/chorusd.log"
        [ -s "$f" ] || continue
        echo "---- tail n$i chorusd.log"
        tail -n 15 "$f"
    done
    for (( i = 1; i <= CL_N; i++ )); do
        local f; f="$(cl_ndir "$i")/corosync.log"
        [ -s "$f" ] || continue
        echo "---- tail n$i corosync.log"
        tail -n 4 "$f"
    done
}
