#!/bin/bash
# The Samba service hook (deploy/hooks/samba) against a real smbd per node.
#
# Every node namespace runs its own smbd (own smb.conf, private/lock/state/
# cache/pid dirs and logs under the run dir, "bind interfaces only = yes",
# one guest-readable share of a directory all nodes see, as a Gluster volume
# would be); the client namespace runs smbclient.  The hook is called exactly
# as chorusd calls it: argv [script, ACTION, ADDRESS, args...], the CHORUS_*
# environment and PATH only, stdin /dev/null, in the node's namespace.
#
#   1. no smbd: takeip fails and says smbd is not running
#   2. smbd bound to the addresses eth0 had at its start: a VIP added
#      later refuses SMB, and still does after "smbcontrol reload-config";
#      takeip without restart= fails and says why; takeip with restart=
#      makes the VIP serve (smbclient reads the file through it)
#   3. releaseip ends the smbd session on the VIP and only that one (a session
#      on the node's own address survives)
#   4. the recommended setup (VIPs in "interfaces", ip_nonlocal_bind=1): smbd
#      listens on a VIP the node does not have; takeip only checks; the VIP
#      serves as soon as it is added, also after a move away and back
#   5. a 3-node chorusd cluster with the hook configured for the VIP's pool:
#      the VIP serves SMB on its owner; "chorusctl move" to a node whose smbd
#      never bound it ends the session on the old owner and, through the
#      hook's restart, serves on the new one; the owner killed, a survivor
#      serves it
set -uo pipefail
. "$(dirname "$0")/lib.sh"
HOOK=${SAMBA_HOOK:-$CL_ROOT/deploy/hooks/samba}
EXAMPLE=$CL_ROOT/deploy/examples/chorus-samba.json
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root" >&2; exit 77; fi
for t in smbd smbclient smbcontrol testparm ss ip unshare jq "$CL_COROSYNC" corosync-cmapctl \
         corosync-quorumtool; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found (deploy/deps.sh)" >&2; exit 77; }
done
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
[ -x "$CHORUSD" ] && [ -x "$CHORUSCTL" ] || { echo "SKIP: chorusd/chorusctl not built (BUILDDIR)" >&2; exit 77; }
[ -x "$HOOK" ] || { echo "hook $HOOK not executable" >&2; exit 1; }

cl_init hooksmb 3
SHARE=$CL_DIR/share
mkdir -p "$SHARE" && echo "chorus-samba-$$" > "$SHARE/hello.txt" && chmod -R a+rX "$SHARE" ||
    cl_fail "cannot make the share"
chmod a+rx "$CL_DIR"
VIP=$(cl_vip_addr 0); VIP=${VIP%/*}
VIP2=$(cl_vip_addr 1); VIP2=${VIP2%/*}

# sb_conf I INTERFACES : node I's smb.conf, everything under n<i>/smb
sb_conf() {
    local i=$1 d; d=$(cl_ndir "$i")/smb
    mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc,log}
    cat > "$d/smb.conf" <<EOF
[global]
  workgroup = CHORUS
  server role = standalone server
  bind interfaces only = yes
  interfaces = $2
  smb ports = 445
  disable netbios = yes
  private dir = $d/private
  lock directory = $d/lock
  state directory = $d/state
  cache directory = $d/cache
  pid directory = $d/pid
  ncalrpc dir = $d/ncalrpc
  log file = $d/log/log.%m
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = Bad User
  guest account = nobody
  passdb backend = tdbsam:$d/private/passdb.tdb
[share]
  path = $SHARE
  guest ok = yes
  read only = yes
EOF
    echo "$d/smb.conf"
}
# Not --no-process-group: smbd's parent signals its whole process group when it
# exits, which would be this test's group.
sb_smbd_start() {                   # foreground smbd in node I's netns and /run
    local i=$1 d; d=$(cl_ndir "$i")/smb
    cl__spawn "smbd.$i" "$i" "$d/smbd.out" smbd --foreground -s "$d/smb.conf"
    cl__wait_exec "$CL_SPAWN_PID" || cl_fail "smbd $i did not start: $(tail -n3 "$d/smbd.out")"
    cl__record "smbd.$i" "$CL_SPAWN_PID"
    cl_wait_until 15 cl_exec "$i" smbcontrol -s "$d/smb.conf" -t 2 smbd ping >/dev/null 2>&1 ||
        cl_fail "smbd $i does not answer ping: $(tail -n5 "$d/smbd.out")"
    cl_log "smbd $i up (pid $CL_SPAWN_PID)"
}
# hook I ACTION ADDR [REASON] [ARGS...] : as chorusd runs it; output in $HOOK_OUT
hook() {
    local i=$1 act=$2 addr=$3 reason=${4:-}; shift 4
    [ -n "$reason" ] || { [ "$act" = takeip ] && reason=acquire || reason=release; }
    HOOK_OUT=$(cl_exec "$i" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_ACTION="$act" CHORUS_ADDRESS="$addr" CHORUS_PREFIX="$CL_PREFIXLEN" \
        CHORUS_FAMILY=inet CHORUS_INTERFACE=eth0 CHORUS_POOL=smb CHORUS_NODEID="$i" \
        CHORUS_REASON="$reason" timeout 30 "$HOOK" "$act" "$addr" "$@" 2>&1 </dev/null)
    local rc=$?
    cl_log "hook n$i $act $addr -> $rc: $HOOK_OUT"
    return $rc
}
smb_get() {                         # smb_get ADDR : print hello.txt read through ADDR
    ip netns exec "$(cl_ns_cl)" timeout 15 smbclient -N -s /dev/null "//$1/share" \
        -c 'get hello.txt -' 2>&1
}
smb_serves() { [[ $(smb_get "$1") == *"chorus-samba-$$"* ]]; }
vip_add() { ip -n "$(cl_ns "$1")" addr add "$2/$CL_PREFIXLEN" dev eth0; }
vip_del() { ip -n "$(cl_ns "$1")" addr del "$2/$CL_PREFIXLEN" dev eth0; }
# established smbd connections in node I whose local address is ADDR
sessions_on() { cl_exec "$1" ss -Htnp state established 2>/dev/null | awk -v a="$2:445" '$3 == a && /"smbd/' | wc -l; }
sessions_are() { [ "$(sessions_on "$1" "$2")" = "$3" ]; }
# a long SMB session: smbclient waiting for commands, ended by teardown at worst
session_open() {                    # session_open NAME ADDR
    ip netns exec "$(cl_ns_cl)" timeout 60 sh -c \
        "sleep 50 | exec smbclient -N -s /dev/null //$2/share" >"$CL_DIR/$1.out" 2>&1 &
    cl__record "$1" "$!"
}
t_start=$(cl_now_ms)

# --- 1. no smbd --------------------------------------------------------------
# "eth0", not the subnet: a subnet binds one address of it only, never a VIP.
CONF1=$(sb_conf 1 eth0)
vip_add 1 "$VIP"
hook 1 takeip "$VIP" "" "conf=$CONF1" && cl_fail "takeip succeeded without smbd"
[[ $HOOK_OUT == *"smbd is not running"* ]] || cl_fail "no clear message without smbd: $HOOK_OUT"
cl_log "1 ok: without smbd takeip fails: smbd is not running"
vip_del 1 "$VIP"

# --- 2. smbd binds at start only; the hook's restart makes the VIP serve -----
sb_smbd_start 1
smb_serves "$(cl_addr 1)" || cl_fail "smbd 1 does not serve its own address: $(smb_get "$(cl_addr 1)")"
vip_add 1 "$VIP"
out=$(smb_get "$VIP")
[[ $out == *NT_STATUS_CONNECTION_REFUSED* ]] || cl_fail "VIP added after smbd start served or failed oddly: $out"
cl_exec 1 smbcontrol -s "$CONF1" smbd reload-config || cl_fail "reload-config failed"
sleep 1
out=$(smb_get "$VIP")
[[ $out == *NT_STATUS_CONNECTION_REFUSED* ]] ||
    cl_fail "after reload-config the new VIP no longer refuses (Samba changed? then simplify the hook): $out"
cl_log "2a ok: a VIP added after smbd started refuses SMB, also after reload-config"
hook 1 takeip "$VIP" "" "conf=$CONF1" && cl_fail "takeip claimed success on an unbound VIP"
[[ $HOOK_OUT == *"does not listen on $VIP"*ip_nonlocal_bind* ]] || cl_fail "takeip did not say why: $HOOK_OUT"
smb_serves "$VIP" && cl_fail "VIP serves although the hook did nothing"
# The restart command: what systemctl restart smbd does, for one node's smbd
# (TERM, bounded wait, start as a daemon); it runs in the hook's namespace.
cat > "$CL_DIR/smbd-restart" <<'EOF'
#!/bin/sh
# smbd-restart PIDFILE CONF
pid=$(cat "$1" 2>/dev/null)
if [ -n "$pid" ]; then
    kill -TERM "$pid"
    n=0; while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
fi
exec smbd --daemon -s "$2"
EOF
chmod +x "$CL_DIR/smbd-restart"
hook 1 takeip "$VIP" "" "conf=$CONF1" "restart=$CL_DIR/smbd-restart $(cl_ndir 1)/smb/pid/smbd.pid $CONF1" "wait=8" ||
    cl_fail "takeip with restart= failed"
pid=$(cat "$(cl_ndir 1)/smb/pid/smbd.pid" 2>/dev/null) && cl__record smbd.1 "$pid" ||
    cl_fail "restarted smbd wrote no pid file"
out=$(smb_get "$VIP")
[[ $out == *"chorus-samba-$$"* ]] || cl_fail "VIP does not serve after takeip with restart=: $out"
hook 1 takeip "$VIP" "" "conf=$CONF1" "restart=/bin/false" ||
    cl_fail "second takeip of a served VIP failed (must not restart)"
cl_log "2b ok: takeip restart= made smbd serve the VIP (read the file through $VIP)"

# --- 3. releaseip ends the VIP's sessions, not the others ---------------------
session_open sess.vip "$VIP"
session_open sess.own "$(cl_addr 1)"
cl_wait_until 10 sessions_are 1 "$VIP" 1 || cl_fail "no SMB session on $VIP"
cl_wait_until 10 sessions_are 1 "$(cl_addr 1)" 1 || cl_fail "no SMB session on the node address"
hook 1 releaseip "$VIP" release "conf=$CONF1" || cl_fail "releaseip failed"
[[ $HOOK_OUT == *"ended 1 smbd session"* ]] || cl_fail "releaseip did not report the session: $HOOK_OUT"
sessions_are 1 "$VIP" 0 || cl_fail "session on $VIP still there after releaseip"
sessions_are 1 "$(cl_addr 1)" 1 || cl_fail "releaseip also ended the session on the node address"
vip_del 1 "$VIP"
hook 1 releaseip "$VIP" lost "conf=$CONF1" || cl_fail "releaseip (lost) with nothing to drop failed"
cl_log "3 ok: releaseip ended the session on $VIP only"
hook 1 takeip "$VIP" "" "conf=$CONF1" "bogus=1" && cl_fail "unknown argument accepted"
hook 1 takeip "$VIP;id" "" "conf=$CONF1" && cl_fail "hostile address accepted"

# --- 4. recommended: VIPs in "interfaces", non-local bind ----------------------
cl_exec 2 sysctl -qw net.ipv4.ip_nonlocal_bind=1 || cl_fail "sysctl ip_nonlocal_bind"
CONF2=$(sb_conf 2 "$(cl_addr 2)/$CL_PREFIXLEN $VIP/$CL_PREFIXLEN $VIP2/$CL_PREFIXLEN")
sb_smbd_start 2
hook 2 takeip "$VIP2" "" "conf=$CONF2" || cl_fail "takeip on a pre-bound VIP failed"
[[ $HOOK_OUT == *"already listens on $VIP2"* ]] || cl_fail "takeip did not check the listener: $HOOK_OUT"
vip_add 2 "$VIP2"
smb_serves "$VIP2" || cl_fail "pre-bound VIP does not serve once added: $(smb_get "$VIP2")"
vip_del 2 "$VIP2"; vip_add 1 "$VIP2"; vip_del 1 "$VIP2"; vip_add 2 "$VIP2"
smb_serves "$VIP2" || cl_fail "pre-bound VIP does not serve after moving away and back"
cl_log "4 ok: VIPs in interfaces + ip_nonlocal_bind: smbd serves each VIP the moment it is added"

# --- 5. through chorusd: the hook configured for the VIP's pool ---------------
# Node 1 keeps its restart-mode smbd, node 2 its pre-bound one; node 3 gets a
# fresh restart-mode smbd that has never seen the VIP, so on node 3 only a
# takeip run by chorusd (which restarts smbd) can make the VIP serve.
sb_conf 3 eth0 >/dev/null
sb_smbd_start 3
smbd3=$CL_SPAWN_PID
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do
    d=$(cl_ndir "$i")
    cl_write_chorus_conf "$i" "$d/chorusd.tmp" 1
    # the shipped example's hook entry, with this run's paths; restart= for
    # nodes 1 and 3, harmless on node 2 (its smbd listens already)
    jq --slurpfile ex "$EXAMPLE" --arg h "$HOOK" --arg c "conf=$d/smb/smb.conf" \
       --arg r "restart=$CL_DIR/smbd-restart $d/smb/pid/smbd.pid $d/smb/smb.conf" \
       '.vips[0].pool = "smb" |
        .hooks = [$ex[0].hooks[0] | .script = $h | .timeout_ms = 20000 |
                  .args = ([.args[] | select(startswith("conf=") or startswith("wait=") | not)]
                           + [$c, $r, "wait=8"])]' \
       "$d/chorusd.tmp" > "$d/chorusd.conf" || cl_fail "jq"
done
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
owner_is() { [ "$(cl_vip_owner "$VIP" | paste -sd+)" = "$1" ]; }
owner_in_12() { local o; o=$(cl_vip_owner "$VIP" | paste -sd+); [ "$o" = 1 ] || [ "$o" = 2 ]; }
t5=$(cl_now_ms)
for i in 1 2; do cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"; done
cl_wait_until 30 owner_in_12 || cl_fail "VIP not placed on node 1 or 2: $(cl_vip_owner "$VIP")"
x=$(cl_vip_owner "$VIP")
cl_wait_until 15 smb_serves "$VIP" || cl_fail "VIP on node $x does not serve: $(smb_get "$VIP")"
cl_chorusd_start 3 "$(cl_ndir 3)/chorusd.conf"
cl_wait_until 10 test -S "$(cl_ndir 3)/chorus-run/chorusd.sock" || cl_fail "no control socket on node 3"
sleep 1
owner_is "$x" || cl_fail "VIP moved from $x when node 3 joined: $(cl_vip_owner "$VIP")"
cl_log "5a ok: VIP on node $x serves SMB through chorusd"

# planned move to node 3: releaseip on $x (its session ends), takeip on 3
session_open sess.move "$VIP"
cl_wait_until 10 sessions_are "$x" "$VIP" 1 || cl_fail "no SMB session on $VIP at node $x"
ctl "$x" move "$VIP" 3 >/dev/null || cl_fail "chorusctl move refused"
cl_wait_until 15 owner_is 3 || cl_fail "move: VIP not on node 3: $(cl_vip_owner "$VIP")"
cl_wait_until 10 sessions_are "$x" "$VIP" 0 || cl_fail "session on $VIP at node $x survived the move"
cl_wait_until 20 smb_serves "$VIP" || cl_fail "VIP moved to node 3 does not serve: $(smb_get "$VIP")"
pid3=$(cat "$(cl_ndir 3)/smb/pid/smbd.pid" 2>/dev/null)
[ -n "$pid3" ] && [ "$pid3" != "$smbd3" ] ||
    cl_fail "node 3's smbd was not restarted by the hook (pid $smbd3 -> ${pid3:-none})"
cl__record smbd.3 "$pid3"
cl_log "5b ok: move $x -> 3: session on $x ended, chorusd's takeip restarted smbd 3, VIP serves"

# node 3 dies: a survivor takes the VIP and serves it
ctl 3 unpin "$VIP" >/dev/null || cl_fail "unpin refused"
sleep 1
owner_is 3 || cl_fail "unpin moved the VIP: $(cl_vip_owner "$VIP")"
t0=$(cl_now_ms)
cl_chorusd_kill 3 KILL
cl_corosync_kill 3 KILL
cl_wait_until 30 owner_in_12 || cl_fail "no survivor took the VIP: $(cl_vip_owner "$VIP")"
cl_wait_until 15 smb_serves "$VIP" || cl_fail "VIP on the survivor does not serve: $(smb_get "$VIP")"
cl_log "5c ok: node 3 killed, node $(cl_vip_owner "$VIP") serves the VIP $(( $(cl_now_ms) - t0 )) ms later"
cl_log "5 done in $(( $(cl_now_ms) - t5 )) ms"

cl_log "all ok in $(( $(cl_now_ms) - t_start )) ms"
