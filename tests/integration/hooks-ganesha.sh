#!/bin/bash
# The NFS-Ganesha service hook (deploy/hooks/nfs-ganesha) against real
# NFS-Ganesha 4.3 (FSAL VFS, NFSv4) on a 3-node netns cluster (issue 9).
#
# Each node namespace gets, in its private /run, its own system bus
# (dbus-daemon --system: /run/dbus/system_bus_socket, Debian's policy with
# nfs-ganesha's system.d file) and its own ganesha.nfsd exporting a test dir,
# with /var/lib/nfs (recovery records) bound to the node's temp dir.  Grace is
# read from Ganesha itself (admin get_grace over DBus) and from its log.
#   A. the hook called exactly as chorusd calls it (argv, the contract's
#      environment only, stdin /dev/null, own session, chorusd's net and mount
#      namespace):
#      1. no bus -> exit 3 "DBus not reachable"; bus, no Ganesha -> exit 3
#         "Ganesha is not running"
#      2. takeip: the node was not in grace before, is right after, the other
#         nodes are not; Ganesha logged the takeover event for that address;
#         the grace ends by itself after Grace_Period
#      3. releaseip exits 0 and puts nobody into grace
#   B. through chorusd (when it has the hook runner: a "hooks" config key),
#      one address in pool "nfs" whose hook is the Ganesha hook (behind a
#      wrapper that records when each run starts and ends, and whether the
#      address is up then):
#      4. the owner dies (SIGKILL corosync + chorusd): the survivor that takes
#         the address ran takeip and is in grace, the third node is not, and
#         the NFS client through the address gets NFS4ERR_GRACE
#      5. a planned move (chorusctl move): the old owner's releaseip ran and
#         ended while the address was still up on it, before the new owner's
#         takeip started; the new owner is in grace, the old one is not
# Needs root, corosync, nfs-ganesha + nfs-ganesha-vfs, dbus; exits 77 otherwise.
# libnfs-utils (nfs-cp) is optional: without it the NFS client checks are skipped.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
HOOK=$CL_ROOT/deploy/hooks/nfs-ganesha
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
for t in ganesha.nfsd dbus-daemon dbus-send setsid; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found (nfs-ganesha, dbus)"; exit 77; }
done
FSAL=""
for f in /usr/lib/*/ganesha/libfsalvfs.so /usr/lib/ganesha/libfsalvfs.so; do [ -f "$f" ] && FSAL=$f; done
[ -n "$FSAL" ] || { echo "SKIP: FSAL VFS not installed (nfs-ganesha-vfs)"; exit 77; }
[ -f /usr/share/dbus-1/system.conf ] || { echo "SKIP: no system bus configuration"; exit 77; }
[ -f /etc/dbus-1/system.d/nfs-ganesha-dbus.conf ] ||
    { echo "SKIP: nfs-ganesha's DBus policy missing"; exit 77; }
[ -d /var/lib/nfs ] || { echo "SKIP: no /var/lib/nfs to bind over (nfs-common)"; exit 77; }

GRACE_S=6                                 # Ganesha's Grace_Period in this test
N=3
cl_init gnhook "$N"
VIP=$(cl_vip_addr 0 1); VIP=${VIP%/*}

# node_run I CMD... : CMD in node I's network and mount namespace (its /run),
# which is where chorusd runs its hooks.
# shellcheck disable=SC2016
node_run() {
    local i=$1; shift
    ip netns exec "$(cl_ns "$i")" unshare -m sh -c \
        'mount --bind "$0" /run && exec "$@"' "$(cl_ndir "$i")/run" "$@"
}
in_grace() {        # in_grace I : Ganesha on node I answers get_grace "true"
    node_run "$1" timeout 3 dbus-send --system --print-reply --reply-timeout=2000 \
        --dest=org.ganesha.nfsd /org/ganesha/nfsd/admin org.ganesha.nfsd.admin.get_grace \
        2>/dev/null | awk '$1 == "boolean" { exit $2 != "true" } END { if (NR == 0) exit 1 }'
}
not_in_grace() {    # answers, and says "false"
    node_run "$1" timeout 3 dbus-send --system --print-reply --reply-timeout=2000 \
        --dest=org.ganesha.nfsd /org/ganesha/nfsd/admin org.ganesha.nfsd.admin.get_grace \
        2>/dev/null | awk '$1 == "boolean" { exit $2 != "false" } END { if (NR == 0) exit 1 }'
}
glog() { echo "$(cl_ndir "$1")/ganesha/ganesha.log"; }
takeover_logged() { grep -c "recovery event 5 nodeid -1 ip $2\$" "$(glog "$1")" 2>/dev/null; }

dbus_start() {
    local i=$1 d; d=$(cl_ndir "$i")
    mkdir -p "$d/run/dbus"
    cl__spawn "dbus.$i" "$i" "$d/dbus.out" dbus-daemon --system --nofork --nopidfile
    cl_wait_until 10 test -S "$d/run/dbus/system_bus_socket" ||
        cl_fail "dbus-daemon $i: no socket: $(tail -n 3 "$d/dbus.out")"
}
ganesha_start() {
    local i=$1 d; d=$(cl_ndir "$i")
    mkdir -p "$d/ganesha/export" "$d/ganesha/varlibnfs"
    # Lease 3 s, grace 6 s: short enough for a test, and NLM left on so that
    # Ganesha keeps grace for the whole period (with NLM off and no client to
    # wait for it lifts grace at its next reaper pass).
    cat > "$d/ganesha/ganesha.conf" <<EOF
NFS_CORE_PARAM { Protocols = 4; Enable_RQUOTA = false; }
NFSV4 { Grace_Period = $GRACE_S; Lease_Lifetime = 3; RecoveryBackend = fs; }
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
    Export_Id = 1; Path = "$d/ganesha/export"; Pseudo = /export;
    Access_Type = RW; Squash = No_Root_Squash; Protocols = 4; Transports = TCP;
    SecType = sys; FSAL { Name = VFS; }
}
EOF
    # /var/lib/nfs/ganesha is Ganesha 4.3's fixed recovery root: each node
    # gets its own, and the host's stays untouched.
    # shellcheck disable=SC2016
    cl__spawn "ganesha.$i" "$i" "$d/ganesha/ganesha.out" sh -c \
        'mount --bind "$0" /var/lib/nfs && exec ganesha.nfsd -F -f "$1" -L "$2" -p "$3" -N NIV_EVENT' \
        "$d/ganesha/varlibnfs" "$d/ganesha/ganesha.conf" "$(glog "$i")" "$d/ganesha/ganesha.pid"
    cl__wait_exec "$CL_SPAWN_PID" || cl_fail "ganesha $i did not start: $(tail -n 3 "$d/ganesha/ganesha.out")"
    cl__record "ganesha.$i" "$CL_SPAWN_PID"
}
ganesha_answers() { in_grace "$1" || not_in_grace "$1"; }

# nfs_write NAME : an NFSv4 client (libnfs, userspace: no kernel NFS client
# here) in the client namespace creates export/NAME through $VIP.  Output in
# $CL_DIR/nfs.out; during grace Ganesha answers NFS4ERR_GRACE.
NFSCP=$(command -v nfs-cp || true)
echo "written by $CL_NAME" > "$CL_DIR/payload"
nfs_write() {
    ip netns exec "$(cl_ns_cl)" timeout 10 "$NFSCP" "$CL_DIR/payload" \
        "nfs://$VIP/export/$1?version=4" > "$CL_DIR/nfs.out" 2>&1
}
nfs_refused_grace() { ! nfs_write "$1" && grep -q NFS4ERR_GRACE "$CL_DIR/nfs.out"; }

# hook I ACTION ADDR [REASON] : the hook as chorusd runs it (contract)
hook() {
    local i=$1 action=$2 addr=$3 reason=${4:-}
    [ -n "$reason" ] || { [ "$action" = takeip ] && reason=acquire || reason=release; }
    node_run "$i" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_ACTION="$action" CHORUS_ADDRESS="$addr" CHORUS_PREFIX=24 CHORUS_FAMILY=inet \
        CHORUS_INTERFACE=eth0 CHORUS_POOL=nfs CHORUS_NODEID="$i" CHORUS_REASON="$reason" \
        setsid -w "$HOOK" "$action" "$addr" < /dev/null > "$CL_DIR/hook.out" 2>&1
}

# --- A. the hook on its own ---------------------------------------------------
t0=$(cl_now_ms)
for i in 1 2; do dbus_start "$i"; ganesha_start "$i"; done
# 1. node 3: first no bus at all, then a bus without Ganesha
hook 3 takeip "$VIP"; rc=$?
if [ "$rc" != 3 ] || ! grep -q "DBus not reachable" "$CL_DIR/hook.out"; then
    cl_fail "no bus: rc $rc, want 3: $(cat "$CL_DIR/hook.out")"
fi
dbus_start 3
hook 3 takeip "$VIP"; rc=$?
if [ "$rc" != 3 ] || ! grep -q "Ganesha is not running" "$CL_DIR/hook.out"; then
    cl_fail "no Ganesha: rc $rc, want 3: $(cat "$CL_DIR/hook.out")"
fi
cl_log "1. no bus and no Ganesha: exit 3 with a clear message"
ganesha_start 3
for i in 1 2 3; do
    cl_wait_until 15 ganesha_answers "$i" ||
        cl_fail "Ganesha $i not on its bus: $(tail -n 5 "$(glog "$i")")"
done
# Ganesha starts in grace; wait for the start-up grace to end everywhere.
for i in 1 2 3; do
    cl_wait_until $(( GRACE_S + 8 )) not_in_grace "$i" || cl_fail "Ganesha $i never left its start-up grace"
done
cl_log "Ganesha up and out of start-up grace on 3 nodes ($(( $(cl_now_ms) - t0 )) ms)"

# 2. takeip on node 1, which holds the address as chorusd would have added it
ip -n "$(cl_ns 1)" addr add "$VIP/$CL_PREFIXLEN" dev eth0 || cl_fail "cannot add $VIP"
not_in_grace 1 || cl_fail "node 1 in grace before takeip"
if [ -n "$NFSCP" ]; then
    nfs_write before || cl_fail "NFS client cannot write through $VIP before takeip: $(cat "$CL_DIR/nfs.out")"
fi
th=$(cl_now_ms)
hook 1 takeip "$VIP" || cl_fail "takeip failed: $(cat "$CL_DIR/hook.out")"
dt=$(( $(cl_now_ms) - th ))
in_grace 1 || cl_fail "node 1 not in grace after takeip"
for i in 2 3; do not_in_grace "$i" || cl_fail "node $i in grace, only node 1 took the address"; done
[ "$(takeover_logged 1 "$VIP")" = 1 ] || cl_fail "Ganesha 1 did not log the takeover of $VIP"
cl_log "2. takeip ($dt ms): Ganesha 1 in grace for $VIP, 2 and 3 not"
if [ -n "$NFSCP" ]; then
    nfs_refused_grace during || cl_fail "NFS client not refused with NFS4ERR_GRACE: $(cat "$CL_DIR/nfs.out")"
    cl_log "   NFSv4 client through $VIP: written before takeip, NFS4ERR_GRACE after"
else
    cl_log "   (no nfs-cp from libnfs-utils: the NFS client checks are skipped)"
fi
# An IPv6 address reaches Ganesha whole: it splits "EVENT:ADDRESS" at the
# first ':' only (the address need not be configured for that).
hook 3 takeip fd00::5 || cl_fail "takeip fd00::5 failed: $(cat "$CL_DIR/hook.out")"
[ "$(takeover_logged 3 fd00::5)" = 1 ] || cl_fail "Ganesha 3 did not log the takeover of fd00::5"
cl_log "   takeip fd00::5 on node 3: Ganesha logged the takeover of that address"
cl_wait_until $(( GRACE_S + 5 )) not_in_grace 1 || cl_fail "node 1 stayed in grace"
cl_log "   grace over after $(( $(cl_now_ms) - th )) ms (Grace_Period $GRACE_S s)"
cl_wait_until $(( GRACE_S + 5 )) not_in_grace 3 || cl_fail "node 3 stayed in grace"
if [ -n "$NFSCP" ]; then
    nfs_write after || cl_fail "NFS client still refused after grace: $(cat "$CL_DIR/nfs.out")"
    if ! [ -f "$(cl_ndir 1)/ganesha/export/after" ] || [ -e "$(cl_ndir 1)/ganesha/export/during" ]; then
        cl_fail "export content: $(ls "$(cl_ndir 1)/ganesha/export")"
    fi
    cl_log "   NFSv4 client writes again after grace"
fi
ip -n "$(cl_ns 1)" addr del "$VIP/$CL_PREFIXLEN" dev eth0 || cl_fail "cannot remove $VIP"
# 3. releaseip: exit 0, no grace anywhere
hook 2 releaseip "$VIP" || cl_fail "releaseip failed: $(cat "$CL_DIR/hook.out")"
hook 2 releaseip "$VIP" lost || cl_fail "releaseip (lost) failed: $(cat "$CL_DIR/hook.out")"
for i in 1 2 3; do not_in_grace "$i" || cl_fail "node $i in grace after releaseip"; done
cl_log "3. releaseip: exit 0, nobody in grace"

# --- B. through chorusd ---------------------------------------------------------
if ! [ -x "$CHORUSD" ] || ! [ -x "$CHORUSCTL" ] || ! grep -qa CHORUS_REASON "$CHORUSD"; then
    cl_log "B. skipped: $CHORUSD has no service hook runner yet"
    echo "hooks-ganesha: part A passed, part B skipped (no hook runner in chorusd)"
    exit 0
fi
# The script chorusd runs is a wrapper that notes, in the node's own file,
# when each run of the real hook starts and ends, its exit code, and whether
# the address is on the interface at both moments; the real hook runs in
# between with the same argv and environment.
W=$CL_DIR/ganesha-hook
cat > "$W" <<EOF
#!/bin/sh
up() { ip -o addr show dev "\$CHORUS_INTERFACE" | grep -qF " \$2/" && echo up || echo down; }
f=$CL_DIR/hookrec.\$CHORUS_NODEID
echo "start \$(date +%s%3N) \$1 \$2 \$CHORUS_REASON \$(up "\$@")" >> "\$f"
$HOOK "\$@"; rc=\$?
echo "end \$(date +%s%3N) \$1 \$2 \$CHORUS_REASON \$(up "\$@") rc=\$rc" >> "\$f"
exit \$rc
EOF
chmod +x "$W"
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
rec() { cat "$CL_DIR/hookrec.$1" 2>/dev/null; }
rec_has() { rec "$1" | grep -qE "$2"; }          # rec_has I ERE
rec_ms() { rec "$1" | grep -E "$2" | tail -n 1 | awk '{ print $2 }'; }
took_ok() { rec_has "$1" "^end [0-9]+ takeip $VIP acquire up rc=0\$"; }
owner1() { local o; o=$(cl_vip_owner "$VIP") && [ "$(echo "$o" | wc -l)" = 1 ] && echo "$o"; }

tb=$(cl_now_ms)
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
hooks_json="\"hooks\":[{\"pool\":\"nfs\",\"script\":\"$W\",\"timeout_ms\":10000,\"args\":[\"timeout_ms=3000\"]}],"
for i in 1 2 3; do
    c=$(cl_ndir "$i")/chorusd.conf
    cl_write_chorus_conf "$i" "$c" 1
    sed -i -e 's/"pool":"default"/"pool":"nfs"/' -e "s|^\"failback\"|$hooks_json\n\"failback\"|" "$c"
    grep -q '"hooks"' "$c" || cl_fail "config without hooks: $(cat "$c")"
    cl_chorusd_start "$i" "$c"
done
cl_wait_until 20 owner1 > /dev/null || cl_fail "$VIP not placed on exactly one node"
A=$(owner1)
cl_wait_until 10 took_ok "$A" || cl_fail "no successful takeip hook on node $A: $(rec "$A")"
in_grace "$A" || cl_fail "node $A not in grace after its takeip at start"
cl_log "chorusd up ($(( $(cl_now_ms) - tb )) ms): $VIP on node $A, hook ran, Ganesha $A in grace"
for i in 1 2 3; do
    cl_wait_until $(( GRACE_S + 8 )) not_in_grace "$i" || cl_fail "Ganesha $i stayed in grace"
done

# 4. the owner dies: a survivor takes the address and enters grace for it
# (the owner again, in case placement changed its mind after the start)
A=$(owner1) || cl_fail "$VIP not on exactly one node: $(cl_vip_owner "$VIP" | paste -sd,)"
took_ok "$A" || cl_fail "node $A holds $VIP without a successful takeip hook: $(rec "$A")"
tk=$(cl_now_ms)
cl_chorusd_kill "$A" KILL; cl_corosync_kill "$A" KILL
is_moved() { local o; o=$(owner1) && [ "$o" != "$A" ]; }
cl_wait_until 30 is_moved || cl_fail "$VIP did not leave dead node $A: $(cl_vip_owner "$VIP" | paste -sd,)"
B=$(owner1)
cl_wait_until 10 took_ok "$B" || cl_fail "no successful takeip hook on node $B: $(rec "$B")"
in_grace "$B" || cl_fail "node $B not in grace after taking $VIP"
C=$(( 6 - A - B ))
not_in_grace "$C" || cl_fail "node $C in grace, it took nothing"
[ "$(takeover_logged "$B" "$VIP")" -ge 1 ] || cl_fail "Ganesha $B did not log the takeover of $VIP"
if [ -n "$NFSCP" ]; then
    nfs_refused_grace failover ||
        cl_fail "NFS client through $VIP not refused with NFS4ERR_GRACE by $B: $(cat "$CL_DIR/nfs.out")"
fi
cl_log "4. node $A killed: $VIP on node $B after $(( $(cl_now_ms) - tk )) ms, Ganesha $B in grace, $C not"

# 5. planned move B -> C: B's releaseip ran with the address up and ended
# before C's takeip started; C enters grace, B does not
cl_wait_until $(( GRACE_S + 8 )) not_in_grace "$B" || cl_fail "Ganesha $B stayed in grace"
ctl "$C" move "$VIP" "$C" > /dev/null || cl_fail "chorusctl move refused"
on_c() { [ "$(owner1)" = "$C" ]; }
cl_wait_until 15 on_c || cl_fail "move: $VIP not on node $C"
cl_wait_until 10 took_ok "$C" || cl_fail "no successful takeip hook on node $C: $(rec "$C")"
rec_has "$B" "^start [0-9]+ releaseip $VIP release up\$" ||
    cl_fail "node $B: no releaseip (reason release) while $VIP was up: $(rec "$B")"
rec_has "$B" "^end [0-9]+ releaseip $VIP release up rc=0\$" ||
    cl_fail "node $B: releaseip did not finish with $VIP still up: $(rec "$B")"
rel_end=$(rec_ms "$B" "^end [0-9]+ releaseip $VIP ")
take_start=$(rec_ms "$C" "^start [0-9]+ takeip $VIP ")
[ "$rel_end" -le "$take_start" ] ||
    cl_fail "takeip on $C started at $take_start, before releaseip on $B ended at $rel_end"
in_grace "$C" || cl_fail "node $C not in grace after the move"
not_in_grace "$B" || cl_fail "node $B in grace after releasing $VIP"
if [ -n "$NFSCP" ]; then
    nfs_refused_grace moved ||
        cl_fail "NFS client through $VIP not refused with NFS4ERR_GRACE by $C: $(cat "$CL_DIR/nfs.out")"
fi
cl_log "5. move $B -> $C: releaseip on $B (address up) ended $(( take_start - rel_end )) ms" \
    "before takeip on $C; Ganesha $C in grace, $B not"
echo "hooks-ganesha: all passed ($(( ($(cl_now_ms) - t0) / 1000 )) s)"
