#!/bin/bash
# hook-ganesha-test.sh - the parts of deploy/hooks/nfs-ganesha that need
# neither root nor NFS-Ganesha (make check):
#   - bad arguments, actions, addresses and knobs exit 2 before any DBus call;
#   - releaseip is a no-op that exits 0 (it must, even with no bus at all);
#   - no dbus-send exits 5; no bus exits 3; a private bus without Ganesha on
#     it exits 3 and says Ganesha is not running; a bus that accepts the
#     connection and never answers exits 3 within the hook's own bound;
#   - the script passes shellcheck (when it is installed).
# Ganesha really entering grace is tests/integration/hooks-ganesha.sh.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=$SRC/deploy/hooks/nfs-ganesha
T=$(mktemp -d /tmp/chorus-hook-ganesha.XXXXXX) || exit 99
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
PATH_STD=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# run WANT_RC PATTERN ARGS... : the hook in chorusd's environment; its output
# must match the glob PATTERN (the "clear message" part of the contract).
run() {
    local want=$1 pat=$2 rc; shift 2
    env -i PATH="${RUN_PATH:-$PATH_STD}" CHORUS_ACTION="${1:-}" CHORUS_POOL=nfs \
        CHORUS_REASON=acquire CHORUS_NODEID=1 "$HOOK" "$@" > "$T/out" 2>&1
    rc=$?
    # shellcheck disable=SC2053
    if [ "$rc" = "$want" ] && [[ $(cat "$T/out") == $pat ]]; then
        ok "$* -> $rc"
    else
        bad "$* -> $rc, want $want and '$pat': $(cat "$T/out")"
    fi
}

NOBUS=bus=unix:path=$T/nobus
run 2 '*usage*'
run 2 '*usage*' takeip
run 2 "*unknown action*" stop 10.0.0.5 "$NOBUS"
run 2 '*bad address*' takeip '' "$NOBUS"
run 2 '*bad address*' takeip 10.0.0 "$NOBUS"
run 2 '*bad address*' takeip 10.0.0.5.6 "$NOBUS"
run 2 '*bad address*' takeip 10..0.5 "$NOBUS"
run 2 '*bad address*' takeip 'a.b.c.d' "$NOBUS"
run 2 '*bad address*' takeip '10.0.0.5;touch /tmp/x' "$NOBUS"
run 2 '*bad address*' takeip '../../etc' "$NOBUS"
run 2 '*too long*' takeip "$(printf 'f%.0s' {1..20}):$(printf '0%.0s' {1..30})" "$NOBUS"
run 2 '*unknown argument*' takeip 10.0.0.5 colour=blue
run 2 "*bad event*" takeip 10.0.0.5 event=9
run 2 "*node id*" takeip 10.0.0.5 event=4
run 2 "*bad verify*" takeip 10.0.0.5 verify=maybe
run 2 "*not in 100..60000*" takeip 10.0.0.5 timeout_ms=99999
run 2 "*bad timeout_ms*" takeip 10.0.0.5 timeout_ms=1e3
run 2 "*bad dest*" takeip 10.0.0.5 'dest=org.x;y'
run 2 "*only unix:*" takeip 10.0.0.5 bus=tcp:host=10.0.0.1,port=1
run 2 "*bad bus*" takeip 10.0.0.5 'bus=unix:path=/tmp/a b'
# the address given twice must agree
env -i PATH="$PATH_STD" CHORUS_ADDRESS=10.0.0.6 "$HOOK" takeip 10.0.0.5 "$NOBUS" > "$T/out" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q differs "$T/out"; then ok "CHORUS_ADDRESS mismatch -> 2"; else bad "CHORUS_ADDRESS mismatch -> $rc: $(cat "$T/out")"; fi

# releaseip: nothing to do, whatever the bus
run 0 '*nothing to do*' releaseip 10.0.0.5 "$NOBUS"
run 0 '*nothing to do*' releaseip fd00::5

# no dbus-send on PATH
mkdir -p "$T/bin"
ln -s "$(command -v timeout)" "$T/bin/timeout"
RUN_PATH=$T/bin run 5 '*dbus-send not found*' takeip 10.0.0.5 "$NOBUS"

# no bus: a socket path nobody listens on
run 3 '*DBus not reachable*' takeip 10.0.0.5 "$NOBUS"
run 3 '*DBus not reachable*' takeip fd00::5 "$NOBUS"

# a private bus (our own config, any user) without Ganesha on it
if command -v dbus-daemon >/dev/null 2>&1; then
    cat > "$T/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
    dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile > "$T/bus.out" 2>&1 &
    PIDS+=" $!"
    for (( n = 0; n < 100; n++ )); do [ -S "$T/bus" ] && break; sleep 0.05; done
    if [ -S "$T/bus" ]; then
        run 3 '*Ganesha is not running*' takeip 10.0.0.5 "bus=unix:path=$T/bus"
        run 3 "*no 'gn1.org.ganesha.nfsd'*" takeip 10.0.0.5 "bus=unix:path=$T/bus" dest=gn1.org.ganesha.nfsd
    else
        bad "private dbus-daemon did not start: $(cat "$T/bus.out")"
    fi
else
    echo "skip: no dbus-daemon, the Ganesha-not-running message is not checked"
fi

# a bus that takes the connection and never answers: bounded by the hook
if command -v socat >/dev/null 2>&1; then
    socat -u UNIX-LISTEN:"$T/mute" OPEN:/dev/null > /dev/null 2>&1 &
    PIDS+=" $!"
    for (( n = 0; n < 100; n++ )); do [ -S "$T/mute" ] && break; sleep 0.05; done
    t0=$(date +%s%N)
    run 3 '*no answer*' takeip 10.0.0.5 "bus=unix:path=$T/mute" timeout_ms=300
    dt=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ "$dt" -lt 6000 ]; then ok "mute bus bounded ($dt ms)"; else bad "mute bus took $dt ms"; fi
else
    echo "skip: no socat, the mute-bus bound is not checked"
fi

if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck -s sh "$HOOK"; then ok "shellcheck"; else bad "shellcheck"; fi
fi
[ "$fails" = 0 ] || { echo "hook-ganesha-test: $fails failed"; exit 1; }
echo "hook-ganesha-test: all passed"
