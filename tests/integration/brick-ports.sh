#!/bin/bash
# brick-ports.sh - the default brick script (deploy/brick/chorus-brick) picks
# its port from glusterd's configured range and refuses brick multiplexing,
# on a real glusterd, without chorusd.
#
#   1. one glusterd in a node namespace, started with a glusterd.vol that
#      sets "option base-port 50100" and "option max-port 50110"; a volume
#      gv with one brick on a "LUN" (a directory bind-mounted in glusterd's
#      mount namespace), started by glusterd: its recorded port is in range.
#   2. release; every port of the range but one (F) is taken by a listener,
#      the recorded port among them: acquire (GLUSTERD_VOL naming that file)
#      starts the brick on F.  The same with the recorded port absent (a copy
#      of glusterd's working directory with listen-port=0).  With F taken
#      too: acquire fails naming the range, and leaves nothing mounted.
#      The executor (brick_drive) with GLUSTERD_VOL, as chorusd passes
#      chorus.json's bricks.glusterd_vol: the brick on F, logged.
#   3. hostile glusterd.vol files (base > max, a port below 1024, a value
#      that is no number, an option given twice): acquire logs why and falls
#      back to 49152-60999; so does a missing file.
#   4. "gluster volume set all cluster.brick-multiplex on" (and "volume info
#      --xml", which chorusd reads, lists it among the volume's options):
#      acquire exits 6
#      (not configured) naming cluster.brick-multiplex, with nothing started
#      and nothing mounted; monitor says not running (7), release works.
# Exit 77 without root or gluster.  The script runs in the node's glusterd
# net+mount namespaces (nsenter), as chorusd would run it there.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
gl_require_root_gluster
for t in getfattr findmnt ss md5sum; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found" >&2; exit 77; }
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$SRC/deploy/brick/chorus-brick
DRIVE=$BUILDDIR/tests/integration/brick_drive
[ -x "$DRIVE" ] || { echo "SKIP: $DRIVE not built" >&2; exit 77; }

cl_init brickports 1
V=gv
BASE=50100 MAX=50110
H=$(cl_addr 1)
LUN=$CL_DIR/lun1
B1=$CL_DIR/shared/b1
D=$CL_DIR/out
mkdir -p "$D" "$LUN" "$B1" "$(gl_dir 1)"
VOLF=$(gl_dir 1)/glusterd.vol

# --- 1. glusterd with its own port range, the volume -----------------------
gl__write_vol "$VOLF"
sed -i "s/^\( *option max-port\).*/    option base-port $BASE\n    option max-port $MAX/" "$VOLF"
grep -q "^ *option base-port $BASE\$" "$VOLF" && grep -q "^ *option max-port $MAX\$" "$VOLF" ||
    cl_fail "could not write the range into $VOLF: $(cat "$VOLF")"
gl_start 1
HOME_UUID=$(sed -n 's/^UUID=//p' "$(gl_dir 1)/varlib/glusterd.info")
[ -n "$HOME_UUID" ] || cl_fail "no UUID for node 1"
gl_exec 1 mount --bind "$LUN" "$B1" || cl_fail "bind LUN on node 1"
gl_cli 1 volume create "$V" "$H:$B1" force >/dev/null ||
    cl_fail "volume create: $(gl_cli 1 volume create "$V" "$H:$B1" force 2>&1)"
gl_cli 1 volume start "$V" >/dev/null || cl_fail "volume start"
gl_wait_online "$V" 1 "$GL_WAIT_S" || cl_fail "brick not online: $(gl_vstatus 1 $V | tr '\n' ';')"
BFILE="$(gl_dir 1)/varlib/vols/$V/bricks/$H:${B1//\//-}"
P0=$(sed -n 's/^listen-port=//p' "$BFILE")
[[ $P0 =~ ^[0-9]+$ ]] && [ "$P0" -ge "$BASE" ] && [ "$P0" -le "$MAX" ] ||
    cl_fail "glusterd recorded port '$P0' for the brick, not in its range $BASE-$MAX"
echo "glusterd started the brick on port $P0 (range $BASE-$MAX)"

# brick OP [VAR=VALUE...] : run the default script on node 1 (extra variables
# override), its output appended to $D/script.log and kept in $D/last.log
brick() {
    local op=$1 rc; shift
    gl_exec 1 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        CHORUS_BRICK_VOLUME="$V" CHORUS_BRICK_HOST="$H" CHORUS_BRICK_ADDRESS="$H" \
        CHORUS_BRICK_PATH="$B1" CHORUS_BRICK_DEVICE="$LUN" CHORUS_BRICK_FSTYPE=bind \
        CHORUS_BRICK_MOUNT_OPTIONS= CHORUS_BRICK_HOME_UUID="$HOME_UUID" \
        CHORUS_RUN_DIR=/run/chorus CHORUS_NODEID=1 CHORUS_BRICK_TIMEOUT_S=60 \
        GLUSTERD_VOL="$VOLF" "$@" \
        timeout 90 "$SCRIPT" "$op" > "$D/last.log" 2>&1
    rc=$?
    cat "$D/last.log" >> "$D/script.log"
    cl_log "chorus-brick $op $* -> $rc"
    return "$rc"
}
expect() {              # expect CODE OP [VAR=VALUE...]
    local want=$1 rc; shift
    brick "$@"; rc=$?
    [ "$rc" = "$want" ] || cl_fail "chorus-brick $* : exit $rc, want $want: $(tail -n 5 "$D/last.log")"
}
b1_pid() {
    local pid
    pid=$(cat "$(cl_ndir 1)/run/gluster/vols/$V/$H${B1//\//-}.pid" 2>/dev/null) &&
        cl__alive "$pid" && gl__in_ns "$pid" "$(cl_ns 1)" && echo "$pid"
}
# the port the brick process listens on, from ss in node 1's namespace
b1_port() {
    local pid
    pid=$(b1_pid) || return 1
    gl_exec 1 ss -Hltnp 2>/dev/null | awk -v p="pid=$pid," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }'
}
# acquire_on WANT_LO WANT_HI [VAR=VALUE...] : acquire, the brick listens in
# WANT_LO..WANT_HI; prints the port
acquire_on() {
    local lo=$1 hi=$2 p; shift 2
    expect 0 acquire "$@"
    p=$(b1_port) || cl_fail "acquire $*: no brick listening: $(tail -n 3 "$D/last.log")"
    [[ $p =~ ^[0-9]+$ ]] && [ "$p" -ge "$lo" ] && [ "$p" -le "$hi" ] ||
        cl_fail "acquire $*: brick listens on port '$p', not in $lo-$hi: $(tail -n 3 "$D/last.log")"
    echo "$p"
}

# --- 2. ports from the range -----------------------------------------------
expect 0 release
expect 7 monitor
F=""
for (( p = BASE; p <= MAX; p++ )); do [ "$p" != "$P0" ] && { F=$p; break; }; done
TAKEN=""
for (( p = BASE; p <= MAX; p++ )); do [ "$p" != "$F" ] && TAKEN+=" $p"; done
# listen PIDFILE PORT... : a listener on each port in node 1's namespace
listen() {
    local pf=$1; shift
    gl_exec 1 python3 -c '
import os, socket, sys, time
ss = []
for p in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(p))); s.listen(4); ss.append(s)
with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
' "$pf" "$@" </dev/null >>"$D/listen.err" 2>&1 &
    cl_wait_until 10 test -s "$pf" || cl_fail "listener on $* did not start: $(tail -n3 "$D/listen.err")"
    cl__record "listen.$(basename "$pf")" "$(cat "$pf")"
}
# shellcheck disable=SC2086
listen "$D/taken.pid" $TAKEN
echo "ports taken:$TAKEN; free in range: $F"

p=$(acquire_on "$F" "$F") || exit 1
echo "recorded port $P0 taken: brick on $p"
grep -q "port $P0, glusterd's for this brick, is in use" "$D/last.log" ||
    cl_fail "no warning about the taken recorded port: $(cat "$D/last.log")"
expect 0 release

WD=$CL_DIR/workdir-copy
mkdir -p "$WD/vols"
cp -a "$(gl_dir 1)/varlib/vols/$V" "$WD/vols/" || cl_fail "copy glusterd's working directory"
sed -i 's/^listen-port=.*/listen-port=0/' "$WD/vols/$V/bricks/$H:${B1//\//-}"
p=$(acquire_on "$F" "$F" GLUSTERD_WORKDIR="$WD") || exit 1
echo "no recorded port: brick on $p"
expect 0 release GLUSTERD_WORKDIR="$WD"

listen "$D/last-free.pid" "$F"
expect 1 acquire
grep -q "no free port in $BASE-$MAX" "$D/last.log" || cl_fail "no 'no free port' message naming the range: $(cat "$D/last.log")"
gl_exec 1 mountpoint -q "$B1" && cl_fail "failed acquire left $B1 mounted"
b1_pid >/dev/null && cl_fail "failed acquire left a brick process"
cl__kill_recorded "listen.last-free.pid" TERM 10

# the executor (brick.c, via brick_drive) passes chorus.json's
# bricks.glusterd_vol as GLUSTERD_VOL, and logs what the script said
GLUSTERD_VOL=$VOLF gl_exec 1 timeout 120 "$DRIVE" "$SCRIPT" /run/chorus "$V" "$H" "$B1" "$LUN" bind \
    "$HOME_UUID" acquire wait:5 release > "$D/drive.out" 2> "$D/drive.err" &
DRIVE_PID=$!
cl__record brick_drive "$DRIVE_PID"
cl_wait_until 60 grep -q '^EVENT .* acquired 0' "$D/drive.out" ||
    cl_fail "executor: no acquire: $(tail -n5 "$D/drive.out" "$D/drive.err")"
p=$(b1_port) || cl_fail "executor: no brick listening"
[ "$p" = "$F" ] || cl_fail "executor: brick on port $p, not $F"
# the script's warning of a successful acquire is in the executor's log
# (qb_log cuts lines at 512 bytes: the warning comes before that)
grep -q "acquired in [0-9]* ms: .*WARNING: port $P0, glusterd's for this brick, is in use" "$D/drive.err" ||
    cl_fail "executor: the script's warning is not logged: $(grep acquired "$D/drive.err")"
cl_wait_until 60 cl__gone "$DRIVE_PID" || cl_fail "brick_drive did not finish"
wait "$DRIVE_PID" || cl_fail "brick_drive failed: $(tail -n5 "$D/drive.out" "$D/drive.err")"
grep -q '^EVENT .* released 0' "$D/drive.out" || cl_fail "executor: no release: $(cat "$D/drive.out")"
echo "executor: brick on $p; $(grep -o 'acquired in [0-9]* ms' "$D/drive.err")"
gl_exec 1 mountpoint -q "$B1" && cl_fail "$B1 still mounted after the executor's release"

# --- 3. hostile glusterd.vol: refused, glusterd's defaults -----------------
bad_vol() {             # bad_vol NAME BASE_LINE MAX_LINE [EXTRA_LINE]
    local f=$CL_DIR/$1.vol
    { echo "volume management"; echo "    type mgmt/glusterd"
      echo "    option working-directory /var/lib/glusterd"
      echo "    $2"; echo "    $3"; [ -n "${4:-}" ] && echo "    $4"
      echo "end-volume"; } > "$f"
    echo "$f"
}
for c in "inverted|option base-port 50110|option max-port 50100" \
         "low|option base-port 80|option max-port 50110" \
         "nonumber|option base-port 5e4|option max-port 50110" \
         "huge|option base-port 50100|option max-port 99999999999999999999" \
         "twice|option base-port 50100|option max-port 50110|option base-port 50101"; do
    IFS='|' read -r name l1 l2 l3 <<< "$c"
    f=$(bad_vol "$name" "$l1" "$l2" "$l3")
    p=$(acquire_on 49152 60999 GLUSTERD_VOL="$f") || exit 1
    grep -q "glusterd.vol .*$f.*using 49152-60999" "$D/last.log" ||
        cl_fail "$name: no message naming $f and the fallback: $(cat "$D/last.log")"
    echo "bad range ($name): $(grep -o 'glusterd.vol .*' "$D/last.log" | head -n1); brick on $p"
    expect 0 release
done
p=$(acquire_on 49152 60999 GLUSTERD_VOL="$CL_DIR/no-such.vol") || exit 1
grep -q "glusterd.vol .*no-such.vol.*using 49152-60999" "$D/last.log" ||
    cl_fail "a missing glusterd.vol is not reported: $(cat "$D/last.log")"
expect 0 release

# the script understood glusterd's answer while multiplexing was off
grep -q "cannot tell whether cluster.brick-multiplex" "$D/script.log" &&
    cl_fail "chorus-brick could not read 'volume get all cluster.brick-multiplex': $(gl_cli 1 volume get all cluster.brick-multiplex 2>&1)"

# --- 4. brick multiplexing: refused, nothing started or mounted -----------
gl_cli 1 volume set all cluster.brick-multiplex on >/dev/null ||
    cl_fail "volume set all cluster.brick-multiplex on: $(gl_cli 1 volume set all cluster.brick-multiplex on 2>&1)"
gl_cli 1 volume get all cluster.brick-multiplex | grep -q 'cluster.brick-multiplex *on' ||
    cl_fail "brick-multiplex not on: $(gl_cli 1 volume get all cluster.brick-multiplex 2>&1)"
# chorusd reads it from "volume info --xml": glusterd lists the pool-wide
# option among each volume's options (tests/unit/inventory_test.c)
gl_cli 1 volume info --xml > "$D/volinfo.xml" 2>&1 || cl_fail "volume info --xml: $(tail -n 3 "$D/volinfo.xml")"
tr -d ' \n' < "$D/volinfo.xml" | grep -q '<option><name>cluster.brick-multiplex</name><value>on</value></option>' ||
    cl_fail "volume info --xml does not list cluster.brick-multiplex: $(grep -A1 '<name>' "$D/volinfo.xml" | tr -d ' \n')"
expect 6 acquire
grep -q "cluster.brick-multiplex" "$D/last.log" || cl_fail "refusal does not name cluster.brick-multiplex: $(cat "$D/last.log")"
echo "multiplex refused: $(cat "$D/last.log")"
gl_exec 1 mountpoint -q "$B1" && cl_fail "refused acquire mounted $B1"
b1_pid >/dev/null && cl_fail "refused acquire started a brick"
expect 7 monitor
expect 0 release
echo "OK: brick-ports"
