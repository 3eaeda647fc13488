#!/bin/bash
# brick-glusterd-restart.sh - a glusterd restart on a brick's home node
# never starts the brick while another node serves it (issue 17), on 3
# nodes of real corosync + glusterd + chorusd, and what
# "gluster volume status" says meanwhile.
#
#   brick-glusterd-restart.sh [lun|shared]   (no argument: both, one after
#                                            the other, each its own cluster)
#   lun     brick 1 on an XFS loop device (BK_FSTYPE=xfs) that only the
#           serving node mounts
#   shared  brick 1 a plain directory every node sees, as on a cluster file
#           system (BK_FSTYPE=none): nothing per node hides it from glusterd
#
# glusterd starts, at its own start, every brick whose brick file names its
# UUID (glusterd_restart_bricks -> glusterd_brick_start, glusterd-utils.c),
# wherever chorus runs it.  The test:
#   1. puts brick 1 on its home node A, a gfapi client writes in a loop;
#   2. moves it to B (takeover); records volume status on A and B;
#   3. restarts A's glusterd (by PID, in A's namespaces) and samples for
#      about 20 s after it answers (its peer handshake included): no
#      glusterfsd for brick 1 in A's namespace (by cmdline and pidfile), the
#      LUN not mounted on A, B's brick process unchanged, the client goes on;
#      A's glusterd log must not say it started the brick;
#   3b. A loses power and boots (a fresh mount namespace) while B serves
#      the brick: the same checks; a shared directory gets its guard at
#      boot as /etc/fstab would give it (BOOT_GUARD=0: without);
#   4. moves it back to A (failback: for a shared directory acquire removes
#      that boot guard); records status again; the client reads back every
#      acknowledged write.
# The status lines (HOST PATH ONLINE PID PORT PEERID per brick) go to stdout.
# Exit 77 when not root or corosync/gluster/chorusd/xfsprogs are missing.
set -u
if [ $# = 0 ]; then
    rc=0
    for m in lun shared; do
        "$0" "$m"; r=$?
        [ "$r" = 0 ] || { [ "$r" = 77 ] && [ "$rc" = 0 ] && rc=77; } || rc=$r
    done
    exit "$rc"
fi
MODE=$1
case $MODE in
    lun) export BK_FSTYPE=xfs ;;
    shared) export BK_FSTYPE=none ;;
    *) echo "usage: $0 [lun|shared]" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
bk_require
SAMPLE_S=${SAMPLE_S:-20}

bk_setup "gdr$MODE" 20000
D=$CL_DIR/out; mkdir -p "$D"
A=$(bk_home 1)
B=$(( A % CL_N + 1 ))
P=${BK_PATH[1]}

# status TAG [NODE...] : what "gluster volume status --xml" says about
# brick 1 on every node or those named (no brick 1 listed: "absent"), and
# the plain CLI's line for it on the last of them
status() {
    local tag=$1 i line nodes; shift
    nodes=${*:-$(seq 1 "$CL_N")}
    for i in $nodes; do
        gl_cli "$i" volume status "$V" --xml > "$D/status-$tag-n$i.xml" 2>&1
        line=$(gl_vstatus "$i" "$V" | awk -v p="$P" '$2 == p')
        echo "status $MODE $tag node $i: ${line:-absent}"
    done
    gl_cli "$i" volume status "$V" > "$D/status-$tag-n$i.txt" 2>&1
    echo "status $MODE $tag node $i plain: $(grep -A1 -F -- "Brick ${BK_VIP[1]}:" "$D/status-$tag-n$i.txt" | tr '\n' ' ' | tr -s ' ')"
}
# rogue I : PIDs of brick 1's glusterfsd processes in node I's netns, found
# by command line (a brick glusterd started has its own pidfile and
# --brick-name), not only by pidfile
rogue() {
    local i=$1 pid out=""
    for pid in $(ip netns pids "$(cl_ns "$i")" 2>/dev/null); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = glusterfsd ] &&
            tr '\0' '\n' 2>/dev/null < "/proc/$pid/cmdline" | grep -qxF -- "$P" && out+="$pid "
    done
    bk_pid "$i" 1 >/dev/null && out+="pidfile:$(bk_pid "$i" 1)"
    echo "${out% }"
}
move_to() {
    bk_ctl 1 move "${BK_VIP[1]}" "n$1" > /dev/null || cl_fail "chorusctl move to node $1 refused"
    cl_wait_until 120 bk__up_on 1 "$1" || cl_fail "brick 1 did not move to node $1: on '$(bk_where 1)'"
    bk_ctl 1 unpin "${BK_VIP[1]}" > /dev/null || cl_fail "unpin"
}
acks() { grep -c '^ACK ' "$D/loop"; }
healthy() { bk_ctl "$1" status --json 2>/dev/null | grep -q '"healthy": *true'; }

# no_rogue WHAT T0 LOG0 : sample until A's glusterd is back in the pool
# (glusterd starts bricks again on the handshake and on quorum changes) and
# SAMPLE_S seconds more: brick 1 never runs (nor is its LUN mounted) on A,
# B's brick process stays, A's glusterd log (from line LOG0 on) does not
# say it started brick 1 but says it refused it; then the client goes on
no_rogue() {
    local what=$1 t0=$2 log0=$3 n=0 bad="" joined=0 t_join="" s r started refused a
    for (( s = 0; s < (SAMPLE_S + 60) * 5; s++ )); do
        r=$(rogue "$A")
        [ -n "$r" ] && { bad+="t+$(( $(cl_now_ms) - t0 ))ms:$r "; }
        [ "$BK_FSTYPE" = xfs ] && [ "$(bk_lun_mounted_on 1)" != "$B" ] &&
            bad+="t+$(( $(cl_now_ms) - t0 ))ms:LUN-mounted-on-'$(bk_lun_mounted_on 1)' "
        [ "$(bk_pid "$B" 1)" = "$PIDB" ] || bad+="t+$(( $(cl_now_ms) - t0 ))ms:B-brick-now-'$(bk_pid "$B" 1)' "
        n=$(( n + 1 ))
        if [ "$joined" = 0 ] && (( s % 10 == 0 )) && gl__peers_in_cluster "$A" $(( CL_N - 1 )); then
            joined=$s; t_join=$(( $(cl_now_ms) - t0 ))
        fi
        [ "$joined" != 0 ] && [ $(( s - joined )) -ge $(( SAMPLE_S * 5 )) ] && break
        sleep 0.2
    done
    [ "$joined" != 0 ] || cl_fail "glusterd $A not back in the pool within $(( SAMPLE_S + 60 )) s after its $what"
    started=$(tail -n +"$(( log0 + 1 ))" "$GLOG" | grep -c "starting a fresh brick process for brick $P\$")
    refused=$(tail -n +"$(( log0 + 1 ))" "$GLOG" | grep -c "extended attribute on brick root ($P)")
    echo "glusterd $A $what: in the pool after $t_join ms; $n samples over $(( $(cl_now_ms) - t0 )) ms;" \
         "log: started brick 1 ${started}x, refused it (volume-id) ${refused}x"
    [ -z "$bad" ] || cl_fail "glusterd $A $what: brick 1 ran or was mounted where it must not: $(echo "$bad" | cut -c1-400)"
    [ "$started" = 0 ] || cl_fail "glusterd $A started brick 1 after its $what while node $B serves it: $(tail -n +"$(( log0 + 1 ))" "$GLOG" | grep "starting a fresh brick process for brick $P" | tail -n 1)"
    # glusterd did try (else this test proves nothing): it refused the brick
    # root, which on the home node carries no volume-id while B serves it
    [ "$refused" -ge 1 ] || cl_fail "glusterd $A never tried brick 1 after its $what (no volume-id refusal in its log)"
    a=$(acks); cl_wait_until 60 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "client stopped after glusterd $A's $what"
}

# --- 1. brick 1 on its home node, a client writing -------------------------
bk__on 1 "$A" || move_to "$A"
GFCLIENT_STOP_FILE="$D/stop" GL_CLIENT_TIMEOUT_S=900 gl_client "$V" -p loop -g 120 loop 800 200 \
    > "$D/loop" 2> "$D/loop.err" &
LOOP=$!; cl__record loop "$LOOP"
cl_wait_until 60 bk_acks_at_least "$D/loop" 10 || cl_fail "client not writing: $(tail -n3 "$D/loop" "$D/loop.err")"
status home

# --- 2. takeover by B -------------------------------------------------------
move_to "$B"
PIDB=$(bk_pid "$B" 1) || cl_fail "no brick 1 pid on node $B"
a=$(acks); cl_wait_until 90 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "client stopped after the takeover"
status takeover

# --- 3. restart A's glusterd ------------------------------------------------
# In the mount namespace chorusd A runs in (where glusterd A ran): a
# glusterd restart does not change the node's mounts, as on a real host.
CPA=$(cl_chorusd_pid "$A") || cl_fail "chorusd $A not running"
GLOG=$(gl_dir "$A")/log/glusterd.log
log0=$(wc -l < "$GLOG")
GPA0=$(gl_pid "$A") || cl_fail "glusterd $A not running"
gl_kill "$A" TERM
cl__gone "$GPA0" || cl_fail "glusterd $A (pid $GPA0) did not exit"
# shellcheck disable=SC2046  # node numbers
status home-glusterd-down $(seq 1 "$CL_N" | grep -vx "$A")
t0=$(cl_now_ms)
rm -f "$(cl_ndir "$A")/run/glusterd.pid"
TZ=UTC timeout "$GL_WAIT_S" nsenter -t "$CPA" -n -m -- "$GL_GLUSTERD" -f "$(gl_dir "$A")/glusterd.vol" \
    -p /run/glusterd.pid --log-file=/var/log/glusterfs/glusterd.log </dev/null >>"$(gl_dir "$A")/glusterd.out" 2>&1 ||
    cl_fail "glusterd $A did not start again: $(tail -n3 "$GLOG")"
cl_wait_until 10 gl__pidfile_live "$(cl_ndir "$A")/run/glusterd.pid" || cl_fail "glusterd $A: no live pid"
GPA=$(cat "$(cl_ndir "$A")/run/glusterd.pid")
cl__record "glusterd.$A" "$GPA"; echo "$GPA glusterd.$A" >> "$CL_DIR/pids.all"
cl_wait_until 60 gl__cli_ok "$A" || cl_fail "glusterd $A does not answer after its restart"
echo "glusterd $A restarted (pid $GPA), answering after $(( $(cl_now_ms) - t0 )) ms"
no_rogue restart "$t0" "$log0"
status restarted

# --- 3b. A loses power and boots while B serves the brick -----------------
# A fresh mount namespace, as after a reboot: no guard from a release.  For
# a shared directory the guard comes from "/etc/fstab" (chorus-brick(7)):
# mounted in the new namespace before glusterd starts; BOOT_GUARD=0 leaves
# it out (to see what glusterd does then).
bk_node_down "$A"
cl_log "node $A lost power"
# a brick A ran must be taken over first (after the fence grace)
cl_wait_until 120 bk__running_once 2 || cl_fail "brick 2 not taken over from node $A"
GL_PRE_EXEC=""
[ "$BK_FSTYPE" = none ] && [ "${BOOT_GUARD:-1}" = 1 ] &&
    GL_PRE_EXEC="mount -t tmpfs -o ro,size=4k,nr_inodes=4,mode=0500 chorus-guard $(printf '%q' "$P")"
log0=$(wc -l < "$GLOG"); t0=$(cl_now_ms)
GL_PRE_EXEC=$GL_PRE_EXEC bk_node_up "$A" 20000
no_rogue reboot "$t0" "$log0"
cl_wait_until 60 healthy "$A" || cl_fail "chorusd $A did not rejoin healthy"
status rebooted

# --- 4. failback to A ---------------------------------------------------------
move_to "$A"
a=$(acks); cl_wait_until 90 bk_acks_at_least "$D/loop" $(( a + 5 )) || cl_fail "client stopped after the failback"
status failback
touch "$D/stop"; cl_wait_until 180 cl__gone "$LOOP" || cl_fail "client loop did not stop"
n_ack=$(acks)
grep -q "^VERIFY ok=$n_ack bad=0\$" "$D/loop" ||
    cl_fail "acknowledged writes lost: $(grep '^BAD \|^VERIFY' "$D/loop" | tail -n 5)"
echo "client: $n_ack acknowledged writes; $(grep '^VERIFY' "$D/loop"); $(grep '^LOOP' "$D/loop")"
echo "OK: brick-glusterd-restart $MODE"
