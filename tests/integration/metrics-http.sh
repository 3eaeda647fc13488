#!/bin/bash
# metrics-http.sh - the Prometheus scrape endpoint on a real 3-node cluster
# (issue 20).  Node 1 listens on its cluster address ("metrics": {"listen"}).
#   1. GET /metrics from node 2's namespace answers 200 with the same families
#      as chorusctl metrics, and the text passes tests/cli/metrics-check.sh
#      (awk, and promtool check metrics when promtool is installed)
#   2. HEAD answers headers only; POST gets 405, /other 404, garbage 400
#   3. hostile clients: 40 idle connections, a 64 KiB request line: the idle
#      ones are closed within the 5 s deadline (+2 s), the oversized one at
#      once, the control socket answers throughout, and a scrape works again
#      afterwards
#   4. a node whose listen address is in use runs on without the endpoint
#      (logged), its status saying so
# Root, corosync; BUILDDIR.  About 40 s.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "chorusd not built at $CHORUSD"; exit 77; }
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
CHECK=$CL_ROOT/tests/cli/metrics-check.sh

cl_init mhttp 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
conf() { echo "$(cl_ndir "$1")/chorusd.conf"; }
A1=$(cl_addr 1)
PORT=9787
for i in 1 2 3; do cl_write_chorus_conf "$i" "$(conf "$i")" 6; done
python3 - "$(conf 1)" "$A1:$PORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["metrics"] = {"listen": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"))
PY
for i in 1 2 3; do cl_chorusd_start "$i" "$(conf "$i")"; done
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
cl_wait_until 30 ctl 1 status >/dev/null || cl_fail "node 1 not healthy"

# http NS METHOD PATH [BODY] : "CODE\n<body>" from inside namespace NS
http() {
    ip netns exec "$1" python3 - "$A1" "$PORT" "$2" "$3" <<'PY'
import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=10)
c.request(sys.argv[3], sys.argv[4])
r = c.getresponse()
print(r.status)
sys.stdout.write(r.read().decode())
PY
}
ns2=$(cl_ns 2)

# 1. a scrape
out=$(http "$ns2" GET /metrics) || cl_fail "no answer from http://$A1:$PORT/metrics"
[ "$(echo "$out" | head -n 1)" = 200 ] || cl_fail "scrape: not 200: $(echo "$out" | head -n 3)"
echo "$out" | tail -n +2 > "$CL_DIR/scrape.txt"
"$CHECK" < "$CL_DIR/scrape.txt" || cl_fail "the scrape does not validate"
for fam in chorus_members chorus_quorate chorus_build_info chorus_node_state chorus_node_vips chorus_config_drift_nodes; do
    grep -q "^$fam[{ ]" "$CL_DIR/scrape.txt" || cl_fail "scrape lacks $fam"
done
grep -q '^chorus_node_vips{node="2",name="' "$CL_DIR/scrape.txt" || cl_fail "node names are not labels"
diff <(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$CL_DIR/scrape.txt" | sort) \
     <(ctl 1 metrics | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort) ||
    cl_fail "the scrape and chorusctl metrics have different families"
cl_log "1 ok: scrape from node 2's namespace: $(grep -c '^chorus_' "$CL_DIR/scrape.txt") samples, valid$(command -v promtool >/dev/null && echo ' (promtool too)')"

# 2. the other answers
[ "$(http "$ns2" HEAD /metrics | head -n 1)" = 200 ] || cl_fail "HEAD /metrics not 200"
[ "$(http "$ns2" POST /metrics | head -n 1)" = 405 ] || cl_fail "POST not 405"
[ "$(http "$ns2" GET /other | head -n 1)" = 404 ] || cl_fail "/other not 404"
garbage=$(ip netns exec "$ns2" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"\x00\x01 nonsense\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())' "$A1" "$PORT")
[[ $garbage == *400* ]] || cl_fail "garbage not 400: $garbage"
cl_log "2 ok: HEAD 200, POST 405, /other 404, garbage 400"

# 3. hostile clients
res=$(ip netns exec "$ns2" python3 - "$A1" "$PORT" <<'PY'
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
# first, while there is room: a request line far past the 2 KiB buffer
big = socket.create_connection((host, port), timeout=10)
t0 = time.time()
try:
    big.sendall(b"GET /" + b"a" * 65536 + b" HTTP/1.0\r\n\r\n")
except OSError:
    pass
try:
    big_closed = big.recv(1) == b""
except OSError:
    big_closed = True
big_s = time.time() - t0
# then more idle clients than there are slots
idle = [socket.create_connection((host, port), timeout=10) for _ in range(40)]
# every idle connection must be closed by the server within 5 s + 2 s
t0 = time.time()
open_left = 0
for s in idle:
    s.settimeout(max(0.1, 7.0 - (time.time() - t0)))
    try:
        if s.recv(1) != b"":
            open_left += 1
    except socket.timeout:
        open_left += 1
    except OSError:
        pass
print(int(big_closed), round(big_s, 2), open_left, round(time.time() - t0, 2))
PY
) || cl_fail "hostile clients script failed"
read -r big_closed big_s open_left idle_s <<< "$res"
[ "$big_closed" = 1 ] || cl_fail "the 64 KiB request was not closed"
[ "$open_left" = 0 ] || cl_fail "$open_left idle connections still open after 7 s"
ctl 1 status >/dev/null || cl_fail "control socket not answering after the hostile clients"
out=$(http "$ns2" GET /metrics) && [ "$(echo "$out" | head -n 1)" = 200 ] || cl_fail "no scrape after the hostile clients"
cl_log "3 ok: oversized request closed after ${big_s}s, 40 idle clients all closed within ${idle_s}s, control and scrape fine"

# 4. the port taken: node 3 runs on without the endpoint
A3=$(cl_addr 3)
ip netns exec "$(cl_ns 3)" python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); time.sleep(60)' "$A3" "$PORT" &
echo "$! squatter" >> "$CL_DIR/pids.all"
sleep 0.5
python3 - "$(conf 3)" "$A3:$PORT" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["metrics"] = {"listen": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"))
PY
ctl 3 reload >/dev/null || cl_fail "reload on node 3 refused"
cl_wait_until 20 ctl 3 status >/dev/null || cl_fail "node 3 unhealthy after the reload"
[ "$(ctl 3 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cluster"]["metrics_endpoint"])')" = None ] ||
    cl_fail "node 3 claims an endpoint it could not open"
# (the log file is written by libqb's logging thread: wait for the line)
logged() { grep -q "metrics endpoint $A3:$PORT: cannot listen" "$(cl_ndir 3)/chorusd.log" "$(cl_ndir 3)/chorusd.out"; }
cl_wait_until 10 logged || cl_fail "node 3 did not log the failed listen"
cl_log "4 ok: port in use: node 3 runs on without the endpoint and says so"
echo "metrics-http: all scenarios passed"
