#!/bin/bash
# brick-systemd.sh - under a real systemd, a brick that chorusd starts runs in
# a service of its own, outside chorusd.service's cgroup and sandbox, and a
# client can use a setgid project directory through it (issue 17, item 4).
#
#   1. A throwaway systemd (tests/integration/lib-systemd.sh: PID 1 of its own
#      PID namespace, overlay root, only this test's units) in node 1's
#      network namespace, running the packaged corosync.service and
#      glusterd.service and chorusd.service as built from
#      deploy/systemd/chorusd.service.in (a drop-in changes only the paths:
#      the build's chorusd, this run's configuration).
#   2. Volume gv with one brick on the floating address VIP (its "LUN" a
#      directory, bind-mounted), created and started by glusterd, then
#      released by hand and handed to chorusd.
#   3. systemctl start chorusd.service: chorusd adds VIP and runs
#      chorus-brick acquire; the brick's glusterfsd must run in a unit of its
#      own (chorus-brick-*.service), not in chorusd.service's cgroup, with
#      no no_new_privs and no seccomp filter (chorusd.service's
#      NoNewPrivileges= and RestrictSUIDSGID=).
#   4. A gfapi client (tests/integration/gfclient.c, setgid mode) makes a
#      setgid project directory through the brick (chown, chmod 02775); a
#      file and a subdirectory made in it get its group, the subdirectory the
#      setgid bit: on the LUN itself too.  Under chorusd's sandbox the chmod
#      fails with EPERM.
#   5. The brick is killed: chorusd's monitor restarts it in place, in the
#      same unit name again.  SIGKILL to every process of chorusd.service
#      (systemctl kill) leaves the brick running; systemd restarts chorusd,
#      and the brick it runs is in its own unit again.  systemctl stop
#      chorusd: the lone chorusd releases the brick before it exits; the
#      brick stops, its unit is gone, the LUN unmounted.
# Exit 77 without root, corosync, gluster, the gfapi client, or when this
# machine cannot boot a systemd (sd_require says why).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
. "$(dirname "$0")/lib-bricks.sh"
. "$(dirname "$0")/lib-systemd.sh"
bk_require
sd_require
for u in corosync.service glusterd.service; do
    [ -f "/lib/systemd/system/$u" ] || { echo "SKIP: /lib/systemd/system/$u missing (package not installed?)" >&2; exit 77; }
done
UNIT_IN=$BUILDDIR/deploy/systemd/chorusd.service
[ -f "$UNIT_IN" ] || { echo "SKIP: $UNIT_IN not built (make)" >&2; exit 77; }

cl_init brsysd 1
BK_NB=1 BK_FSTYPE=bind
VIP=$CL_NET.201
B1=$CL_DIR/shared/b1
LUN=$CL_DIR/lun1
BK_VIP[1]=$VIP BK_PATH[1]=$B1 BK_LUN[1]=$LUN
PIDFILE=/run/gluster/vols/$V/$VIP${B1//\//-}.pid     # inside the booted system
VOLFILE_ID=$V.$VIP.${B1#/}; VOLFILE_ID=${VOLFILE_ID//\//-}
GID=2742                                             # the project group
mkdir -p "$B1" "$LUN" "$CL_DIR/cl"
FAILS=()
fail_later() { cl_log "FAIL: $*"; FAILS+=("$*"); }

# --- 1. the system ----------------------------------------------------------
# corosync.service as packaged reads /etc/corosync/corosync.conf and has
# PrivateTmp=yes: its configuration, log and state go where it looks (the
# booted system's own /etc, /var/log, /var/lib; never the machine's)
cl_corosync_conf 1 >/dev/null
sed -e 's#^\( *logfile:\).*#\1 /var/log/corosync.log#' \
    -e 's#^\( *state_dir:\).*#\1 /var/lib/corosync#' "$(cl_ndir 1)/corosync.conf" |
    sd_file /etc/corosync/corosync.conf
sd_unit corosync.service < /lib/systemd/system/corosync.service
sd_unit glusterd.service < /lib/systemd/system/glusterd.service
sd_unit chorusd.service < "$UNIT_IN"
CONF=$(cl_ndir 1)/chorusd.conf
sd_unit chorusd.service.d/paths.conf <<EOF
# tests/integration/brick-systemd.sh: this build's binaries, this run's config
[Service]
ExecStart=
ExecStart=$(realpath "$CHORUSD") -c $CONF
ExecReload=
ExecReload=$(realpath "$CHORUSCTL") -s $(cl_ndir 1)/chorus-run/chorusd.sock reload
EOF
sd_boot 1

on_fail_dump() {
    local bl=${B1#/}
    sd_exec systemctl --no-pager list-units --all 2>&1 | grep -E 'chorus|gluster|corosync' >&2
    sd_exec tail -n 8 /var/log/corosync.log /var/log/glusterfs/glusterd.log \
        "/var/log/glusterfs/bricks/${bl//\//-}.log" >&2 2>/dev/null
    tail -n 20 "$(cl_ndir 1)/chorusd.log" "$(sd_dir)/systemd.out" >&2 2>/dev/null
}
die() { on_fail_dump; cl_fail "$@"; }

sd_exec timeout 60 systemctl start corosync.service glusterd.service ||
    die "corosync/glusterd did not start: $(sd_exec systemctl --no-pager status corosync.service glusterd.service 2>&1 | tail -n 20)"
gl_sd() { sd_exec timeout "$GL_CLI_TIMEOUT_S" "$GL_GLUSTER" --mode=script "$@"; }
gl_sd_ok() { gl_sd pool list >/dev/null 2>&1; }
cl_wait_until "$GL_WAIT_S" gl_sd_ok || die "glusterd under systemd does not answer"
cs_ok() { sd_exec timeout 2 corosync-quorumtool -s 2>/dev/null | grep -qE '^Quorate:[[:space:]]+Yes'; }
cl_wait_until 30 cs_ok || die "corosync under systemd not quorate"
cl_log "corosync and glusterd up under systemd"

# --- 2. the volume, handed over to chorusd -----------------------------------
ip -n "$(cl_ns 1)" addr add "$VIP/$CL_PREFIXLEN" dev eth0 || die "add $VIP"
sd_exec mount --bind "$LUN" "$B1" || die "bind the LUN"
gl_sd volume create "$V" "$VIP:$B1" force >/dev/null ||
    die "volume create: $(gl_sd volume create "$V" "$VIP:$B1" force 2>&1)"
gl_sd volume start "$V" >/dev/null || die "volume start"
glusterd_brick() { sd_find_pid "$VOLFILE_ID" >/dev/null; }
cl_wait_until "$GL_WAIT_S" glusterd_brick || die "glusterd did not start the brick"
HOME_UUID=$(sd_exec sed -n 's/^UUID=//p' /var/lib/glusterd/glusterd.info)
sd_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CHORUS_BRICK_VOLUME="$V" CHORUS_BRICK_HOST="$VIP" CHORUS_BRICK_ADDRESS="$VIP" \
    CHORUS_BRICK_PATH="$B1" CHORUS_BRICK_DEVICE="$LUN" CHORUS_BRICK_FSTYPE=bind \
    CHORUS_BRICK_HOME_UUID="$HOME_UUID" CHORUS_RUN_DIR=/run/chorus \
    timeout 90 "$BK_SCRIPT" release >> "$CL_DIR/script-by-hand.log" 2>&1 ||
    die "release by hand: $(tail -n 5 "$CL_DIR/script-by-hand.log")"
glusterd_brick && die "the brick glusterd started survived the release"
ip -n "$(cl_ns 1)" addr del "$VIP/$CL_PREFIXLEN" dev eth0

# --- 3. chorusd.service starts the brick --------------------------------------
bk_write_conf 1 "$CONF" 20000
t0=$(cl_now_ms)
sd_exec timeout 90 systemctl start chorusd.service ||
    die "chorusd.service did not start: $(sd_exec systemctl --no-pager status chorusd.service 2>&1 | tail -n 20)"
cl_log "chorusd.service active in $(( $(cl_now_ms) - t0 )) ms"
# brick_up: the pidfile names a live glusterfsd of this brick; BPID = its PID
brick_up() {
    local nspid p
    nspid=$(sd_exec cat "$PIDFILE" 2>/dev/null) && [[ $nspid =~ ^[0-9]+$ ]] || return 1
    p=$(sd_host_pid "$nspid") || return 1
    tr '\0' '\n' 2>/dev/null < "/proc/$p/cmdline" | grep -qxF -- "$VOLFILE_ID" || return 1
    BPID=$p
}
cl_wait_until 90 brick_up || die "chorusd did not start the brick"
cl_log "brick up: pid $BPID, cgroup $(sd_unit_cgroup "$BPID")"
CHORUSD_CG=$(sd_unit_cgroup "$(sd_find_pid "$CONF")")
case $CHORUSD_CG in */chorusd.service) ;; *) die "chorusd is not in chorusd.service: $CHORUSD_CG" ;; esac
check_brick() {         # check_brick PID : its own unit, none of chorusd's sandbox
    local pid=$1 cg st
    cg=$(sd_unit_cgroup "$pid")
    st=$(grep -E '^(NoNewPrivs|Seccomp):' "/proc/$pid/status" | tr -s '\t\n' '  ')
    echo "brick pid $pid: cgroup $cg; $st"
    case $cg in
        */system.slice/chorus-brick-"$V"-*.service) ;;
        "$CHORUSD_CG") fail_later "the brick runs in chorusd.service's cgroup ($cg)" ;;
        *) fail_later "the brick runs in $cg, not in a chorus-brick-$V-*.service" ;;
    esac
    [[ $st == *"NoNewPrivs: 1"* ]] && fail_later "the brick has no_new_privs (chorusd's NoNewPrivileges=)"
    [[ $st == *"Seccomp: 0"* ]] || fail_later "the brick has a seccomp filter ($st): chorusd's sandbox"
}
check_brick "$BPID"
BRICK_UNIT=$(sd_unit_cgroup "$BPID"); BRICK_UNIT=${BRICK_UNIT##*/}

# --- 4. a setgid project directory through the brick ----------------------------
GL_CLIENT_TIMEOUT_S=90 gl_client "$V" setgid /proj "$GID" > "$CL_DIR/cl/setgid.out" 2>&1
grep '^SETGID' "$CL_DIR/cl/setgid.out"
grep -qx 'SETGID ok' "$CL_DIR/cl/setgid.out" ||
    fail_later "setgid project directory through the brick: $(grep '^SETGID FAIL' "$CL_DIR/cl/setgid.out" || tail -n 2 "$CL_DIR/cl/setgid.out")"
# on the LUN itself (this directory is the brick's storage)
lun_says() { stat -c '%A %g' "$LUN/$1" 2>/dev/null; }
echo "on the LUN: proj $(lun_says proj), proj/file $(lun_says proj/file), proj/sub $(lun_says proj/sub)"
[[ $(lun_says proj) == ??????s???" $GID" ]] || fail_later "LUN: proj is $(lun_says proj), want setgid group $GID"
[[ $(lun_says proj/file) == *" $GID" ]] || fail_later "LUN: proj/file is $(lun_says proj/file), want group $GID"
[[ $(lun_says proj/sub) == ??????s???" $GID" ]] || fail_later "LUN: proj/sub is $(lun_says proj/sub), want setgid group $GID"

# --- 5. restart in place, release ---------------------------------------------------
kill -KILL "$BPID"
cl_wait_until 10 cl__gone "$BPID" || die "brick $BPID did not die"
brick_back() { brick_up && [ "$BPID" != "$OLD" ]; }
OLD=$BPID
cl_wait_until 60 brick_back || die "chorusd did not restart the killed brick: $(grep -i brick "$(cl_ndir 1)/chorusd.log" | tail -n 5)"
cl_log "brick restarted in place: pid $BPID"
OLD2=$BPID
check_brick "$BPID"
if [ -n "$BRICK_UNIT" ] && [[ $BRICK_UNIT == chorus-brick-* ]] &&
   [ "$(sd_unit_cgroup "$BPID")" != "${CHORUSD_CG%/*}/$BRICK_UNIT" ]; then
    fail_later "the restarted brick is not in $BRICK_UNIT again: $(sd_unit_cgroup "$BPID")"
fi
# chorusd dies, every process of chorusd.service with it (systemctl kill,
# once chorusd has finished the restart): the brick is not one of them.
# (What the chorusd that systemd starts again then does with it is its own
# business: with the test's 1 s address lifetime the address is gone by
# then, and it stops the brick before it joins, then starts it again.)
restarted() { grep -q 'restarted in place' "$(cl_ndir 1)/chorusd.log"; }
cl_wait_until 60 restarted || die "chorusd did not log the restart in place"
sd_exec systemctl kill --signal=SIGKILL chorusd.service || die "systemctl kill chorusd.service failed"
sleep 0.3
if cl__alive "$OLD2"; then
    cl_log "every process of chorusd.service killed: brick $OLD2 still running"
else
    fail_later "the brick died with chorusd.service's processes"
fi
sd_active() { [ "$(sd_exec systemctl show -p ActiveState --value chorusd.service)" = active ]; }
cl_wait_until 60 sd_active || die "systemd did not restart chorusd.service"
cl_wait_until 60 brick_up || die "the restarted chorusd does not run the brick"
check_brick "$BPID"
# Stop: a lone chorusd has nobody to hand over to, so it releases the
# brick and waits for that before it leaves (scenario 055; it used to exit
# with the release in flight, "release cancelled at shutdown"): the brick
# stops, its unit goes, the LUN is unmounted
sd_exec timeout 60 systemctl stop chorusd.service || die "systemctl stop chorusd.service failed"
brick_by_hand() {
    sd_exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_BRICK_VOLUME="$V" CHORUS_BRICK_HOST="$VIP" CHORUS_BRICK_ADDRESS="$VIP" \
        CHORUS_BRICK_PATH="$B1" CHORUS_BRICK_DEVICE="$LUN" CHORUS_BRICK_FSTYPE=bind \
        CHORUS_BRICK_HOME_UUID="$HOME_UUID" CHORUS_RUN_DIR="$(cl_ndir 1)/chorus-run" \
        timeout 90 "$BK_SCRIPT" "$1" >> "$CL_DIR/script-by-hand.log" 2>&1
}
no_brick() { ! sd_find_pid "$VOLFILE_ID" >/dev/null; }
if ! cl_wait_until 10 no_brick; then
    fail_later "the brick outlived chorusd's stop (pid $(sd_find_pid "$VOLFILE_ID")): released by hand"
    brick_by_hand release || fail_later "release: $(tail -n 3 "$CL_DIR/script-by-hand.log")"
    cl_wait_until 10 no_brick || fail_later "a glusterfsd of the brick survived the release: $(sd_find_pid "$VOLFILE_ID")"
fi
if [[ $BRICK_UNIT == chorus-brick-* ]]; then
    st=$(sd_exec systemctl show -p ActiveState --value "$BRICK_UNIT" 2>/dev/null)
    [ "$st" = inactive ] || [ -z "$st" ] || fail_later "$BRICK_UNIT is $st after the release"
fi
sd_exec mountpoint -q "$B1" && fail_later "the LUN is still mounted after the release"
brick_by_hand monitor; rc=$?
[ "$rc" = 7 ] || fail_later "monitor after the release: $rc, want 7"

if [ "${#FAILS[@]}" -gt 0 ]; then
    on_fail_dump
    cl_fail "${#FAILS[@]} check(s) failed: $(printf '%s; ' "${FAILS[@]}")"
fi
echo "OK: brick-systemd (brick in $BRICK_UNIT, setgid directory through it)"
