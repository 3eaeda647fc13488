#!/bin/bash
# Service hooks (issue 9) on a real 3-node corosync cluster.  Each node's hook
# logs when it runs and whether the address was on the interface at that
# moment, as seen by the kernel from inside the node:
#   1. every held VIP had its takeip, run with the address already up
#   2. planned move: the old owner's releaseip runs while the address is still
#      up (it takes a second), the address leaves only after it ended, and the
#      new owner's takeip starts only after that
#   3. a node cut off alone loses quorum: its addresses go at once, without
#      waiting for the slow releaseip, whose hook then runs with reason "lost"
#      and the address already gone; the survivors run takeip
#   4. a node crash (corosync + chorusd killed): its VIPs' takeip runs on the
#      survivors; a failing takeip hook is counted in status and changes
#      nothing
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "SKIP: chorusd/chorusctl not built"; exit 77; }

N=3
NV=3
cl_init hooks "$N"
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"

# argv: ACTION ADDRESS LOG.  releaseip takes a second, so ordering shows.  A
# takeip fails (exit 3) while $LOG.fail exists.
HOOK=$CL_DIR/hook
cat > "$HOOK" <<'EOF'
#!/bin/sh
log=$3
here() { ip -o addr show dev "$CHORUS_INTERFACE" | grep -q " $CHORUS_ADDRESS/" && echo yes || echo no; }
echo "$(date +%s%3N) start $1 $2 $CHORUS_REASON present=$(here) pool=$CHORUS_POOL node=$CHORUS_NODEID" >> "$log"
[ "$1" = releaseip ] && [ "$CHORUS_REASON" != lost ] && sleep 1
echo "$(date +%s%3N) end $1 $2 $CHORUS_REASON present=$(here)" >> "$log"
[ "$1" = takeip ] && [ -e "$log.fail" ] && { echo "service refused $2"; exit 3; }
exit 0
EOF
chmod 755 "$HOOK"
hlog() { echo "$(cl_ndir "$1")/hooks.log"; }
for i in 1 2 3; do
    f=$(cl_ndir "$i")/chorusd.conf
    cl_write_chorus_conf "$i" "$f" "$NV"
    # the hook is this node's: its log path goes in as an extra argument
    sed -i "s|^\"log\":|\"hooks\":[{\"pool\":\"default\",\"script\":\"$HOOK\",\"timeout_ms\":5000,\"args\":[\"$(hlog "$i")\"]}],\n\"log\":|" "$f"
    : > "$(hlog "$i")"
done
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
for i in 1 2 3; do cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"; done

vip() { local a; a=$(cl_vip_addr "$1" "$NV"); echo "${a%/*}"; }
owner_of() { cl_vip_owner "$1" 2>/dev/null | paste -sd+; }
each_once() { local k o; for (( k = 0; k < NV; k++ )); do o=$(owner_of "$(vip "$k")"); [[ $o =~ ^[0-9]$ ]] || return 1; done; }
# settled: one VIP per node (a VIP still in its slow releaseip is on its old node)
one_each() { local i; each_once || return 1; for i in 1 2 3; do [ "$(cl_vips_on "$i" | wc -l)" = 1 ] || return 1; done; }
# the last hook line for ADDR on node I (field 2 = start/end ...)
last_line() { grep " $2 " "$(hlog "$1")" | tail -n1; }
last_is() { local l; l=$(last_line "$1" "$2"); [[ $l == *" $3"* ]]; }	# last_is I ADDR "end takeip ADDR acquire present=yes"
# "ms" of the first line matching PATTERN on node I after T
first_ms() { awk -v t="$3" -v p="$2" '$1 >= t && index($0, p) { print $1; exit }' "$(hlog "$1")"; }

# --- 1. takeip for every held address, with the address up -----------------
cl_wait_until 30 one_each || cl_fail "VIPs not placed one per node"
for (( k = 0; k < NV; k++ )); do
    a=$(vip "$k"); o=$(owner_of "$a")
    cl_wait_until 10 last_is "$o" "$a" "end takeip $a acquire present=yes" ||
        cl_fail "node $o holds $a but its last hook line is: $(last_line "$o" "$a")"
done
grep -q "pool=default node=[1-9]" "$(hlog 1)" "$(hlog 2)" "$(hlog 3)" ||
    cl_fail "hook environment incomplete: $(cat "$(hlog 1)")"
cl_log "1 ok: each of $NV VIPs had its takeip on its owner, address already up"

# --- 2. planned move: releaseip first, address still up; then takeip -------
a=$(vip 0); from=$(owner_of "$a"); to=$(( from % N + 1 ))
t0=$(cl_now_ms)
ctl "$from" move "$a" "$to" >/dev/null || cl_fail "chorusctl move $a $to refused"
cl_wait_until 15 last_is "$to" "$a" "end takeip $a acquire present=yes" ||
    cl_fail "no takeip of $a on node $to after the move: $(last_line "$to" "$a")"
rs=$(first_ms "$from" "start releaseip $a release present=yes" "$t0")
re=$(first_ms "$from" "end releaseip $a release present=yes" "$t0")
ts=$(first_ms "$to" "start takeip $a" "$t0")
[ -n "$rs" ] && [ -n "$re" ] || cl_fail "node $from ran no releaseip for $a with the address up: $(cat "$(hlog "$from")")"
[ "$ts" -ge "$re" ] || cl_fail "takeip on $to ($ts) started before releaseip on $from ended ($re)"
[ "$(owner_of "$a")" = "$to" ] || cl_fail "$a is on '$(owner_of "$a")', not $to"
cl_log "2 ok: move $a $from -> $to: releaseip $((re - rs)) ms with the address up, takeip $((ts - re)) ms after it ended"

# --- 3. a node cut off alone: addresses go now, releaseip "lost" after -----
x=$to	# holds at least $a
mine=$(cl_vips_on "$x")
t0=$(cl_now_ms)
others=$(for i in 1 2 3; do [ "$i" != "$x" ] && echo "$i"; done | paste -sd' ')
cl_partition "$others" "$x"
none_on() { [ -z "$(cl_vips_on "$1")" ]; }
held_by() { [[ $(owner_of "$1") =~ ^[$2]$ ]]; }	# held_by ADDR "12": once, on one of those
cl_wait_until 30 none_on "$x" || cl_fail "node $x kept $(cl_vips_on "$x") without quorum"
t_gone=$(cl_now_ms)
for b in $mine; do
    cl_wait_until 10 last_is "$x" "$b" "end releaseip $b lost present=no" ||
        cl_fail "no releaseip 'lost' for $b on node $x: $(last_line "$x" "$b")"
    grep -q "start releaseip $b release " <(awk -v t="$t0" '$1 >= t' "$(hlog "$x")") &&
        cl_fail "node $x waited for a planned releaseip of $b while losing quorum"
    cl_wait_until 30 held_by "$b" "$others" || cl_fail "$b not taken over"
    o=$(owner_of "$b")
    [ "$o" != "$x" ] || cl_fail "$b still on $x"
    cl_wait_until 10 last_is "$o" "$b" "end takeip $b acquire present=yes" ||
        cl_fail "no takeip of $b on its new owner $o"
done
cl_log "3 ok: node $x cut off: $(echo $mine) gone $((t_gone - t0)) ms after the cut, releaseip ran after with reason lost; survivors ran takeip"
cl_heal
cl_wait_members 1 3 30 || cl_fail "ring did not heal"
cl_wait_until 30 one_each || cl_fail "VIPs not one per node after the heal"

# --- 4. node crash, with a failing takeip on the survivors ------------------
cl_wait_until 20 eval '! none_on 3' || cl_fail "node 3 got nothing back after the heal"
mine=$(cl_vips_on 3)
for i in 1 2; do : > "$(hlog "$i").fail"; done
cl_chorusd_kill 3 KILL
cl_corosync_kill 3 KILL
for b in $mine; do
    cl_wait_until 30 held_by "$b" 12 || cl_fail "$b not taken over after node 3 crashed"
    o=$(owner_of "$b")
    cl_wait_until 10 last_is "$o" "$b" "end takeip $b acquire present=yes" || cl_fail "no takeip of $b on $o"
done
failures=0
for i in 1 2; do
    n=$(ctl "$i" status --json | python3 -c 'import json,sys; h=json.load(sys.stdin)["hooks"]; print(h["failures"])') ||
        cl_fail "status of node $i has no hooks section"
    failures=$((failures + n))
done
[ "$failures" -ge 1 ] || cl_fail "the failing takeip was not counted in status"
each_once || cl_fail "a failing takeip changed placement"
grep -q "service refused" "$(cl_ndir 1)/chorusd.log" "$(cl_ndir 2)/chorusd.log" ||
    cl_fail "the failing hook's output is not in the log"
cl_log "4 ok: node 3's $(echo $mine) taken over with takeip; $failures failing takeip(s) counted and logged, placement unchanged"
echo "OK"
