#!/bin/sh
# chorusd feeds systemd's watchdog from its main loop: with WATCHDOG_USEC set
# it sends WATCHDOG=1 to NOTIFY_SOCKET about three times per period, stops
# while the process is stopped (SIGSTOP: a wedged loop), and resumes.  The
# notify socket is a Unix datagram socket this test listens on (python3);
# chorusd runs without corosync, which it keeps retrying meanwhile.
#
# Run by `make check` from the build directory; CHORUSD overrides the binary.
# Exits 77 (skipped) without python3.  Everything is bounded and cleaned up.

set -u

CHORUSD=${CHORUSD:-./coordinator/chorusd}
command -v python3 >/dev/null 2>&1 || { echo "python3 not found: skipped"; exit 77; }
[ -x "$CHORUSD" ] || { echo "no $CHORUSD"; exit 99; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/sd-watchdog-test.XXXXXX") || exit 99
daemon_pid=
listen_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill -CONT "$daemon_pid" 2>/dev/null && kill -KILL "$daemon_pid" 2>/dev/null
	[ -n "$listen_pid" ] && kill "$listen_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

cat >"$dir/chorus.json" <<EOF
{"state_dir": "$dir", "run_dir": "$dir",
 "log": {"level": "info", "file": "$dir/chorusd.log", "stderr": false, "syslog": false}}
EOF

# Listener: one line per datagram, "<monotonic ms> <payload>", until this
# script stops it (at most 20 s: a fixed window cut the last second short
# when make check ran the tests in parallel).
cat >"$dir/listen.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.1)
end = time.monotonic() + 20.0
with open(sys.argv[2], "w", buffering=1) as out:
    while time.monotonic() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        out.write("%d %s\n" % (int(time.monotonic() * 1000), data.decode(errors="replace")))
EOF
python3 "$dir/listen.py" "$dir/notify" "$dir/got" &
listen_pid=$!
i=0
while [ ! -S "$dir/notify" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$dir/notify" ] || { echo "listener did not start"; exit 99; }

NOTIFY_SOCKET=$dir/notify WATCHDOG_USEC=300000 "$CHORUSD" -c "$dir/chorus.json" -f \
	>"$dir/out" 2>&1 &
daemon_pid=$!
sleep 1
# stamps taken after the stop and before the continue, so the window in
# between is surely stopped (a stamp before the signal let a feed in when
# the machine was busy)
kill -STOP "$daemon_pid"
t_stop=$(python3 -c 'import time; print(int(time.monotonic() * 1000))')
sleep 1
t_cont=$(python3 -c 'import time; print(int(time.monotonic() * 1000))')
kill -CONT "$daemon_pid"
sleep 1
kill -TERM "$daemon_pid"
i=0
while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
daemon_pid=
kill "$listen_pid" 2>/dev/null
wait "$listen_pid" 2>/dev/null
listen_pid=

fails=0
before=$(awk -v t="$t_stop" '$2 == "WATCHDOG=1" && $1 < t' "$dir/got" | wc -l)
during=$(awk -v a="$t_stop" -v b="$t_cont" '$2 == "WATCHDOG=1" && $1 > a + 50 && $1 < b' "$dir/got" | wc -l)
after=$(awk -v t="$t_cont" '$2 == "WATCHDOG=1" && $1 > t' "$dir/got" | wc -l)
# 300 ms period, fed every 100 ms: about 9 in the first second
[ "$before" -ge 5 ] || { echo "FAIL: $before WATCHDOG=1 in the first second (want >= 5)"; fails=1; }
[ "$during" -eq 0 ] || { echo "FAIL: $during WATCHDOG=1 while the daemon was stopped"; fails=1; }
[ "$after" -ge 3 ] || { echo "FAIL: $after WATCHDOG=1 after SIGCONT (want >= 3)"; fails=1; }
echo "watchdog feeds: before=$before during_stop=$during after=$after"
[ "$fails" -eq 0 ] || { cat "$dir/out"; tail -5 "$dir/chorusd.log"; exit 1; }
exit 0
