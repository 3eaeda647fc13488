#!/bin/bash
# brick-script-test.sh - the parts of deploy/brick/chorus-brick and the
# glusterd hook that need neither root nor Gluster (make check):
#   - exit codes for bad arguments (2), bad configuration (6), a missing
#     program (5), and hostile values that must never reach a command line;
#   - monitor's pidfile check: a live process that is this brick is running
#     (0), a live process that is not (a recycled pid) or none is not (7);
#   - the hook: exits 0 at once with or without a client or daemon, calls
#     the client with "inventory-refresh VOLUME EVENT", and never passes an
#     unusable volume name on.
#   - both scripts pass shellcheck (when it is installed).
# The full procedure on real Gluster is tests/integration/brick-script.sh.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
SCRIPT=$SRC/deploy/brick/chorus-brick
HOOK=$SRC/deploy/gluster-hooks/S29chorus-inventory.sh
T=$(mktemp -d /tmp/chorus-brick-cli.XXXXXX) || exit 99
PIDS=""
cleanup() {
    local p
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    rm -rf -- "$T"
}
trap cleanup EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$(( fails + 1 )); }

# stand-ins for the programs the script checks for (only monitor runs here)
mkdir -p "$T/bin" "$T/run/vols/gv" "$T/chorus"
for p in glusterfsd gluster; do printf '#!/bin/sh\nexit 0\n' > "$T/bin/$p"; chmod +x "$T/bin/$p"; done
base_env=(PATH="$T/bin:/usr/sbin:/usr/bin:/sbin:/bin" CHORUS_BRICK_VOLUME=gv
          CHORUS_BRICK_HOST=10.0.0.9 CHORUS_BRICK_ADDRESS=10.0.0.9 CHORUS_BRICK_PATH=/srv/b1
          CHORUS_BRICK_HOME_UUID=448b5b01-c9f3-41f8-a7ad-a46de6bc5512
          CHORUS_RUN_DIR="$T/chorus" GLUSTERD_RUN_DIR="$T/run" CHORUS_BRICK_TIMEOUT_S=5)
run() {             # run WANT_RC OP [VAR=VALUE...] : the script in a clean environment
    local want=$1 op=$2 rc; shift 2
    env -i "${base_env[@]}" "$@" "$SCRIPT" "$op" > "$T/out" 2>&1
    rc=$?
    if [ "$rc" = "$want" ]; then ok "$op $* -> $rc"; else bad "$op $* -> $rc, want $want: $(cat "$T/out")"; fi
}

for t in findmnt getfattr ss mountpoint md5sum python3; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done

run 2 frobnicate
run 2 ""
run 6 monitor CHORUS_BRICK_VOLUME='gv;rm -rf /'
run 6 monitor CHORUS_BRICK_VOLUME=
# shellcheck disable=SC2016  # the point: it must not expand anywhere
run 6 monitor CHORUS_BRICK_HOST='h $(id)'
run 6 monitor CHORUS_BRICK_PATH=relative/b1
run 6 monitor CHORUS_BRICK_PATH=/srv/../etc
run 6 monitor CHORUS_BRICK_PATH=/srv/b1/
run 6 monitor CHORUS_BRICK_HOME_UUID=not-a-uuid
# chorusd probes before it knows the home UUID: monitor and release must not
# need it (a stopped brick with none: "not running"), acquire does
run 7 monitor CHORUS_BRICK_HOME_UUID=
run 6 acquire CHORUS_BRICK_HOME_UUID=
run 6 monitor CHORUS_BRICK_DEVICE=/dev/sdx CHORUS_BRICK_FSTYPE='xfs -o exec'
run 6 monitor CHORUS_BRICK_DEVICE=sdx CHORUS_BRICK_FSTYPE=xfs
run 6 monitor CHORUS_BRICK_TIMEOUT_S=abc
run 5 monitor GLUSTERFSD=/nonexistent/glusterfsd
run 6 monitor CHORUS_BRICK_SYSTEMD=maybe       # auto, yes or no
run 7 monitor CHORUS_BRICK_SYSTEMD=yes         # monitor asks only the pidfile
run 7 monitor                                  # no pidfile, nothing to mount

# a process that is this brick (as far as /proc/PID/cmdline tells)
PIDFILE=$T/run/vols/gv/10.0.0.9-srv-b1.pid
python3 -c 'import time; time.sleep(60)' --volfile-id gv.10.0.0.9.srv-b1 &
BRICK=$!; PIDS+=" $BRICK"
for (( n = 0; n < 100; n++ )); do
    grep -q -- 'gv.10.0.0.9.srv-b1' "/proc/$BRICK/cmdline" 2>/dev/null && break
    sleep 0.05
done
echo "$BRICK" > "$PIDFILE"
run 0 monitor
# a volfile id that only starts like ours is not ours
python3 -c 'import time; time.sleep(60)' --volfile-id gv.10.0.0.9.srv-b10 &
OTHER=$!; PIDS+=" $OTHER"
sleep 0.3
echo "$OTHER" > "$PIDFILE"
run 7 monitor
echo "$$" > "$PIDFILE"                         # a recycled pid: some other process
run 7 monitor
echo "garbage" > "$PIDFILE"
run 7 monitor
echo "$BRICK" > "$PIDFILE"
kill "$BRICK"; wait "$BRICK" 2>/dev/null
run 7 monitor                                  # dead brick, stale pidfile

# --- the hook -----------------------------------------------------------------
mkdir -p "$T/hooks/create/post"
cp "$HOOK" "$T/hooks/create/post/S29chorus-inventory.sh"
H=$T/hooks/create/post/S29chorus-inventory.sh
printf '#!/bin/sh\necho "$*" >> %s/calls\n' "$T" > "$T/rec"; chmod +x "$T/rec"
hook_ok() {         # hook_ok DESC CMD... : exits 0 within 2 s
    local desc=$1 t0 rc; shift
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1; rc=$?
    if [ "$rc" = 0 ] && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ]; then ok "hook $desc"; else bad "hook $desc: rc $rc"; fi
}
hook_ok "no client" env CHORUSCTL=/nonexistent "$H" --volname=gv
hook_ok "no daemon" env CHORUSCTL= CHORUS_SOCKET="$T/none.sock" "$H" --volname=gv
hook_ok "recorder" env CHORUSCTL="$T/rec" "$H" --volname=gv --first=yes --version=1
hook_ok "hostile name" env CHORUSCTL="$T/rec" "$H" '--volname=gv;touch /tmp/x' --first=no
hook_ok "no arguments" env CHORUSCTL="$T/rec" "$H"
for (( n = 0; n < 40 && $(wc -l < "$T/calls" 2>/dev/null || echo 0) < 3; n++ )); do sleep 0.05; done
want=$'inventory-refresh - create\ninventory-refresh - create\ninventory-refresh gv create'
if [ "$(sort "$T/calls" 2>/dev/null)" = "$want" ]; then ok "hook calls"; else bad "hook calls: $(cat "$T/calls" 2>/dev/null)"; fi

if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck "$SCRIPT" "$HOOK"; then ok "shellcheck"; else bad "shellcheck"; fi
fi
[ "$fails" = 0 ] || { echo "brick-script-test: $fails failed"; exit 1; }
echo "brick-script-test: all passed"
