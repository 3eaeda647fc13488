# shellcheck shell=bash
# tests/integration/lib-bricks.sh - a corosync + glusterd + chorusd cluster
# whose distribute volume "gv" has BK_NB bricks on floating addresses,
# managed by chorusd (issue 4; 3 nodes and 2 bricks in brick-failover.sh, 5
# nodes and N bricks in the chaos suite).  Source after lib.sh and
# lib-gluster.sh.
#
#     bk_setup NAME GRACE_MS     3 nodes, 2 bricks, everything up and running
#     bk_gluster_setup NB        after cl_init + corosync: glusterd on every
#                                node, the pool, the volume with NB floating
#                                bricks, stopped and handed over (no chorusd yet)
#
# Layout, the "LUN model": brick k lives on a "LUN" which only its owner
# mounts onto the (otherwise empty) brick path $CL_DIR/shared/bk inside its
# own mount namespace, as a SAN LUN is mounted only on its owner, so a node
# that does not own it cannot see it.  BK_FSTYPE picks the LUN:
#   bind (default)  the directory $CL_DIR/lunk, bind-mounted
#   xfs             a loop device over the sparse file $CL_DIR/lunk.img
#                   carrying XFS: a block device every node sees, as a SAN
#                   LUN is, mounted by the brick script like a real one.
#                   Teardown detaches exactly the loop devices backed by
#                   this run's files, once nothing can hold a mount of them.
#   none            no LUN: the brick path is a plain directory every node
#                   sees, as on a cluster file system; chorus mounts nothing
#                   (no "device" in the config).
# Brick k's gluster host is its floating address
# BK_VIP[k] (.200+k of the node subnet); the volume is created with brick k
# on its home node (bk_home), then all are stopped by hand and handed to
# chorusd.
#
# chorusd runs in its node's netns *and* glusterd's mount namespace (nsenter),
# so the brick script it runs sees glusterd's /run, /var/lib/glusterd and
# /var/log/glusterfs, and the brick mounts it makes are the ones glusterfsd
# (its child) uses.

: "${CHORUSCTL:=$BUILDDIR/coordinator/chorusctl}"
BK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BK_SCRIPT=$BK_SRC/deploy/brick/chorus-brick
BK_HOOK=$BK_SRC/deploy/gluster-hooks/S29chorus-inventory.sh
V=gv
declare -a BK_VIP BK_LUN BK_PATH BK_PIDF BK_SETS
BK_NB=${BK_NB:-2}
: "${BK_FSTYPE:=bind}"
# XFS refuses file systems under 300 MiB; the file is sparse (about 65 MiB
# written: mostly the log)
: "${BK_LUN_SIZE:=512M}"

bk_home() { echo $(( ($1 - 1) % CL_N + 1 )); }   # node brick K is created on

# bk_require [noclient] : exit 77 unless everything runs here (the gfapi
# test client too, unless "noclient")
bk_require() {
    cl_require_root_corosync
    if [ "${1:-}" = noclient ]; then gl_require_root_gluster; else gl_require_root_gluster client; fi
    local f t
    for f in "$CHORUSD" "$CHORUSCTL" "$BK_SCRIPT"; do
        [ -e "$f" ] || { echo "SKIP: $f not built" >&2; exit 77; }
    done
    for t in getfattr findmnt ss; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found" >&2; exit 77; }
    done
    case $BK_FSTYPE in
        bind|none) ;;
        xfs) for t in losetup mkfs.xfs xfs_repair truncate; do
                 command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found (xfsprogs)" >&2; exit 77; }
             done ;;
        *) echo "BK_FSTYPE must be bind, xfs or none, not '$BK_FSTYPE'" >&2; exit 2 ;;
    esac
}

# bk__lun_make K : brick K's LUN, empty and unmounted; sets BK_LUN[K]
bk__lun_make() {
    local k=$1 img dev
    if [ "$BK_FSTYPE" = none ]; then BK_LUN[$k]=""; return 0; fi
    if [ "$BK_FSTYPE" = bind ]; then
        BK_LUN[$k]=$CL_DIR/lun$k
        mkdir -p "${BK_LUN[$k]}" || cl_fail "mkdir LUN $k"
        return 0
    fi
    img=$CL_DIR/lun$k.img
    bk__install_teardown
    truncate -s "$BK_LUN_SIZE" "$img" || cl_fail "LUN $k: truncate $img"
    dev=$(losetup -f --show "$img") || cl_fail "LUN $k: losetup -f --show $img"
    mkfs.xfs -q "$dev" || cl_fail "LUN $k: mkfs.xfs $dev"
    BK_LUN[$k]=$dev
}

# bk_lun_loops : "DEVICE FILE" of every loop device backed by this run's LUN
# files (found by their backing file, so a device attached just before a
# signal is not missed)
bk_lun_loops() {
    local img dev
    for img in "$CL_DIR"/lun*.img; do
        [ -f "$img" ] || continue
        for dev in $(losetup -n -O NAME -j "$img" 2>/dev/null); do echo "$dev $img"; done
    done
}

# bk_lun_mounted_on K : the nodes whose glusterd's mount namespace has brick
# K's LUN mounted (a node without a live glusterd shows nothing)
bk_lun_mounted_on() {
    local k=$1 i pid out="" want
    [ "$BK_FSTYPE" != none ] || return 0
    if [ "$BK_FSTYPE" = bind ]; then want=${BK_LUN[$k]}; else want=$(stat -L -c '%Hr:%Lr' "${BK_LUN[$k]}") || return 1; fi
    for (( i = 1; i <= CL_N; i++ )); do
        pid=$(gl_pid "$i") || continue
        if [ "$BK_FSTYPE" = bind ]; then
            awk -v p="${BK_PATH[$k]}" '$5 == p { f = 1 } END { exit !f }' "/proc/$pid/mountinfo" 2>/dev/null
        else
            awk -v d="$want" '$3 == d { f = 1 } END { exit !f }' "/proc/$pid/mountinfo" 2>/dev/null
        fi && out+="$i "
    done
    echo "${out% }"
}

# Teardown: with XFS LUNs, once every process of the run is gone (so no
# mount namespace holds a LUN any more), bk_on_luns_idle runs if the
# sourcing script defines it (e.g. to check the file systems), then the loop
# devices are detached and their files removed.
bk__install_teardown() { cl_before_teardown bk__luns_teardown; }
bk__luns_teardown() {
    # a mount lives as long as a process of its namespace: every one of
    # them, not just glusterd's (already done when lib-gluster's ran first)
    if declare -F gl__teardown >/dev/null; then gl__teardown; fi
    if declare -F bk_on_luns_idle >/dev/null; then bk_on_luns_idle || true; fi
    bk__luns_detach
}

bk__luns_detach() {
    local dev img n left
    while read -r dev img; do
        [ -n "$dev" ] || continue
        # a device still mounted somewhere is marked autoclear and goes
        # with its last unmount
        losetup -d "$dev" 2>/dev/null || cl_log "teardown: losetup -d $dev failed"
    done < <(bk_lun_loops)
    for (( n = 0; n < 50; n++ )); do
        left=$(bk_lun_loops)
        [ -z "$left" ] && break
        sleep 0.1
    done
    [ -z "$left" ] || cl_log "teardown: loop devices still attached after 5 s: $(echo "$left" | tr '\n' ' ')"
    # now, not with the rest of the run's files: CL_KEEP_LOGS would copy them
    rm -f -- "$CL_DIR"/lun*.img
}

# bk_luns_check : xfs_repair -n on every LUN (unmounted: teardown's
# bk_on_luns_idle is the place); prints "LUN K DEVICE clean|NOT CLEAN",
# fails if any is not clean
bk_luns_check() {
    local k rc=0 out
    [ "$BK_FSTYPE" = xfs ] || return 0
    for (( k = 1; k <= BK_NB; k++ )); do
        if out=$(timeout 60 xfs_repair -n "${BK_LUN[$k]}" 2>&1); then
            echo "LUN $k ${BK_LUN[$k]} clean"
        else
            echo "LUN $k ${BK_LUN[$k]} NOT CLEAN: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
            rc=1
        fi
    done
    return "$rc"
}

bk_ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }

# bk_pid I K : PID of brick K's glusterfsd on node I (pidfile as glusterd names it)
# Without a fork (read, [ -ef ]), so that bk_watch can sample often.
bk_pid() {
    local i=$1 k=$2 pid="" st
    read -r pid 2>/dev/null < "$CL_DIR/n$i${BK_PIDF[$k]}" || [ -n "$pid" ] || return 1   # cl_ndir
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    read -r st 2>/dev/null < "/proc/$pid/stat" || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ] && [ "/proc/$pid/ns/net" -ef "/run/netns/${CL_P}n$i" ] && echo "$pid"
}
bk__runs() { bk_pid "$@" >/dev/null; }

# bk_where K : the nodes running brick K (space separated, "" for none)
bk_where() {
    local k=$1 i out=""
    for (( i = 1; i <= CL_N; i++ )); do bk__runs "$i" "$k" && out+="$i "; done
    echo "${out% }"
}
bk__on_one_other() { local w; w=$(bk_where "$1"); [ -n "$w" ] && [ "$w" != "$2" ] && [[ $w != *" "* ]]; }
bk__on() { [ "$(bk_where "$1")" = "$2" ]; }
# bk__up_on K I : brick K runs on node I only, and node I's chorusd reports
# it running there (status: bricks[].running_here, set when acquire has
# succeeded): what an operator waits for after a move.  (The address's
# "state" says "up" as soon as the old owner has released it.)
bk__up_on() {
    bk__on "$1" "$2" || return 1
    bk_ctl "$2" status --json 2>/dev/null | python3 -c '
import json, sys
b = [x for x in json.load(sys.stdin)["bricks"]["bricks"] if x["address"].split("/")[0] == sys.argv[1]]
sys.exit(not (b and b[0]["running_here"]))' "${BK_VIP[$1]}" 2>/dev/null
}
# bk_wait_up_honest K I SECONDS [J] : wait (bounded) until bk__up_on K I,
# and meanwhile sample node I's status: its address may be "up" with owner I
# only when the brick runs there as far as chorusd knows (running_here);
# while chorusd acquires it, "starting".  With J, node J's status too, read
# just before I's: J may say "up" for it with owner I only when I's says it
# runs there (I's heartbeats tell J; before, J said "up" all the while I
# started the brick).  BK_HONEST says what was seen; returns 2 (and
# BK_HONEST names it) on a status that claimed more.
bk_wait_up_honest() {
    local k=$1 i=$2 s=$3 j=${4:-} n r o up=0 starting=0 lie=0 ostarting=0 olie=0
    for (( n = 0; n < s * 10; n++ )); do
        o=""
        [ -n "$j" ] && o=$(bk_ctl "$j" status --json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
v = [x for x in j["vips"] if x["address"].split("/")[0] == sys.argv[1]]
print(v[0]["state"] if v and v[0]["owner"] == int(sys.argv[2]) else "other")' "${BK_VIP[$k]}" "$i" 2>/dev/null)
        r=$(bk_ctl "$i" status --json 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)
a, me = sys.argv[1], int(sys.argv[2])
v = [x for x in j["vips"] if x["address"].split("/")[0] == a]
b = [x for x in j["bricks"]["bricks"] if x["address"].split("/")[0] == a]
if not v or not b: print("none")
elif v[0]["owner"] == me and v[0]["state"] == "up": print("up" if b[0]["running_here"] else "lie")
else: print(v[0]["state"])' "${BK_VIP[$k]}" "$i" 2>/dev/null)
        [ "$o" = starting ] && ostarting=$(( ostarting + 1 ))
        # I's status read after J's: if the brick ran by then, J's "up"
        # may be true; if not, it was not
        [ "$o" = up ] && [ "$r" != up ] && olie=$(( olie + 1 ))
        case $r in
            lie) lie=$(( lie + 1 )) ;;
            starting) starting=$(( starting + 1 )) ;;
            up) bk__on "$k" "$i" && up=1 && break ;;
        esac
        sleep 0.05
    done
    BK_HONEST="$n samples: $starting said starting, $lie said up before the brick ran"
    [ -n "$j" ] && BK_HONEST+="; node $j's: $ostarting said starting, $olie said up before the brick ran"
    [ "$lie" = 0 ] && [ "$olie" = 0 ] || return 2
    [ "$up" = 1 ]
}

# bk__served K : brick K runs on one node, whose chorusd reports it running
bk__served() { local w; w=$(bk_where "$1"); [ -n "$w" ] && [[ $w != *" "* ]] && bk__up_on "$1" "$w"; }
bk__running_once() { local w; w=$(bk_where "$1"); [ -n "$w" ] && [[ $w != *" "* ]]; }

# bk_script I OP K : the default brick script by hand on node I (setup only)
bk_script() {
    local i=$1 op=$2 k=$3
    gl_exec "$i" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_BRICK_VOLUME="$V" CHORUS_BRICK_HOST="${BK_VIP[$k]}" \
        CHORUS_BRICK_ADDRESS="${BK_VIP[$k]}" CHORUS_BRICK_PATH="${BK_PATH[$k]}" \
        CHORUS_BRICK_DEVICE="${BK_LUN[$k]}" CHORUS_BRICK_FSTYPE="${BK_FSTYPE/#none/}" CHORUS_BRICK_MOUNT_OPTIONS= \
        CHORUS_BRICK_HOME_UUID="$(sed -n 's/^UUID=//p' "$(gl_dir "$(bk_home "$k")")/varlib/glusterd.info")" \
        CHORUS_RUN_DIR=/run/chorus CHORUS_NODEID="$i" \
        timeout 90 "$BK_SCRIPT" "$op" >> "$CL_DIR/script-by-hand.log" 2>&1
}

# bk_conf_bricks GRACE_MS : the "bricks" and "fence" members of a chorusd
# config (JSON, no braces around), every brick listed, fence mode grace
# unless BK_FENCE_JSON says otherwise
bk_conf_bricks() {
    local grace=$1 k sep=""
    printf '"bricks": {"script": "%s", "gluster": "%s",\n' "$BK_SCRIPT" "$GL_GLUSTER"
    printf '  "acquire_timeout_ms": 60000, "release_timeout_ms": %s,\n' "${BK_RELEASE_MS:-15000}"
    printf '  "monitor_interval_ms": 2000, "monitor_timeout_ms": 15000, "inventory_interval_ms": 600000,\n'
    # BK_BRICKS_EXTRA: more "bricks" members, e.g. '"restart_max": 0,'
    [ -n "${BK_BRICKS_EXTRA:-}" ] && printf '  %s\n' "$BK_BRICKS_EXTRA"
    printf '  "list": ['
    for (( k = 1; k <= BK_NB; k++ )); do
        # BK_NAMED=1: no "volume" and "path", glusterd names them
        printf '%s\n   {%s"host": "%s", "address": "%s/%s", "interface": "eth0"' \
            "$sep" "$([ -z "${BK_NAMED:-}" ] && printf '"volume": "%s", ' "$V")" \
            "${BK_VIP[$k]}" "${BK_VIP[$k]}" "$CL_PREFIXLEN"
        # BK_SET: every brick in that one replica set (placement spreads
        # them); BK_SETS[k]: brick k's own "set" (an override of glusterd's);
        # BK_FSTYPE=none: no device, a directory every node sees
        printf '%s%s%s}' "$([ -z "${BK_NAMED:-}" ] && printf ', "path": "%s"' "${BK_PATH[$k]}")" \
            "$([ "$BK_FSTYPE" != none ] && printf ', "device": "%s", "fstype": "%s"' "${BK_LUN[$k]}" "$BK_FSTYPE")" \
            "$([ -n "${BK_SETS[$k]:-${BK_SET:-}}" ] && printf ', "set": "%s"' "${BK_SETS[$k]:-$BK_SET}")"
        sep=,
    done
    # BK_FENCE_JSON: the whole "fence" object instead of mode grace (e.g. a
    # fence agent, tests/integration/fence-ipmi.sh)
    if [ -n "${BK_FENCE_JSON:-}" ]; then
        printf ']},\n"fence": %s' "$BK_FENCE_JSON"
    else
        printf ']},\n"fence": {"mode": "grace", "grace_ms": %s}' "$grace"
    fi
}

# bk_write_conf I FILE GRACE_MS : chorusd config with the bricks, fence grace;
# with BK_WATCHDOG set, a plain file $(cl_ndir I)/watchdog stands in for the
# watchdog device (chorusd feeds it; no ioctl on a file)
bk_write_conf() {
    local i=$1 f=$2 grace=$3 d; d=$(cl_ndir "$i")
    local wd="" nt=""
    [ -n "${BK_NOTICKLE:-}" ] && nt=' "connections": {"tickle": false, "reset_on_release": false},'
    if [ -n "${BK_WATCHDOG:-}" ]; then
        : >> "$d/watchdog"
        wd=" \"watchdog\": {\"device\": \"$d/watchdog\", \"timeout_s\": 2},"
    fi
    cat > "$f" <<EOF
{"group": "chorus", "state_dir": "$d/chorus-state", "run_dir": "$d/chorus-run",
 "failback": "manual",
 "timing": {"restart_grace_ms": 8000, "round_timeout_ms": 3000},
 $(bk_conf_bricks "$grace"),$wd$nt
 "log": {"level": "debug", "file": "$d/chorusd.log", "stderr": true, "syslog": false}}
EOF
}

# bk_gated_cli : $CL_DIR/gluster-gated, the real gluster CLI behind a gate:
# it fails as when glusterd does not answer until $BK_GATE exists (as when
# glusterd comes up after chorusd)
bk_gated_cli() {
    BK_GATE=$CL_DIR/gluster-gate
    cat > "$CL_DIR/gluster-gated" <<EOF
#!/bin/sh
[ -e "$BK_GATE" ] || { echo "Connection failed. Please check if gluster daemon is operational."; exit 1; }
exec "$GL_GLUSTER" "\$@"
EOF
    chmod 755 "$CL_DIR/gluster-gated"
}

# bk_chorusd_start I CONF : chorusd in node I's netns and glusterd's mount ns
bk_chorusd_start() {
    local i=$1 conf=$2 gpid pid
    gpid=$(gl_pid "$i") || cl_fail "bk_chorusd_start: glusterd $i is not running"
    # absolute: entering the mount namespace takes glusterd's working directory
    TZ=UTC nsenter -t "$gpid" -n -m -- "$(realpath "$CHORUSD")" -c "$conf" -f \
        </dev/null >>"$(cl_ndir "$i")/chorusd.out" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null
    cl__record "chorusd.$i" "$pid"
    echo "$pid chorusd.$i" >> "$CL_DIR/pids.all"
    cl__wait_exec "$pid" || cl_fail "chorusd $i did not start: $(tail -n3 "$(cl_ndir "$i")/chorusd.out")"
    cl_log "chorusd $i started (pid $pid, glusterd's mount namespace)"
}

# bk_node_down I : power loss of node I: its link, then every process of it
bk_node_down() {
    local i=$1
    cl_link_down "$i"
    cl_chorusd_kill "$i" KILL
    cl_corosync_kill "$i" KILL
    gl_node_kill "$i" KILL || cl_fail "node $i: gluster processes survived"
}

# bk_node_up I GRACE_MS : the node comes back: link, corosync, glusterd, chorusd
bk_node_up() {
    local i=$1 grace=$2
    cl_link_up "$i"
    cl_corosync_start "$i"
    gl_start "$i"
    bk_write_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$grace"
    bk_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
}

# bk_gluster_setup NB : glusterd on nodes 1..CL_N (corosync already up), the
# pool, volume $V with NB floating bricks, then every brick stopped, unmounted
# and its address removed, ready for chorusd.  Sets BK_NB, BK_VIP, BK_LUN,
# BK_PATH, BK_PIDF.
bk_gluster_setup() {
    local nb=$1 i k h bricks=()
    [ "$nb" -ge 1 ] && [ "$nb" -le 50 ] || cl_fail "bk_gluster_setup: 1..50 bricks, not $nb"
    BK_NB=$nb
    for (( i = 1; i <= CL_N; i++ )); do gl_start "$i"; done
    gl_pool "$CL_N"
    for (( k = 1; k <= BK_NB; k++ )); do
        h=$(bk_home "$k")
        BK_VIP[$k]=$CL_NET.$(( 200 + k ))
        bk__lun_make "$k"
        BK_PATH[$k]=$CL_DIR/shared/b$k
        # where glusterd writes brick k's pidfile, below a node's directory
        BK_PIDF[$k]="/run/gluster/vols/$V/${BK_VIP[$k]}${BK_PATH[$k]//\//-}.pid"
        mkdir -p "${BK_PATH[$k]}"
        # the home node holds the address while gluster learns the alias
        ip -n "$(cl_ns "$h")" addr add "${BK_VIP[$k]}/$CL_PREFIXLEN" dev eth0 ||
            cl_fail "add ${BK_VIP[$k]} on node $h"
        for (( i = 1; i <= CL_N; i++ )); do
            [ "$i" = "$h" ] && continue
            gl_cli "$i" peer probe "${BK_VIP[$k]}" >/dev/null 2>&1 ||
                cl_fail "node $i: peer probe ${BK_VIP[$k]} (alias of node $h) failed"
        done
        if [ "$BK_FSTYPE" = none ]; then
            true
        elif [ "$BK_FSTYPE" = bind ]; then
            gl_exec "$h" mount --bind "${BK_LUN[$k]}" "${BK_PATH[$k]}"
        else
            gl_exec "$h" mount -t "$BK_FSTYPE" "${BK_LUN[$k]}" "${BK_PATH[$k]}"
        fi || cl_fail "mount LUN $k on node $h"
        bricks+=("${BK_VIP[$k]}:${BK_PATH[$k]}")
    done
    # BK_VOLUME_TYPE (e.g. "replica 2") and BK_VOLUME_ORDER (brick numbers in
    # the volume's order, which makes glusterd's sets): a replicated volume
    # shellcheck disable=SC2086
    if [ -n "${BK_VOLUME_ORDER:-}" ]; then
        bricks=()
        for k in $BK_VOLUME_ORDER; do bricks+=("${BK_VIP[$k]}:${BK_PATH[$k]}"); done
        [ "${#bricks[@]}" = "$BK_NB" ] || cl_fail "BK_VOLUME_ORDER must name the $BK_NB bricks"
    fi
    # shellcheck disable=SC2086
    gl_cli 1 volume create "$V" ${BK_VOLUME_TYPE:-} "${bricks[@]}" force >/dev/null || cl_fail "volume create"
    gl_cli 1 volume start "$V" >/dev/null || cl_fail "volume start"
    gl_wait_online "$V" "$BK_NB" "$GL_WAIT_S" || cl_fail "bricks not online: $(gl_vstatus 1 $V | tr '\n' ';')"
    # hand the bricks over to chorusd: stopped, unmounted, address gone
    for (( k = 1; k <= BK_NB; k++ )); do
        h=$(bk_home "$k")
        bk_script "$h" release "$k" || cl_fail "release brick $k by hand on node $h"
        ip -n "$(cl_ns "$h")" addr del "${BK_VIP[$k]}/$CL_PREFIXLEN" dev eth0
    done
}

# bk_setup NAME GRACE_MS : 3 nodes, 2 bricks, chorusd running them
bk_setup() {
    local name=$1 grace=$2 i
    cl_init "$name" 3
    for i in 1 2 3; do cl_corosync_start "$i"; done
    cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
    bk_gluster_setup 2
    bk_chorusd_all "$grace"
}

# bk_chorusd_all GRACE_MS : a config and chorusd on nodes 1-3, then wait
# until chorusd runs both bricks, each once
bk_chorusd_all() {
    local grace=$1 i k
    for i in 1 2 3; do
        bk_write_conf "$i" "$(cl_ndir "$i")/chorusd.conf" "$grace"
        bk_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
    done
    for k in 1 2; do
        cl_wait_until 120 bk__served "$k" ||
            cl_fail "brick $k not started by chorusd: $(tail -n 5 "$(cl_ndir 1)/chorusd.log")"
    done
    cl_log "bricks running: b1 on $(bk_where 1), b2 on $(bk_where 2)"
}

# bk_usable : a new gfapi client can write 8 files (so both bricks get some).  A returning glusterd
# re-syncs the volume with its peers, and for a while a new client's
# glfs_init can fail (the portmap answers "no port" for bricks that run
# fine); an application retries, and so do the tests.
bk_usable() {
    [ "$(GL_CLIENT_TIMEOUT_S=40 gl_client "$V" -p "probe$(cl_now_ms)-" write 8 2>/dev/null |
         grep -c '^ACK ')" = 8 ]
}

# bk_on_brick K PREFIX : how many files named PREFIX* brick K's LUN holds
# (BK_FSTYPE=bind: the LUN is a directory we can list)
bk_on_brick() { find "$CL_DIR/lun$1/gfclient" -maxdepth 1 -name "$2*" -type f 2>/dev/null | wc -l; }

# bk_new_client_set FILE WAIT_S : the files every new client reads back
# (bk_new_client): once a new client can use the volume (within WAIT_S s),
# 40 files pre-* written, all acknowledged (in FILE), on every brick
bk_new_client_set() {
    local f=$1 k
    cl_wait_until "$2" bk_usable || cl_fail "volume not usable by a new client"
    GL_CLIENT_TIMEOUT_S=90 gl_client "$V" -p pre- write 40 > "$f" 2> "$f.err"
    [ "$(grep -c '^ACK ' "$f")" = 40 ] || cl_fail "set-up writes: $(grep -c '^ACK ' "$f")/40"
    for (( k = 1; k <= BK_NB; k++ )); do
        [ "$(bk_on_brick "$k" pre-)" -gt 0 ] || cl_fail "no set-up file on brick $k"
    done
}

# bk_new_client PRE LABEL N : a brand-new gfapi client reads every file
# acknowledged in PRE (no retries: -g 0), then another creates N files
# LABEL-*, which must all be acknowledged and land on every brick (N = 24:
# all on one of 2 bricks with p = 2^-23).  Output in $CL_DIR/cl/LABEL.*.
# Returns 1 with the reason in BK_NEW_WHY; on success BK_NEW_INFO says what
# was read and where the creates landed.
bk_new_client() {
    local pre=$1 l=$2 n=$3 o=$CL_DIR/cl/$2 a k c where=""
    mkdir -p "$CL_DIR/cl"
    BK_NEW_WHY="" BK_NEW_INFO=""
    if ! GL_CLIENT_TIMEOUT_S=${BK_NEW_TIMEOUT_S:-150} gl_client "$V" -L 7 -g 0 check "$pre" > "$o.check" 2>&1; then
        BK_NEW_WHY="cannot read every file: $(grep -c '^BAD' "$o.check") bad, e.g. $(grep -m3 '^BAD' "$o.check" | tr '\n' ' ')$(tail -n1 "$o.check")"
        return 1
    fi
    GL_CLIENT_TIMEOUT_S=${BK_NEW_TIMEOUT_S:-150} gl_client "$V" -L 7 -p "$l-" write "$n" > "$o.w" 2>&1
    a=$(grep -c '^ACK ' "$o.w")
    if [ "$a" != "$n" ]; then
        BK_NEW_WHY="created $a of $n files: $(grep '^ERR' "$o.w" | awk '{print $3, $4}' | sort | uniq -c | tr '\n' ' ')$(tail -n1 "$o.w")"
        return 1
    fi
    for (( k = 1; k <= BK_NB; k++ )); do
        c=$(bk_on_brick "$k" "$l-")
        [ "$c" -gt 0 ] || { BK_NEW_WHY="none of the $n creates landed on brick $k"; return 1; }
        where+="${where:+, }$c on b$k"
    done
    BK_NEW_INFO="$(tail -n1 "$o.check"), $a/$n creates ($where)"
}

# bk_acks_at_least FILE N : the client output FILE has at least N ACK lines
bk_acks_at_least() { [ "$(grep -c '^ACK ' "$1")" -ge "$2" ]; }

# bk_watch FILE [PERIOD_S] [MAX_SAMPLES] : sample every PERIOD_S (default
# 0.1) which nodes run each brick, until killed or MAX_SAMPLES (default
# 100000); a line "DOUBLE ..." means a brick ran on two nodes at once.  The
# samples go to FILE.all.  Nothing in the loop forks (bk_pid reads files and
# compares namespaces, the pause is a read with a timeout on a pipe nobody
# writes), so on a loaded host the samples stay close to PERIOD_S apart.
bk_watch() {
    local out=$1 period=${2:-0.1} max=${3:-100000} n=0 k i w line now fd
    exec {fd}<> <(:)
    while [ "$n" -lt "$max" ]; do
        now=${EPOCHREALTIME/[.,]/}; now=$(( now / 1000 ))
        line=""
        for (( k = 1; k <= BK_NB; k++ )); do
            w=""
            for (( i = 1; i <= CL_N; i++ )); do bk__runs "$i" "$k" && w+="$i "; done
            w=${w% }
            [[ $w == *" "* ]] && echo "DOUBLE $now b$k on $w" >> "$out"
            line+=" b$k=$w"
        done
        echo "$now$line" >> "$out.all"
        read -r -t "$period" -u "$fd" _
        n=$(( n + 1 ))
    done
}
