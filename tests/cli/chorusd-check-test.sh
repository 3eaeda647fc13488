#!/bin/sh
# chorusd --check: the full config loader and nothing else.  Every shipped
# example passes; a file with an unknown key, a bad value or no file at all
# fails with status 78 and a message naming the key or the file; a file
# that manages nothing passes with a warning; and
# nothing is started: no pid file, no socket, no state written, no wait for
# corosync (there is none here).
#
# Run by `make check` from the build directory; CHORUSD overrides the binary.

set -u

CHORUSD=${CHORUSD:-./coordinator/chorusd}
[ -x "$CHORUSD" ] || { echo "no $CHORUSD"; exit 99; }
root=$(cd "${srcdir:-.}" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/chorusd-check-test.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT
trap 'exit 99' INT TERM HUP
fails=0
count=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# check EXPECTED_RC FILE: chorusd --check's output in $dir/out and $dir/err.
check() {
	count=$((count + 1))
	timeout 10 "$CHORUSD" --check -c "$2" >"$dir/out" 2>"$dir/err"
	rc=$?
	if [ "$rc" -ne "$1" ]; then
		fail "chorusd --check -c $2: exit $rc, expected $1"
		sed 's/^/  out: /' "$dir/out"
		sed 's/^/  err: /' "$dir/err"
	fi
}

expect_err() {
	grep -qF -- "$1" "$dir/err" || { fail "stderr lacks '$1'"; sed 's/^/  err: /' "$dir/err"; }
}

# The examples name hooks by their installed path; the tree's deploy/hooks/
# stands in for it, and run and state directories point here so that
# anything --check created would show.  A fence secrets file is a copy here,
# mode 0600; it must be root's, so run as another user that refusal is the
# expected outcome.
n=0
printf 'password=example\n' >"$dir/fence.secrets"
chmod 600 "$dir/fence.secrets"
for ex in "$root"/deploy/examples/chorus*.json; do
	f=$dir/$(basename "$ex")
	sed -e "s#/usr/libexec/chorus/hooks/#$root/deploy/hooks/#g" \
	    -e "s#\"/run/chorus\"#\"$dir/run\"#" -e "s#\"/var/lib/chorus\"#\"$dir/state\"#" \
	    -e "s#\"/etc/chorus/fence.secrets\"#\"$dir/fence.secrets\"#" \
	    "$ex" >"$f"
	if grep -qF "\"$dir/fence.secrets\"" "$f"; then
		secrets_ex=$f
		if [ "$(id -u)" != 0 ]; then
			check 78 "$f"
			expect_err "fence.secrets: $dir/fence.secrets is owned by uid"
			n=$((n + 1))
			continue
		fi
	fi
	check 0 "$f"
	grep -qF "$f: configuration ok" "$dir/out" || fail "$f: no 'configuration ok'"
	n=$((n + 1))
done
# a secrets file others may read is refused, naming the key
if [ -n "${secrets_ex:-}" ]; then
	chmod 640 "$dir/fence.secrets"
	check 78 "$secrets_ex"
	expect_err "fence.secrets: $dir/fence.secrets"
	grep -qF "example" "$dir/err" && fail "the secret is in the error message"
else
	fail "no example with a fence secrets file"
fi
[ "$n" -ge 2 ] || fail "found only $n example configurations under $root/deploy/examples"
grep -qF "\"$dir/run\"" "$dir/chorus-vips.json" || fail "run_dir not redirected in the copy"
[ -e "$dir/run" ] && fail "--check created the run directory (pid file or socket)"
[ -e "$dir/state" ] && fail "--check created the state directory"

good=$dir/chorus-vips.json

# an unknown key, named with its path
sed 's/"failback_delay_ms":/"failback_delay":/' "$good" >"$dir/bad-key.json"
check 78 "$dir/bad-key.json"
expect_err "failback_delay"
expect_err "unknown key"

# a known key with a bad value
sed 's/"failback": "delay"/"failback": "sometimes"/' "$good" >"$dir/bad-value.json"
check 78 "$dir/bad-value.json"
expect_err "failback"
grep -qF "sometimes" "$dir/bad-value.json" || fail "bad-value.json not made"

# no file at all
check 78 "$dir/nothing.json"
expect_err "$dir/nothing.json"

# not JSON
printf '{"group": "chorus",\n' >"$dir/truncated.json"
check 78 "$dir/truncated.json"
expect_err "$dir/truncated.json"

# nothing to manage: legal, said out loud
count=$((count + 1))
printf '{"log": {"stderr": true, "syslog": false}, "run_dir": "%s/run", "state_dir": "%s/state"}\n' \
	"$dir" "$dir" >"$dir/empty.json"
check 0 "$dir/empty.json"
expect_err "manages nothing"
printf '{"vips": [], "log": {"stderr": true, "syslog": false}, "run_dir": "%s/run", "state_dir": "%s/state"}\n' \
	"$dir" "$dir" >"$dir/empty-vips.json"
check 0 "$dir/empty-vips.json"
expect_err "manages nothing"
check 0 "$good"
grep -qF "manages nothing" "$dir/err" && fail "$good: warned of nothing managed"

# --check does one thing
count=$((count + 1))
timeout 10 "$CHORUSD" --check --cleanup -c "$good" >/dev/null 2>&1
[ $? -eq 64 ] || fail "--check --cleanup: expected usage error 64"

echo "$count chorusd --check runs, $fails failures"
[ "$fails" -eq 0 ]
