#!/bin/bash
# brick-script.sh - the default brick script (deploy/brick/chorus-brick) and
# the glusterd hook (deploy/gluster-hooks) on real Gluster, without chorusd.
#
#   1. 3 glusterd in node namespaces; a floating address VIP on node 1 (the
#      brick's hostname), peer alias VIP probed from nodes 2 and 3 (research
#      pitfall 4); our hook installed for every event, CHORUSCTL pointing at a
#      recorder.
#   2. distribute volume gv = VIP:$CL_DIR/shared/b1 (its "LUN" $CL_DIR/lun1
#      bind-mounted only inside node 1's glusterd mount namespace) + a plain
#      brick on node 3.  glusterd 1 starts b1 itself: monitor says running (0)
#      on node 1, not running (7) on node 2.
#   3. release on node 1 (stops glusterd's own brick, unmounts): 7; acquire:
#      0, running; acquire again: same pid.  The client writes 40 files.
#   4. node 1 dies (gl_node_kill), the test moves VIP to node 2 (as chorusd
#      would), acquire on node 2; every acknowledged write reads back, and
#      20 more are written.  The brick dies: monitor says inconsistent (1);
#      acquire restarts it in place; again with a port mapper that cannot
#      be asked (a warning, still 0).
#   5. release on node 2 (7), glusterd 1 back (it cannot start the brick: no
#      LUN), VIP back, acquire on node 1 (failback): all 60 read back.
#   5b. the same brick through the executor (brick.c, via brick_drive):
#      acquire, kill the brick, the monitor restarts it in place, release.
#   6. hooks: add-brick, remove-brick, stop, delete (create and start were
#      seen in 2) each reached the recorder as "inventory-refresh gv EVENT"; the hook
#      exits 0 at once without a daemon or a client.
# Exit 77 without root, gluster or gfclient.  The script runs in the node's
# glusterd net+mount namespaces (nsenter), as chorusd would run it there.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
gl_require_root_gluster client
for t in getfattr findmnt ss md5sum; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found" >&2; exit 77; }
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$SRC/deploy/brick/chorus-brick
HOOK=$SRC/deploy/gluster-hooks/S29chorus-inventory.sh
DRIVE=$BUILDDIR/tests/integration/brick_drive
[ -x "$DRIVE" ] || { echo "SKIP: $DRIVE not built" >&2; exit 77; }

cl_init brickscript 3
ms() { echo $(( $(cl_now_ms) - $1 )); }
V=gv
VIP=$CL_NET.200
LUN=$CL_DIR/lun1
B1=$CL_DIR/shared/b1
D=$CL_DIR/out
mkdir -p "$D" "$LUN" "$B1"

# --- 1. hooks, glusterd, pool, floating address --------------------------
REC=$CL_DIR/hook-calls
cat > "$CL_DIR/recorder" <<EOF
#!/bin/sh
echo "\$*" >> "$REC"
EOF
chmod +x "$CL_DIR/recorder"
export CHORUSCTL=$CL_DIR/recorder       # glusterd passes its environment to hooks
EVENTS="create start stop add-brick remove-brick delete"
for i in 1 2 3; do
    for e in $EVENTS; do
        mkdir -p "$(gl_dir "$i")/varlib/hooks/1/$e/post"
        install -m 0755 "$HOOK" "$(gl_dir "$i")/varlib/hooks/1/$e/post/S29chorus-inventory.sh"
    done
done
for i in 1 2 3; do gl_start "$i"; done
gl_pool 3
ip -n "$(cl_ns 1)" addr add "$VIP/24" dev eth0 || cl_fail "add VIP on node 1"
for i in 2 3; do
    gl_cli "$i" peer probe "$VIP" >/dev/null 2>&1 || cl_fail "node $i: peer probe $VIP (alias) failed"
done
HOME_UUID=$(sed -n 's/^UUID=//p' "$(gl_dir 1)/varlib/glusterd.info")
[ -n "$HOME_UUID" ] || cl_fail "no UUID for node 1"

# brick I OP [VAR=VALUE...] : run the default script on node I (extra
# variables override), print nothing, return its code
brick() {
    local i=$1 op=$2 rc; shift 2
    gl_exec "$i" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_BRICK_VOLUME="$V" CHORUS_BRICK_HOST="$VIP" CHORUS_BRICK_ADDRESS="$VIP" \
        CHORUS_BRICK_PATH="$B1" CHORUS_BRICK_DEVICE="$LUN" CHORUS_BRICK_FSTYPE=bind \
        CHORUS_BRICK_MOUNT_OPTIONS= CHORUS_BRICK_HOME_UUID="$HOME_UUID" \
        CHORUS_RUN_DIR=/run/chorus CHORUS_NODEID="$i" CHORUS_BRICK_TIMEOUT_S=60 "$@" \
        timeout 90 "$SCRIPT" "$op" >> "$D/script.log" 2>&1
    rc=$?
    cl_log "node $i: chorus-brick $op -> $rc"
    return "$rc"
}
expect() {              # expect CODE I OP [VAR=VALUE...]
    local want=$1 rc; shift
    brick "$@"; rc=$?
    [ "$rc" = "$want" ] || cl_fail "chorus-brick $2 on node $1: exit $rc, want $want: $(tail -n 5 "$D/script.log")"
}
b1_pid() {              # node I's b1 brick process (glusterd's pidfile path)
    local f pid
    f="$(cl_ndir "$1")/run/gluster/vols/$V/$VIP${B1//\//-}.pid"
    pid=$(cat "$f" 2>/dev/null) && cl__alive "$pid" && gl__in_ns "$pid" "$(cl_ns "$1")" && echo "$pid"
}
move_vip() {            # move_vip FROM TO (what chorusd's address executor does)
    ip -n "$(cl_ns "$1")" addr del "$VIP/24" dev eth0 2>/dev/null
    ip -n "$(cl_ns "$2")" addr add "$VIP/24" dev eth0 || cl_fail "add VIP on node $2"
    if command -v arping >/dev/null 2>&1; then
        ip netns exec "$(cl_ns "$2")" timeout 5 arping -q -U -c 2 -w 2 -I eth0 "$VIP" || true
    else
        ip -n "$(cl_ns_cl)" neigh flush to "$VIP" 2>/dev/null || true
    fi
}

# --- 2. the volume, b1 started by glusterd on its home node ---------------
gl_exec 1 mount --bind "$LUN" "$B1" || cl_fail "bind LUN on node 1"
gl_cli 1 volume create "$V" "$VIP:$B1" "$(gl_brick 3 $V)" force >/dev/null ||
    cl_fail "volume create: $(gl_cli 1 volume create "$V" "$VIP:$B1" "$(gl_brick 3 $V)" force 2>&1)"
gl_cli 1 volume start "$V" >/dev/null || cl_fail "volume start"
gl_wait_online "$V" 2 "$GL_WAIT_S" || cl_fail "bricks not online: $(gl_vstatus 1 $V | tr '\n' ';')"
[ -n "$(getfattr -n trusted.glusterfs.volume-id --only-values "$LUN" 2>/dev/null | od -An -tx1)" ] ||
    cl_fail "LUN has no volume-id xattr"
expect 0 1 monitor
expect 7 2 monitor
[ "$(ls -A "$B1")" = "" ] || cl_fail "the LUN is visible outside node 1's mount namespace"

# --- 3. release and acquire on node 1 --------------------------------------
p_gd=$(b1_pid 1) || cl_fail "no glusterd-started b1 on node 1"
t0=$(cl_now_ms); expect 0 1 release; echo "TIMING release on node 1: $(ms "$t0") ms"
cl__alive "$p_gd" && cl_fail "glusterd's brick $p_gd survived release"
expect 7 1 monitor
gl_exec 1 mountpoint -q "$B1" && cl_fail "node 1 still has $B1 mounted after release"
expect 0 1 release                              # idempotent
t0=$(cl_now_ms); expect 0 1 acquire; echo "TIMING acquire on node 1: $(ms "$t0") ms"
expect 0 1 monitor
p1=$(b1_pid 1) || cl_fail "no b1 brick after acquire"
expect 0 1 acquire                              # idempotent
[ "$(b1_pid 1)" = "$p1" ] || cl_fail "second acquire started another brick"
tr '\0' ' ' < "/proc/$p1/cmdline" | grep -q -- "--xlator-option \*-posix.glusterd-uuid=$HOME_UUID" ||
    cl_fail "brick does not carry the home UUID: $(tr '\0' ' ' < "/proc/$p1/cmdline")"
# (glusterd's "volume status" shows a brick it did not start as offline: its
# management socket is not glusterd's; clients find it through the portmap.)
GL_CLIENT_TIMEOUT_S=90 gl_client "$V" write 40 > "$D/acks1" 2> "$D/w1.err" ||
    cl_fail "write 40: $(tail -n3 "$D/acks1" "$D/w1.err")"
[ "$(grep -c '^ACK ' "$D/acks1")" = 40 ] || cl_fail "not 40 ACKs"
n_b1=$(ls "$LUN/gfclient" 2>/dev/null | wc -l)
echo "files on the floating brick: $n_b1 of 40"
[ "$n_b1" -gt 0 ] || cl_fail "no file landed on the floating brick: the test would prove nothing"

# --- 4. node 1 dies, node 2 takes the brick over ---------------------------
t_kill=$(cl_now_ms)
gl_node_kill 1 || cl_fail "node 1's gluster processes survived"
move_vip 1 2
t0=$(cl_now_ms); expect 0 2 acquire; echo "TIMING acquire on node 2 (takeover): $(ms "$t0") ms"
expect 0 2 monitor
p2=$(b1_pid 2) || cl_fail "no b1 brick on node 2"
echo "TIMING node 1 killed -> brick up on node 2: $(ms "$t_kill") ms"
# A client that comes the moment acquire has returned finds the brick at
# once (-g 0: no retries): acquire waits for glusterd's port mapper.
GL_CLIENT_TIMEOUT_S=120 gl_client "$V" -g 0 check "$D/acks1" > "$D/check1" 2>&1 || cl_fail "check after takeover: $(tail -n5 "$D/check1")"
grep -q '^CHECK ok=40 bad=0$' "$D/check1" || cl_fail "after takeover: $(tail -n1 "$D/check1")"
GL_CLIENT_TIMEOUT_S=120 gl_client "$V" -p t write 20 > "$D/acks2" 2> "$D/w2.err" ||
    cl_fail "write 20 on node 2: $(tail -n3 "$D/acks2" "$D/w2.err")"
[ "$(grep -c '^ACK ' "$D/acks2")" = 20 ] || cl_fail "not 20 ACKs"
# a brick that dies is inconsistent (mounted, no process); acquire restarts it
kill -KILL "$p2"; cl_wait_until 10 cl__gone "$p2" || cl_fail "brick $p2 did not die"
expect 1 2 monitor
expect 0 2 acquire
[ "$(b1_pid 2)" != "$p2" ] || cl_fail "no new brick process"
expect 0 2 monitor
# a port mapper that cannot be asked (nothing on that port) is a warning,
# not a failure: the brick runs, only its sign-in is not known
p2=$(b1_pid 2); kill -KILL "$p2"; cl_wait_until 10 cl__gone "$p2" || cl_fail "brick $p2 did not die"
expect 0 2 acquire GLUSTERD_PORT=1
grep -q "WARNING: cannot ask glusterd's port mapper at $VIP:1" "$D/script.log" ||
    cl_fail "no warning for a port mapper that cannot be asked: $(tail -n 3 "$D/script.log")"
expect 0 2 monitor

# --- 5. failback ---------------------------------------------------------
expect 0 2 release
expect 7 2 monitor
# refusals: a wrong LUN (no volume-id) is not served and not left mounted;
# a brick path mounted from elsewhere is not mounted over
mkdir -p "$CL_DIR/wrong-lun" "$CL_DIR/other"
expect 1 2 acquire CHORUS_BRICK_DEVICE="$CL_DIR/wrong-lun"
grep -q "is not volume $V's" "$D/script.log" || cl_fail "no volume-id refusal logged"
gl_exec 2 mountpoint -q "$B1" && cl_fail "failed acquire left $B1 mounted"
gl_exec 2 mount --bind "$CL_DIR/other" "$B1" || cl_fail "bind other"
expect 1 2 acquire
grep -q "already mounted from elsewhere" "$D/script.log" || cl_fail "no 'mounted from elsewhere' refusal logged"
expect 1 2 release                             # not ours: not unmounted
gl_exec 2 mountpoint -q "$B1" || cl_fail "release unmounted a mount that was not ours"
gl_exec 2 umount "$B1" || cl_fail "umount other"
gl_start 1
cl_wait_until "$GL_WAIT_S" gl__peers_in_cluster 1 2 || cl_fail "node 1 did not rejoin the pool"
b1_pid 1 >/dev/null && cl_fail "glusterd 1 started b1 without the LUN (pitfall 5)"
move_vip 2 1
t0=$(cl_now_ms); expect 0 1 acquire; echo "TIMING acquire on node 1 (failback): $(ms "$t0") ms"
expect 0 1 monitor
expect 7 2 monitor
cat "$D/acks1" "$D/acks2" > "$D/acks"
GL_CLIENT_TIMEOUT_S=120 gl_client "$V" -g 0 check "$D/acks" > "$D/check2" 2>&1 || cl_fail "check after failback: $(tail -n5 "$D/check2")"
grep -q '^CHECK ok=60 bad=0$' "$D/check2" || cl_fail "after failback: $(tail -n1 "$D/check2")"
echo "OK: 60/60 acknowledged writes read back after takeover and failback"

# --- 5b. the executor (brick.c + script.c) with the real script ------------
# It acquires, its monitor finds the brick killed and restarts it in place,
# then it releases; the script takes the brick back for the rest.
expect 0 1 release
gl_exec 1 "$DRIVE" "$SCRIPT" /run/chorus "$V" "$VIP" "$B1" "$LUN" bind "$HOME_UUID" \
    acquire wait:25 release > "$D/drive.out" 2> "$D/drive.err" &
DRIVE_PID=$!
cl__record brick_drive "$DRIVE_PID"
cl_wait_until 60 grep -q '^EVENT .* acquired 0' "$D/drive.out" ||
    cl_fail "executor: no acquire: $(tail -n5 "$D/drive.out" "$D/drive.err")"
p_ex=$(b1_pid 1) || cl_fail "executor: no brick after its acquire"
t0=$(cl_now_ms)
kill -KILL "$p_ex"
brick_replaced() { local p; p=$(b1_pid 1) && [ "$p" != "$p_ex" ]; }
cl_wait_until 20 brick_replaced || cl_fail "executor did not restart the killed brick: $(tail -n5 "$D/drive.err")"
echo "TIMING brick killed -> restarted in place by the executor: $(ms "$t0") ms (monitor every 500 ms)"
cl_wait_until 30 grep -q 'restarted in place' "$D/drive.err" || cl_fail "executor: no restart logged: $(tail -n5 "$D/drive.err")"
# a successful acquire is logged with what the script said
grep -q 'acquired in [0-9]* ms: .*started (pid [0-9]*, port [0-9]*, signed in with glusterd after [0-9]* ms)' "$D/drive.err" ||
    cl_fail "executor: the script's output is not logged with a successful acquire: $(grep acquired "$D/drive.err")"
cl_wait_until 90 cl__gone "$DRIVE_PID" || cl_fail "brick_drive did not finish"
wait "$DRIVE_PID" || cl_fail "brick_drive failed: $(tail -n5 "$D/drive.out" "$D/drive.err")"
grep -q '^EVENT .* released 0' "$D/drive.out" || cl_fail "executor: no release: $(cat "$D/drive.out")"
grep -q ' failed ' "$D/drive.out" && cl_fail "executor reported a failure: $(cat "$D/drive.out")"
b1_pid 1 >/dev/null && cl_fail "brick still running after the executor's release"
expect 7 1 monitor
expect 0 1 acquire
GL_CLIENT_TIMEOUT_S=120 gl_client "$V" check "$D/acks" > "$D/check3" 2>&1 || cl_fail "check after executor: $(tail -n5 "$D/check3")"
grep -q '^CHECK ok=60 bad=0$' "$D/check3" || cl_fail "after executor: $(tail -n1 "$D/check3")"

# --- 6. hooks ----------------------------------------------------------------
mkdir -p "$(cl_ndir 2)/bricks"
gl_cli 1 volume add-brick "$V" "$(gl_brick 2 $V)" force >/dev/null || cl_fail "add-brick"
gl_cli 1 volume remove-brick "$V" "$(gl_brick 2 $V)" force >/dev/null || cl_fail "remove-brick"
gl_cli 1 volume stop "$V" >/dev/null || cl_fail "volume stop"
# glusterd 1 stopped the brick we started: its pidfile is glusterd's own
cl_wait_until 20 sh -c "! test -n \"\$(cat '$(cl_ndir 1)/run/gluster/vols/$V/$VIP${B1//\//-}.pid' 2>/dev/null)\" || ! kill -0 \$(cat '$(cl_ndir 1)/run/gluster/vols/$V/$VIP${B1//\//-}.pid') 2>/dev/null" ||
    cl_fail "volume stop left the chorus-started brick running"
expect 1 1 monitor                              # mounted, no process
expect 0 1 release
expect 7 1 monitor
gl_cli 1 volume delete "$V" >/dev/null || cl_fail "volume delete"
hook_seen() { [ "$(grep -c -- "^inventory-refresh $V $1\$" "$REC" 2>/dev/null)" -ge 1 ]; }
for e in $EVENTS; do
    cl_wait_until 15 hook_seen "$e" || cl_fail "hook for '$e' not seen: $(tr '\n' ';' < "$REC" 2>/dev/null)"
done
echo "hook calls: $(sort "$REC" | uniq -c | tr -s ' \n' ' ')"
t0=$(cl_now_ms)
CHORUSCTL=/nonexistent/chorusctl "$HOOK" --volname=gv --first=yes || cl_fail "hook failed without chorusctl"
CHORUSCTL='' CHORUS_SOCKET=$CL_DIR/none.sock "$HOOK" --volname='x;y' || cl_fail "hook failed without chorusd"
[ "$(ms "$t0")" -lt 2000 ] || cl_fail "hook took $(ms "$t0") ms without a daemon"
echo "OK: brick-script"
