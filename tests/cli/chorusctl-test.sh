#!/bin/sh
# chorusctl against a fake chorusd: socat serves canned answers from files
# written by this script (heredocs), one connection at a time, and logs each
# request line so that what chorusctl sent can be checked too.
#
# Checks the tables, --json, the exit status of every outcome (healthy and
# unhealthy status, error answer, no daemon, usage, timeout, garbage) and the
# request each command sends.  Everything runs under timeout(1); the fake
# daemon and the temporary directory go away on any exit.
#
# Run by `make check` from the build directory; CHORUSCTL overrides the
# binary.  Exits 77 (skipped) without socat.

set -u

CHORUSCTL=${CHORUSCTL:-./coordinator/chorusctl}
CHORUSD=${CHORUSD:-./coordinator/chorusd}
MAN8=${srcdir:-.}/deploy/man/chorusctl.8
command -v socat >/dev/null 2>&1 || { echo "socat not found: skipped"; exit 77; }
[ -x "$CHORUSCTL" ] || { echo "no $CHORUSCTL"; exit 99; }
[ -x "$CHORUSD" ] || { echo "no $CHORUSD"; exit 99; }
[ -f "$MAN8" ] || { echo "no $MAN8"; exit 99; }
CHORUSCTL=$(cd "$(dirname "$CHORUSCTL")" && pwd)/$(basename "$CHORUSCTL")

dir=$(mktemp -d "${TMPDIR:-/tmp}/chorusctl-test.XXXXXX") || exit 99
sock=$dir/chorusd.sock
fake_pid=
busy_pid=
fails=0
count=0

cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
	[ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

mkdir "$dir/resp"

# The fake daemon: answer with resp/<cmd>, its @ID@ replaced by the
# request's id; a command without a file gets unknown_command.
cat >"$dir/fake.sh" <<'EOF'
#!/bin/sh
dir=$1
IFS= read -r req || exit 0
printf '%s\n' "$req" >>"$dir/requests"
cmd=$(printf '%s' "$req" | sed -n 's/.*"cmd":"\([a-z-]*\)".*/\1/p')
id=$(printf '%s' "$req" | sed -n 's/.*"id":"\([0-9a-z-]*\)".*/\1/p')
if [ -f "$dir/resp/$cmd" ]; then
	sed "s/@ID@/$id/g" "$dir/resp/$cmd"
else
	printf '{"v":1,"id":"%s","ok":false,"error":{"code":"unknown_command","message":"no command %s"}}\n' "$id" "$cmd"
fi
[ -f "$dir/linger" ] && sleep 2
exit 0
EOF
chmod +x "$dir/fake.sh"

start_fake() {
	socat UNIX-LISTEN:"$sock",fork,unlink-early SYSTEM:"sh $dir/fake.sh $dir" \
		2>"$dir/socat.log" &
	fake_pid=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$sock" ] || { echo "fake daemon did not start"; cat "$dir/socat.log"; exit 99; }
}

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# run EXPECTED_RC ARGS...: chorusctl's stdout in $dir/out, stderr in $dir/err.
run() {
	want=$1
	shift
	count=$((count + 1))
	timeout 15 "$CHORUSCTL" -s "$sock" "$@" >"$dir/out" 2>"$dir/err"
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

expect_no() {
	if grep -qF -- "$1" "$dir/out" "$dir/err"; then
		fail "output has '$1'"
	fi
}

# The last request the fake daemon saw contains $1.
expect_req() {
	tail -n 1 "$dir/requests" | grep -qF -- "$1" ||
		{ fail "request lacks '$1'"; tail -n 1 "$dir/requests" | sed 's/^/  req: /'; }
}

fit_80() {
	if awk 'length($0) > 80 { bad = 1 } END { exit !bad }' "$dir/out"; then
		fail "output wider than 80 columns"
	fi
}

start_fake

# --- status, healthy ---------------------------------------------------
cat >"$dir/resp/status" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"cluster":{"quorate":true,"members":3,"ring":"1.1c","generation":42,"since_change_ms":12000,"last_failover_ms":340,"maintenance":false,"healthy":true,"node_id":1,"proto":1,"future_key":"SECRET1"},"nodes":[{"id":1,"name":"n1","state":"active","reason":"","vips":2,"future":"SECRET2"},{"id":2,"name":"n2","state":"standby","reason":"operator request","vips":0},{"id":3,"name":"n3","state":"unhealthy","reason":"gfapi: gv0 unreachable","vips":1}],"vips":[{"address":"10.0.0.1/24","pool":"default","owner":1,"owner_name":"n1","state":"up","pinned":null},{"address":"10.0.0.2/24","pool":"default","owner":1,"owner_name":"n1","state":"up","pinned":1},{"address":"10.0.0.3/24","pool":"nfs","owner":3,"owner_name":"n3","state":"moving","pinned":2},{"address":"10.0.0.4/24","pool":"nfs","owner":null,"owner_name":"","state":"unplaced","pinned":null}]}}
EOF
run 0 status
expect_out "Cluster:       healthy"
expect_out "Quorum:        quorate, 3 members"
expect_out "Ring id:       1.1c"
expect_out "Generation:    42"
expect_out "Last change:   12s ago"
expect_out "Last failover: 340 ms"
expect_out "Maintenance:   off"
expect_out "   1  n1    active        2"
expect_out "   2  n2    standby       0  operator request"
expect_out "   3  n3    unhealthy     1  gfapi: gv0 unreachable"
expect_out "10.0.0.2/24  default  n1     up (pinned)"
expect_out "10.0.0.3/24  nfs      n3     moving (pinned to n2)"
expect_out "10.0.0.4/24  nfs      -      unplaced"
expect_no "SECRET"
expect_no "$(printf '\033')"	# not a tty: no colour
fit_80
expect_req '"v":1,"id":"'
expect_req '"cmd":"status","args":{}}'
# nothing to say about bricks, hooks or the watchdog: no such sections
expect_out "Protocol:      1"
for w in Bricks: Fencing: Watchdog: Inventory: Hooks:; do expect_no "$w"; done

# --json prints the raw result, still with the health exit status.
run 0 --json status
expect_out '"quorate": true'
expect_out '"future_key": "SECRET1"'
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out" ||
		fail "--json output is not JSON"
fi

# --- status, unhealthy -------------------------------------------------
cat >"$dir/resp/status" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"cluster":{"quorate":false,"members":1,"ring":"1.2a","generation":7,"since_change_ms":7384000,"last_failover_ms":null,"maintenance":true,"healthy":false,"node_id":2,"proto":1},"nodes":[{"id":2,"name":"n2","state":"active","reason":"","vips":0},{"id":1,"name":"n1","state":"left","reason":"left the membership","vips":0}],"vips":[]}}
EOF
run 1 status
expect_out "Cluster:       UNHEALTHY"
expect_out "Quorum:        NOT QUORATE, 1 member"
expect_out "Last change:   2h 3m ago"
expect_out "Last failover: none"
expect_out "Maintenance:   ON"
expect_out "left       0  left the membership"
expect_out "No addresses."
run 1 --json status

# --- status before corosync answers: the cause, and the configured addresses
cat >"$dir/resp/status" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"cluster":{"connected":false,"quorate":false,"members":0,"ring":"0.0","generation":0,"since_change_ms":0,"last_failover_ms":null,"maintenance":false,"healthy":false,"node_id":0,"proto":0,"round_complete":false},"nodes":[],"vips":[{"address":"10.0.0.1/24","pool":"default","owner":null,"owner_name":null,"state":"unknown","pinned":null},{"address":"10.0.0.2/24","pool":"nfs","owner":null,"owner_name":null,"state":"unknown","pinned":null}],"checks":[]}}
EOF
run 1 status
expect_out "Cluster:       UNHEALTHY: not connected to corosync"
expect_out "Quorum:        unknown (not connected to corosync)"
expect_out "Addresses (configured; owners unknown):"
expect_out "10.0.0.2/24  nfs      -      unknown"
for w in "This node:" "Ring id:" Generation: Protocol: Nodes: Maintenance:; do expect_no "$w"; done

# --- status with bricks, a failed hook, fencing, a starving watchdog, brick
# multiplexing and an inventory error: all on one screen, compared whole ------
cat >"$dir/resp/status" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"cluster":{"connected":true,"quorate":true,"members":2,"ring":"1.30","generation":9,"since_change_ms":65000,"last_failover_ms":900,"maintenance":false,"healthy":false,"node_id":1,"proto":2,"round_complete":true},"nodes":[{"id":1,"name":"n1","state":"active","reason":"","vips":2},{"id":2,"name":"n2","state":"active","reason":"","vips":0},{"id":3,"name":"n3","state":"unfenced","reason":"lost, not fenced","vips":0}],"vips":[{"address":"10.0.0.1/32","pool":"default","owner":1,"owner_name":"n1","state":"up","pinned":null},{"address":"10.0.1.1/32","pool":"bricks","owner":1,"owner_name":"n1","state":"up","pinned":null,"exclusive":true,"waiting_for":null},{"address":"10.0.1.2/32","pool":"bricks","owner":2,"owner_name":"n2","state":"up","pinned":null,"exclusive":true,"waiting_for":null},{"address":"10.0.1.3/32","pool":"bricks","owner":1,"owner_name":"n1","state":"pending","pinned":null,"exclusive":true,"waiting_for":3}],"checks":[],"bricks":{"fence":"command","bricks":[{"volume":"gv0","host":"n1","path":"/b/1","address":"10.0.1.1/32","running_here":true,"busy":true,"doing":"checking","failed":false,"in_gluster":true,"set":{"set":"gv0/0","source":"gluster","config":null,"gluster":"0","conflict":false,"in_effect":true}},{"volume":"gv0","host":"n2","path":"/b/2","address":"10.0.1.2/32","running_here":false,"busy":false,"failed":true,"in_gluster":true,"set":{"set":"gv0/a","source":"config","config":"a","gluster":"0","conflict":true,"in_effect":true}},{"volume":"gv0","host":"n3","path":"/b/3","address":"10.0.1.3/32","running_here":false,"busy":false,"failed":false,"in_gluster":true,"set":{"set":"gv0/0","source":"gluster","config":null,"gluster":"0","conflict":false,"in_effect":false}}],"inventory":{"refreshes":4,"bricks":3,"age_ms":1000,"last_reason":"timer","error":"gluster volume info: exit 1","brick_multiplex":true},"fences_ok":1,"fences_failed":1,"fencing":3,"last_fence":{"node":3,"ok":false,"age_ms":4000},"watchdog":"starving"},"hooks":{"configured":2,"runs":12,"failures":2,"running":0,"queued":0,"last_failure":"nfs-ganesha: exit 3"}}}
EOF
run 1 status
cat >"$dir/want" <<'EOF'
Cluster:       UNHEALTHY: 1 node not active
Quorum:        quorate, 2 members
This node:     1
Ring id:       1.30
Protocol:      2
Generation:    9
Last change:   1m 5s ago
Last failover: 900 ms
Maintenance:   off

Nodes:
  ID  NAME  STATE     VIPS  REASON
   1  n1    active       2
   2  n2    active       0
   3  n3    unfenced     0  lost, not fenced

Addresses:
  ADDRESS      POOL     OWNER  STATE
  10.0.0.1/32  default  n1     up
  10.0.1.1/32  bricks   n1     up
  10.0.1.2/32  bricks   n2     up
  10.0.1.3/32  bricks   n1     pending

Bricks:
  VOLUME  BRICK    SET                 OWNER  STATE
  gv0     n1:/b/1  gv0/0               n1     up, running here
  gv0     n2:/b/2  gv0/a (gluster: 0)  n2     failed here (held off)
  gv0     n3:/b/3  gv0/0 (next round)  n1     waiting for n3 to be fenced
Sets:          1 brick: chorus.json's "set" disagrees with glusterd
Fencing:       command; fencing n3 now; bricks wait for n3
Last fence:    n3 NOT fenced, 4s ago (1 ok, 1 failed)
Watchdog:      STARVING (this node will be reset)
Multiplexing:  ON (cluster.brick-multiplex): bricks are not started
Inventory:     gluster volume info: exit 1

Hooks:         2 of 12 runs failed; last: nfs-ganesha: exit 3
EOF
diff -u "$dir/want" "$dir/out" >"$dir/diff" || { fail "status with bricks differs from the golden text"; cat "$dir/diff"; }
fit_80
# bricks: the same section alone (the daemon's answer carries what it names)
cp "$dir/resp/status" "$dir/resp/bricks"
run 0 bricks
sed -n '/^Bricks:/,/^Inventory:/p' "$dir/want" >"$dir/want-bricks"
diff -u "$dir/want-bricks" "$dir/out" >"$dir/diff" || { fail "bricks differs from status's section"; cat "$dir/diff"; }
expect_req '"cmd":"bricks","args":{}}'
cat >"$dir/resp/bricks" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"bricks":null,"nodes":[],"vips":[]}}
EOF
run 0 bricks
expect_out "No bricks configured."

# --- nodes, vips ---------------------------------------------------------
cat >"$dir/resp/nodes" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"nodes":[{"id":1,"name":"alpha","state":"active","reason":"","vips":3},{"id":12,"name":"beta","state":"leaving","reason":"shutting down","vips":1}]}}
EOF
run 0 nodes
expect_out "ID  NAME   STATE    VIPS  REASON"
expect_out "12  beta   leaving     1  shutting down"
expect_req '"cmd":"nodes","args":{}'
cat >"$dir/resp/vips" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"vips":[{"address":"192.168.100.200/24","pool":"default","owner":1,"owner_name":"alpha","state":"up","pinned":12},{"address":"fd00::1/64","pool":"v6","owner":12,"owner_name":"","state":"up","pinned":null}]}}
EOF
run 0 vips
expect_out "ADDRESS             POOL     OWNER  STATE"
expect_out "192.168.100.200/24  default  alpha  up (pinned to #12)"
expect_out "fd00::1/64          v6       #12    up"

# --- events --------------------------------------------------------------
cat >"$dir/resp/events" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"events":[{"time":"2026-11-23T22:00:00.123Z","type":"membership","text":"n3 left"},{"time":"2026-11-23T22:00:00.480Z","type":"move","text":"10.0.0.3 n3 -> n1 (node left) in 357 ms"}]}}
{"v":1,"event":{"time":"2026-11-23T22:01:00.000Z","type":"admin","text":"standby n2 by uid 0"}}
{"v":1,"event":{"time":"2026-11-23T22:02:00.000Z","type":"health","text":"n2 \u001b[31mhealthy"}}
EOF
run 0 events -n 5
expect_out "2026-11-23T22:00:00.123Z  membership  n3 left"
expect_out "2026-11-23T22:00:00.480Z  move        10.0.0.3 n3 -> n1 (node left) in 357 ms"
expect_no "standby n2"		# not following: the stream is not read
expect_req '"cmd":"events","args":{"follow":false,"limit":5}'
run 0 events --follow
expect_out "2026-11-23T22:01:00.000Z  admin       standby n2 by uid 0"
expect_out "health      n2 ?[31mhealthy"	# control characters neutralised
expect_req '"args":{"follow":true,"limit":20}'
# --since: the client turns it into wall-clock ms; all since, unless -n
run 0 events --since 2026-11-23T22:00
expect_req '"args":{"follow":false,"limit":0,"since":1795471200000}'
run 0 events --since 2026-11-23T22:00:30Z -n 5
expect_req '"args":{"follow":false,"limit":5,"since":1795471230000}'
run 0 events --since @1000
expect_req '"since":1000000}'
run 0 events --since 10m
now_s=$(date +%s)
since_ms=$(tail -n 1 "$dir/requests" | sed -n 's/.*"since":\([0-9]*\).*/\1/p')
[ -n "$since_ms" ] && [ $(( now_s - 600 - since_ms / 1000 )) -ge -2 ] && [ $(( now_s - 600 - since_ms / 1000 )) -le 2 ] ||
	fail "--since 10m sent $since_ms, not about $(( (now_s - 600) * 1000 ))"
run 2 events --since yesterday
expect_err "bad --since 'yesterday'"
run 2 events --since 10x
run 2 events --core --since 1h
run 2 status --since 1h
run 0 --json events -f
[ "$(wc -l <"$dir/out")" -eq 4 ] || fail "events --follow --json: expected 4 lines"
expect_out '{"time":"2026-11-23T22:01:00.000Z","type":"admin","text":"standby n2 by uid 0"}'

# --- events --core: what the core was fed, with a request's answer ----------
cp "$dir/resp/events" "$dir/resp/events.log"
cat >"$dir/resp/events" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"core_events":[{"mono_ms":5000100,"type":"admin","text":"maintenance on cookie 1","rc":-11},{"mono_ms":5001250,"type":"deliver","text":"STATE from n2 (812 bytes)"},{"mono_ms":5002000,"type":"tick","text":""},{"mono_ms":5002500,"type":"admin","text":"standby n2 cookie 2","rc":0},{"mono_ms":5002501,"type":"deliver","text":"ADMIN from n1 (\u001b[31m bytes)"}],"now_ms":5004500}}
EOF
run 0 events --core -n 5
expect_req '"cmd":"events","args":{"follow":false,"limit":5,"core":true}'
expect_out "MONOTONIC"
expect_out "   5000.100       4.4s  admin          maintenance on cookie 1 -> refused (-11)"
expect_out "   5002.000       2.5s  tick           "
expect_out "   5002.500       2.0s  admin          standby n2 cookie 2 -> ok"
expect_out "deliver        ADMIN from n1 (?[31m bytes)"	# control characters neutralised
run 0 --json events --core
expect_req '"args":{"follow":false,"limit":20,"core":true}'
expect_out '"text": "standby n2 cookie 2",'
expect_out '"now_ms": 5004500'
printf '%s\n' '{"v":1,"id":"@ID@","ok":true,"result":{"core_events":[],"now_ms":1}}' \
	>"$dir/resp/events"
run 0 events --core
expect_out "No core events."
run 2 events --core --follow
expect_err "core events cannot be followed"
run 2 status --core
mv "$dir/resp/events.log" "$dir/resp/events"

# --- changes -------------------------------------------------------------
for c in move unpin standby active maintenance rebalance reload; do
	cat >"$dir/resp/$c" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"applied":true,"generation":43}}
EOF
done
run 0 move 10.0.0.5 n2
expect_out "10.0.0.5 pinned to n2 (generation 43)"
expect_req '"cmd":"move","args":{"vip":"10.0.0.5","node":"n2"}}'
run 0 move fd00::5 3
expect_req '"args":{"vip":"fd00::5","node":"3"}'
run 0 move 10.0.0.6/24 n1
expect_req '"args":{"vip":"10.0.0.6/24","node":"n1"}'
run 0 unpin 10.0.0.5
expect_out "10.0.0.5 unpinned (generation 43)"
expect_req '"cmd":"unpin","args":{"vip":"10.0.0.5"}}'
run 0 standby n2
expect_out "n2 in standby (generation 43)"
expect_req '"cmd":"standby","args":{"node":"n2"}}'
run 0 active n2
expect_req '"cmd":"active","args":{"node":"n2"}}'
run 0 maintenance on
expect_out "maintenance on (generation 43)"
expect_req '"cmd":"maintenance","args":{"on":true}}'
run 0 maintenance off
expect_req '"args":{"on":false}}'
run 0 rebalance
expect_req '"cmd":"rebalance","args":{}}'
run 0 reload
expect_out "configuration reloaded (generation 43)"
run 0 --json standby n2
expect_out '"applied": true'
cat >"$dir/resp/cleanup" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"applied":true,"generation":7,"moves":[]}}
EOF
run 0 cleanup n2:/bricks/b1
expect_out "failure holds of n2:/bricks/b1 ended on every node"
expect_req '"cmd":"cleanup","args":{"brick":"n2:/bricks/b1"}}'
run 0 cleanup fd00::2:/bricks/b1
expect_req '"args":{"brick":"fd00::2:/bricks/b1"}}'
run 0 cleanup --node n3
expect_out "failure holds of every brick ended on n3"
expect_req '"cmd":"cleanup","args":{"node":"n3"}}'
run 0 cleanup
expect_req '"cmd":"cleanup","args":{}}'
run 2 cleanup /bricks/b1
expect_err "HOST:PATH"
run 2 cleanup :/bricks/b1
run 2 cleanup n2:/bricks/b1 n3
run 2 cleanup --node ""
expect_err "empty node name"
run 2 status --node n3
expect_err "--node goes with 'cleanup' only"

# --- plan, metrics ---------------------------------------------------------
cat >"$dir/resp/plan" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"moves":[{"vip":"10.0.0.3","from":2,"from_name":"n2","to":1,"to_name":"n1","why":"n2 failed; n1 has fewest"},{"vip":"10.0.0.7","from":2,"from_name":"n2","to":3,"to_name":"n3","why":"n2 failed"}],"unplaced":["10.0.0.9"]}}
EOF
run 0 plan --fail n2
expect_out "If n2 failed:"
expect_out "10.0.0.3  n2    n1  n2 failed; n1 has fewest"
expect_out "Unplaced: 10.0.0.9"
expect_req '"cmd":"plan","args":{"fail":"n2"}}'
run 0 plan --standby n3
expect_out "If n3 were put in standby:"
expect_req '"args":{"standby":"n3"}}'
run 0 plan
expect_req '"cmd":"plan","args":{}}'
cp "$dir/resp/plan" "$dir/resp/plan.ok"
cat >"$dir/resp/plan" <<'EOF'
{"v":1,"id":"@ID@","ok":false,"error":{"code":"unknown_node","message":"no node 9 in the cluster"}}
EOF
run 4 plan --fail 9
expect_err "chorusctl: unknown_node: no node 9 in the cluster"
expect_no "would move"
mv "$dir/resp/plan.ok" "$dir/resp/plan"
cat >"$dir/resp/metrics" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"text":"# HELP chorus_vips Addresses held.\n# TYPE chorus_vips gauge\nchorus_vips{node=\"n1\"} 2\n"}}
EOF
run 0 metrics
expect_out 'chorus_vips{node="n1"} 2'
[ "$(wc -l <"$dir/out")" -eq 3 ] || fail "metrics: expected the text verbatim"

# what placement moved besides the address asked for is said
cat >"$dir/resp/move" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"applied":true,"generation":44,"moves":[{"vip":"10.0.0.5","from":1,"from_name":"n1","to":2,"to_name":"n2"},{"vip":"10.0.0.9","from":2,"from_name":"n2","to":1,"to_name":"n1"}]}}
EOF
run 0 move 10.0.0.5/24 n2
expect_out "10.0.0.5/24 pinned to n2 (generation 44)"
expect_out "  moved 10.0.0.5: n1 -> n2"
expect_out "  moved 10.0.0.9: n2 -> n1 (side move: placement keeps the spread)"
grep -F "moved 10.0.0.5:" "$dir/out" | grep -qF "side move" && fail "the address asked for is called a side move"
cat >"$dir/resp/standby" <<'EOF'
{"v":1,"id":"@ID@","ok":true,"result":{"applied":true,"generation":45,"moves":[{"vip":"10.0.0.9","from":1,"from_name":"n1","to":3}]}}
EOF
run 0 standby n1
expect_out "  moved 10.0.0.9: n1 -> #3"
grep -qF "side move" "$dir/out" && fail "standby's moves called side moves"

# --- error answers -> 4 ------------------------------------------------------
cat >"$dir/resp/move" <<'EOF'
{"v":1,"id":"@ID@","ok":false,"error":{"code":"not_quorate","message":"this partition has no quorum"}}
EOF
run 4 move 10.0.0.5 n2
expect_err "chorusctl: not_quorate: this partition has no quorum"
rm -f "$dir/resp/rebalance"
run 4 rebalance
expect_err "chorusctl: unknown_command:"

# --- garbage and foreign answers -> 3 ----------------------------------------
printf 'this is not json\n' >"$dir/resp/nodes"
run 3 nodes
expect_err "malformed answer"
printf '{"v":1,"id":"someone-else","ok":true,"result":{}}\n' >"$dir/resp/nodes"
run 3 nodes
printf '{"v":2,"id":"@ID@","ok":true,"result":{}}\n' >"$dir/resp/nodes"
run 3 nodes
expect_err "protocol 2"

# --- no answer in time -> 3, within the timeout ------------------------------
: >"$dir/linger"
printf '' >"$dir/resp/vips"
start=$(date +%s)
run 3 --timeout 0.5 vips
[ $(($(date +%s) - start)) -le 3 ] || fail "--timeout 0.5 took too long"
expect_err "no answer"
rm -f "$dir/linger"

# --- events --follow ends cleanly on SIGINT while the stream is open --------
# SIGINT goes to chorusctl alone, once it follows (the event is printed).
# Not timeout(1): it signals its whole process group, and under ASan that
# includes LeakSanitizer's tracer while it stops the exiting process; the
# two then wait for each other for ever (the CI hang of 2026-11-24).
: >"$dir/linger"
count=$((count + 1))
"$CHORUSCTL" -s "$sock" events -f >"$dir/out" 2>"$dir/err" &
ev_pid=$!
i=0
while ! grep -qF "standby n2 by uid 0" "$dir/out" && kill -0 "$ev_pid" 2>/dev/null &&
	[ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -INT "$ev_pid" 2>/dev/null
i=0
while kill -0 "$ev_pid" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.05
	i=$((i + 1))
done
if kill -0 "$ev_pid" 2>/dev/null; then
	fail "events -f did not end within 15 s of SIGINT"
	kill -KILL "$ev_pid" 2>/dev/null
fi
wait "$ev_pid"
rc=$?
[ $rc -eq 0 ] || fail "events -f interrupted: exit $rc, expected 0"
expect_out "standby n2 by uid 0"
rm -f "$dir/linger"

# --- a daemon refusing the connection (busy, before reading) -> 4 ------------
cat >"$dir/busy.sh" <<'EOF'
#!/bin/sh
echo '{"v":1,"id":"","ok":false,"error":{"code":"busy","message":"too many clients"}}'
EOF
socat UNIX-LISTEN:"$dir/busy.sock",fork,unlink-early SYSTEM:"sh $dir/busy.sh" 2>/dev/null &
busy_pid=$!
i=0
while [ ! -S "$dir/busy.sock" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
count=$((count + 1))
timeout 15 "$CHORUSCTL" -s "$dir/busy.sock" status >"$dir/out" 2>"$dir/err"
rc=$?
[ $rc -eq 4 ] || fail "busy: exit $rc, expected 4"
expect_err "chorusctl: busy: too many clients"
kill "$busy_pid" 2>/dev/null

# --- no daemon -> 3 ----------------------------------------------------------
count=$((count + 1))
timeout 15 "$CHORUSCTL" -s "$dir/nothing.sock" status >"$dir/out" 2>"$dir/err"
[ $? -eq 3 ] || fail "no socket: expected exit 3"
expect_err "is chorusd running?"
count=$((count + 1))
CHORUS_SOCKET=$dir/env.sock timeout 15 "$CHORUSCTL" status >"$dir/out" 2>"$dir/err"
[ $? -eq 3 ] || fail "CHORUS_SOCKET: expected exit 3"
expect_err "$dir/env.sock"

# --- usage -> 2 --------------------------------------------------------------
run 2
run 2 frobnicate
expect_err "unknown command 'frobnicate'"
run 2 move 10.0.0.5
run 2 move 10.0.0.5/33 n2
run 2 move 10.0.0.5/ n2
run 2 move not-an-ip n2
run 2 maintenance maybe
run 2 status extra
run 2 status --follow
run 2 plan --fail n1 --standby n2
run 2 --timeout abc status
run 2 --timeout 0 status
run 2 events -n 0
run 2 --bogus status
run 0 --help
expect_out "Usage: chorusctl"

# --- every command the daemon answers is in chorusctl, its help and its man
# page synopsis, and the help lists nothing the daemon does not answer ---------
"$CHORUSD" --list-commands >"$dir/daemon-cmds" || fail "chorusd --list-commands failed"
[ "$(wc -l <"$dir/daemon-cmds")" -ge 10 ] || fail "chorusd --list-commands: too few commands"
sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' "$dir/out" | sort -u >"$dir/help-cmds"
sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$MAN8" | sed 's/\\-/-/g' >"$dir/synopsis"
while IFS= read -r c; do
	grep -qx -- "$c" "$dir/help-cmds" || fail "chorusctl --help lacks '$c'"
	grep -qw -- "$c" "$dir/synopsis" || fail "chorusctl(8) synopsis lacks '$c'"
	run 2 "$c" x x x
	expect_err "usage: chorusctl $c"
done <"$dir/daemon-cmds"
while IFS= read -r c; do
	grep -qx -- "$c" "$dir/daemon-cmds" || fail "chorusctl --help lists '$c', chorusd lacks it"
done <"$dir/help-cmds"

echo "$count chorusctl runs, $fails failures"
[ "$fails" -eq 0 ]
