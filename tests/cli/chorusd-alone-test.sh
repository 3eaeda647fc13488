#!/bin/sh
# A real chorusd with no corosync, driven by the real chorusctl: status names
# the cause and still lists the configured addresses and bricks; commands
# that need the cluster are refused with that cause; local ones (log-level,
# cleanup of a brick's failure hold) work.  The brick script is a stand-in
# that reports "not running", and the gluster CLI is /bin/false.
#
# Run by `make check` from the build directory; CHORUSD and CHORUSCTL
# override the binaries.  Everything is bounded and cleaned up.

set -u

CHORUSD=${CHORUSD:-./coordinator/chorusd}
CHORUSCTL=${CHORUSCTL:-./coordinator/chorusctl}
[ -x "$CHORUSD" ] || { echo "no $CHORUSD"; exit 99; }
[ -x "$CHORUSCTL" ] || { echo "no $CHORUSCTL"; exit 99; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/chorusd-alone-test.XXXXXX") || exit 99
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill -KILL "$daemon_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP
fails=0
count=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

printf '#!/bin/sh\nexit 7\n' >"$dir/brick"
chmod +x "$dir/brick"
cat >"$dir/chorus.json" <<EOF2
{"state_dir": "$dir/state", "run_dir": "$dir",
 "vips": [{"address": "192.0.2.10/24", "interface": "lo"}],
 "bricks": {"script": "$dir/brick", "gluster": "/bin/false", "failure_hold_ms": 60000,
   "list": [{"volume": "gv0", "host": "h1", "address": "192.0.2.50/24",
             "interface": "lo", "path": "/bricks/b1"}]},
 "fence": {"mode": "none"},
 "log": {"level": "info", "file": "$dir/chorusd.log", "stderr": false, "syslog": false}}
EOF2
"$CHORUSD" --check -c "$dir/chorus.json" >/dev/null || { echo "config refused"; exit 99; }
"$CHORUSD" -c "$dir/chorus.json" >"$dir/daemon.out" 2>&1 &
daemon_pid=$!
i=0
while [ ! -S "$dir/chorusd.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$dir/chorusd.sock" ] || { echo "no control socket"; cat "$dir/daemon.out"; exit 99; }

# run EXPECTED_RC ARGS...: chorusctl's stdout in $dir/out, stderr in $dir/err.
run() {
	want=$1
	shift
	count=$((count + 1))
	timeout 15 "$CHORUSCTL" -s "$dir/chorusd.sock" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "chorusctl $*: exit $rc, expected $want"
		sed 's/^/  out: /' "$dir/out"
		sed 's/^/  err: /' "$dir/err"
	fi
}

expect_out() {
	grep -qF -- "$1" "$dir/out" || { fail "stdout lacks '$1'"; sed 's/^/  out: /' "$dir/out"; }
}

expect_err() {
	grep -qF -- "$1" "$dir/err" || { fail "stderr lacks '$1'"; sed 's/^/  err: /' "$dir/err"; }
}

run 1 status
expect_out "Cluster:       UNHEALTHY: not connected to corosync"
expect_out "Addresses (configured; owners unknown):"
expect_out "192.0.2.10/24  default  -      unknown"
expect_out "gv0     h1:/bricks/b1  -    -      unknown"
expect_out "Fencing:       none"
run 1 --json status
expect_out '"connected": false'

# needs the cluster: refused with the cause
run 4 plan
expect_err "not_quorate: not connected to corosync yet"
run 4 standby n1
expect_err "not connected to corosync yet"

# local: answered
run 0 log-level debug
run 0 cleanup h1:/bricks/b1
expect_out "cleanup: nothing to change"
run 0 --json cleanup h1:/bricks/b1
expect_out '"applied": false'
run 0 --json cleanup
expect_out '"local": true'
run 4 cleanup --node 7
expect_err "only this node's holds"
run 4 cleanup h2:/bricks/b1
expect_err "unknown_brick"
run 4 cleanup h1:/bricks/b
expect_err "unknown_brick"
run 2 cleanup h1
expect_err "HOST:PATH"

kill -TERM "$daemon_pid"
i=0
while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$daemon_pid" 2>/dev/null && fail "chorusd did not stop on SIGTERM"
[ ! -e "$dir/chorusd.pid" ] || fail "a clean stop left $dir/chorusd.pid behind"
daemon_pid=

echo "$count chorusctl runs against a chorusd without corosync, $fails failures"
[ "$fails" -eq 0 ] || { tail -20 "$dir/chorusd.log"; exit 1; }
