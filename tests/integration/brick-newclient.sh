#!/bin/bash
# brick-newclient.sh - after each kind of brick takeover, a brand-new client
# (gfapi, and a FUSE mount where /dev/fuse works) reads every file on every
# brick and creates files that hash to every brick (issue 17 item 1).
#
# The trap this guards: on a brick's home node, glusterd binds the port it
# recorded for the brick to the brick path in its port mapper whenever a
# peer event (a peer lost, back, updated) makes it look at its bricks and it
# finds ours running by its pidfile (glusterd-server-quorum.c
# glusterd_do_volume_quorum_action -> glusterd_brick_start(only_connect) ->
# "discovered already-running brick" -> port_brick_bind(brickinfo->port),
# glusterfs 10.3).  The newest entry answers PORTBYBRICK first, so if the
# brick runs on another port, every client that asks afterwards - new ones,
# reconnecting ones - gets a port with nothing behind it: ENOENT for the
# brick's files, EIO for creates hashed to it, while connected clients go
# on.  chorus-brick therefore starts a brick on the port glusterd recorded
# for it (chorus-brick(7)).
#
#   1. 3 nodes, bricks b1 and b2 on their home nodes 1 and 2; a client
#      writes files until both bricks hold some.
#   2. Node 1 (b1) loses power; b1 is taken over by node 3 after the fence
#      grace.  Once both survivors' glusterd have seen node 1 go (the peer
#      event), a new client reads every file and creates on every brick;
#      b2, which never moved, is the one at risk.
#   3. Node 1 returns and an operator move (chorusctl move) puts b1 back on
#      it: its glusterd started without the brick, which now runs there on
#      chorus's start.  Node 3 then loses power (a peer event on nodes 1 and
#      2, each running its own brick): a new client again.
#   4. b2 moves to node 1 (not its home); chorusd on node 1 is killed until
#      b2's address lapses, then started again: it stops b2 (running without
#      its address) and starts it; a new client again.
# Exit 77 when not root or corosync/gluster/chorusd are missing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
export BK_FSTYPE=bind            # the brick LUNs are directories we can list
bk_require
GRACE_MS=6000
export BK_RELEASE_MS=4000
NEW=24                           # creates per check: all on one brick with p = 2^-23
ms() { echo $(( $(cl_now_ms) - $1 )); }

# peer_down I J : node I's glusterd lists node J's glusterd as disconnected
# (pool list is local: it takes no cluster lock)
peer_down() {
    gl_cli "$1" pool list 2>/dev/null |
        awk -v h="$(cl_addr "$2")" '$2 == h && $3 == "Disconnected" { f = 1 } END { exit !f }'
}

# fuse_ok : /dev/fuse, the fuse file system and the glusterfs FUSE client
FUSE=0
if [ -c /dev/fuse ] && grep -qw fuse /proc/filesystems && command -v glusterfs >/dev/null 2>&1; then
    FUSE=1
fi

# new_client LABEL : a brand-new gfapi client reads every file written in
# step 1 (both bricks) and creates $NEW files, which must all be
# acknowledged and land on both bricks (bk_new_client); then the same
# through a new FUSE mount, when FUSE works here.  TRIES (default 3) tries
# 3 s apart: after a peer event glusterd re-syncs the volume and a client
# that comes that early would retry by itself; the failure this test is
# about lasted a minute or more.  Right after a move (chorus reports the
# brick's address up on its new node), 1: chorus reports it so only once
# glusterd's port mapper there answers the brick's port.
new_client() {
    local l=$1 tries=${2:-3} a
    for (( a = 1; a <= tries; a++ )); do
        # a retry creates under names of its own
        bk_new_client "$D/pre" "$l$( [ "$a" = 1 ] || echo "-t$a")" "$NEW" && break
        [ "$a" -lt "$tries" ] || cl_fail "$l: a new gfapi client $BK_NEW_WHY ($tries tries, 3 s apart); port mapper answers:" \
            "$(grep -h 'changing port' "$CL_DIR/cl/gfapi.log" | tail -n 2 | tr '\n' ' ')"
        echo "$l: try $a: a new gfapi client $BK_NEW_WHY; again in 3 s"
        sleep 3
    done
    echo "$l: new gfapi client: $BK_NEW_INFO"
    [ "$FUSE" = 1 ] || return 0
    new_fuse "$l-fuse"
}

# moved K I : after a move of brick K to node I, wait until node I runs it
# and says so, its status and another node's never claiming it up before
# (bk_wait_up_honest)
moved() {
    local rc
    bk_wait_up_honest "$1" "$2" 120 $(( $2 % CL_N + 1 )); rc=$?
    [ "$rc" != 2 ] || cl_fail "a status said b$1 up before it ran on node $2: $BK_HONEST"
    [ "$rc" = 0 ] || cl_fail "b$1 did not move to node $2: on '$(bk_where "$1")' ($BK_HONEST)"
    echo "b$1 moved to node $2 in $(ms "$t0") ms; node $2's status: $BK_HONEST"
}

# new_fuse LABEL : mount the volume with FUSE in the client namespace (in a
# mount namespace of its own: the mount and its glusterfs go with the
# shell), read every step-1 file against the brick's copy, create $NEW
# files, unmount
new_fuse() {
    local l=$1 k m s=""
    m=$CL_DIR/fuse-$l
    mkdir -p "$m"
    for (( k = 1; k <= CL_N; k++ )); do s+=" --volfile-server=$(cl_addr "$k")"; done
    # shellcheck disable=SC2016,SC2086  # $s: one word per server
    timeout -k 5 180 ip netns exec "$(cl_ns_cl)" unshare -m --propagation private sh -c '
        m=$1 l=$2 n=$3 lun1=$4 lun2=$5 pre=$6 log=$7; shift 7
        glusterfs "$@" --volfile-id=gv --log-file="$log" --log-level=INFO "$m" || exit 3
        i=0; while ! mountpoint -q "$m" && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
        mountpoint -q "$m" || { echo "not mounted"; exit 3; }
        rc=0 ok=0
        for p in $(sed -n "s/^ACK //p" "$pre"); do
            b=$lun1$p; [ -f "$b" ] || b=$lun2$p
            if cmp -s "$m$p" "$b"; then ok=$((ok + 1)); else echo "BAD $p"; rc=1; fi
        done
        echo "FUSE read ok=$ok"
        i=0; while [ $i -lt "$n" ]; do
            if head -c 512 /dev/urandom > "$m/gfclient/$l-$i" 2>/dev/null; then echo "ACK /gfclient/$l-$i"
            else echo "ERR /gfclient/$l-$i"; rc=1; fi
            i=$((i + 1))
        done
        umount "$m" || umount -l "$m"
        exit $rc' sh "$m" "$l" "$NEW" "$CL_DIR/lun1" "$CL_DIR/lun2" "$D/pre" "$CL_DIR/cl/$l.log" $s \
        > "$D/$l.out" 2>&1 ||
        cl_fail "$l: a new FUSE mount fails: $(grep -v '^ACK' "$D/$l.out" | head -n 4 | tr '\n' ' ')"
    for k in 1 2; do
        [ "$(bk_on_brick "$k" "$l-")" -gt 0 ] || cl_fail "$l: none of the FUSE creates landed on brick $k"
    done
    echo "$l: new FUSE mount: $(grep '^FUSE read' "$D/$l.out"), $(grep -c '^ACK' "$D/$l.out")/$NEW creates ($(bk_on_brick 1 "$l-") on b1, $(bk_on_brick 2 "$l-") on b2)"
}

bk_setup bknew "$GRACE_MS"
D=$CL_DIR/out; mkdir -p "$D"
[ "$FUSE" = 1 ] && echo "FUSE: /dev/fuse and glusterfs present: FUSE mounts checked too" ||
    echo "FUSE: not available here (/dev/fuse, fuse in /proc/filesystems, glusterfs): gfapi only"
for k in 1 2; do
    [ "$(bk_where "$k")" = "$(bk_home "$k")" ] ||
        cl_fail "brick $k runs on '$(bk_where "$k")', not on its home node $(bk_home "$k"): the test needs both at home"
done

# --- 1. files on both bricks -------------------------------------------------
bk_new_client_set "$D/pre" 60
echo "step 1: 40 files, $(bk_on_brick 1 pre-) on b1, $(bk_on_brick 2 pre-) on b2"
new_client before

# --- 2. power loss of b1's node -----------------------------------------------
t0=$(cl_now_ms)
bk_node_down 1
cl_wait_until 120 bk__on_one_other 1 1 || cl_fail "b1 not taken over from node 1"
echo "b1: node 1 lost, running on node $(bk_where 1) after $(ms "$t0") ms; b2 on node $(bk_where 2)"
for i in 2 3; do
    cl_wait_until 90 peer_down "$i" 1 || cl_fail "node $i's glusterd did not see node 1 go"
done
echo "both survivors' glusterd saw node 1 go after $(ms "$t0") ms"
sleep 2
new_client takeover

# --- 3. node 1 returns, b1 moves back, node 3 loses power ------------------------
bk_node_up 1 "$GRACE_MS"
for i in 1 2 3; do
    cl_wait_until 90 gl__peers_in_cluster "$i" 2 ||
        cl_fail "node $i: pool not whole: $(gl_cli "$i" peer status 2>&1 | tr '\n' ' ')"
done
t0=$(cl_now_ms)
bk_ctl 1 move "${BK_VIP[1]}" 1 > /dev/null || cl_fail "chorusctl move refused"
moved 1 1
new_client moved 1
bk_node_down 3
t0=$(cl_now_ms)
for i in 1 2; do
    cl_wait_until 90 peer_down "$i" 3 || cl_fail "node $i's glusterd did not see node 3 go"
done
echo "node 3 lost; nodes 1 and 2's glusterd saw it after $(ms "$t0") ms"
sleep 2
new_client peerlost

# --- 4. chorusd down until b2's address lapsed, then back (b2 away from home) -------------------------
# The restarted chorusd finds b2 running without its address, stops it and
# starts it again.  The old glusterfsd signed in to the local glusterd
# through that address; a sign-out it sends on SIGTERM waits in TCP
# retransmission until the address is back, and glusterd removes the port
# mapper entry it names by brick name: the newest, the new glusterfsd's.
# On its home node a brick starts on glusterd's recorded port every time,
# so the old and the new entry name the same port: b2 goes to node 1 first,
# where each start picks a port of its own.
t0=$(cl_now_ms)
bk_ctl 1 move "${BK_VIP[2]}" 1 > /dev/null || cl_fail "chorusctl move of b2 refused"
moved 2 1
new_client moved-b2 1
pid2=$(bk_pid 1 2) || cl_fail "b2 not running on node 1 before step 4"
cl_chorusd_kill 1 KILL
t0=$(cl_now_ms)
vip_gone() { ! ip -n "$(cl_ns 1)" -o addr show | grep -qF " ${BK_VIP[2]}/"; }
cl_wait_until 6 vip_gone || cl_fail "b2's address did not lapse on node 1 with chorusd down"
echo "chorusd 1 killed; b2's address lapsed after $(ms "$t0") ms, b2 still runs (pid $pid2)"
bk_chorusd_start 1 "$(cl_ndir 1)/chorusd.conf"
b2_restarted() { local p; p=$(bk_pid 1 2) && [ "$p" != "$pid2" ]; }
cl_wait_until 60 b2_restarted || cl_fail "b2 was not restarted on node 1: on '$(bk_where 2)'"
echo "chorusd 1 back: b2 stopped and started again on node 1 (pid $(bk_pid 1 2)) after $(ms "$t0") ms"
# past TCP's retransmissions of a late sign-out (1 s, 3 s, 7 s)
sleep 8
new_client restarted
echo "OK: brick-newclient"
