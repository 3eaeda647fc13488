#!/bin/bash
# notify.sh - the event notification hook ("notify" in chorus.json) on a real
# 3-node cluster (issue 20).
#   1. node 1's command gets every event as argv TYPE TIME TEXT and in its
#      environment (CHORUS_EVENT_TYPE/TIME/TEXT, CHORUS_NODE_ID=1): its own
#      start, then membership and move events when node 3 is stopped
#   2. node 2's command is filtered to "quorum" and "membership": nothing
#      else reaches it
#   3. node 3's command hangs (timeout 500 ms): runs are killed at their
#      timeout, one at a time, failures are counted
#      (chorus_notify_failed_total), and node 3 serves and answers its
#      control socket as before
# Root, corosync; BUILDDIR.  About 40 s.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "chorusd not built at $CHORUSD"; exit 77; }
CHORUSCTL=${CHORUSCTL:-$BUILDDIR/coordinator/chorusctl}
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }

cl_init notify 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
conf() { echo "$(cl_ndir "$1")/chorusd.conf"; }
# the commands: record argv and environment, one line per event; or hang
rec=$CL_DIR/notify-rec.sh
cat > "$rec" <<'SH'
#!/bin/sh
out=$1; shift
printf '%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$CHORUS_EVENT_TYPE" "$CHORUS_NODE_ID" "$CHORUS_EVENT_TEXT" >> "$out"
SH
hang=$CL_DIR/notify-hang.sh
printf '#!/bin/sh\necho started >> "$1"\nexec sleep 60\n' > "$hang"
chmod +x "$rec" "$hang"
for i in 1 2 3; do cl_write_chorus_conf "$i" "$(conf "$i")" 6; done
python3 - "$(conf 1)" "$(conf 2)" "$(conf 3)" "$rec" "$hang" "$CL_DIR" <<'PY'
import json, sys
c1, c2, c3, rec, hang, d = sys.argv[1:]
def put(path, notify):
    c = json.load(open(path)); c["notify"] = notify; json.dump(c, open(path, "w"))
put(c1, {"command": [rec, d + "/n1.events"]})
put(c2, {"command": [rec, d + "/n2.events"], "types": ["quorum", "membership"]})
put(c3, {"command": [hang, d + "/n3.runs"], "timeout_ms": 500})
PY
for i in 1 2 3; do cl_chorusd_start "$i" "$(conf "$i")"; done
ctl() { local i=$1; shift; timeout 20 "$CHORUSCTL" -s "$(cl_ndir "$i")/chorus-run/chorusd.sock" "$@"; }
cl_wait_until 30 ctl 1 status >/dev/null || cl_fail "cluster not healthy"

# 1. node 1 hears everything, in argv and environment
cl_chorusd_kill 3 TERM
has() { grep -q "$2" "$CL_DIR/$1.events" 2>/dev/null; }
cl_wait_until 20 has n1 '^move|' || cl_fail "node 1's command got no move event: $(cat "$CL_DIR/n1.events" 2>/dev/null)"
has n1 '^daemon|20[0-9-]*T[0-9:.]*Z|chorusd .* started.*|daemon||' || cl_fail "node 1: no start event with argv and env: $(head -3 "$CL_DIR/n1.events")"
has n1 '^membership|.*|membership|1|' || cl_fail "node 1: no membership event with CHORUS_NODE_ID=1"
n1=$(wc -l < "$CL_DIR/n1.events")
cl_log "1 ok: node 1's command got $n1 events, argv TYPE TIME TEXT and the environment agree"

# 2. node 2's filter
cl_wait_until 10 has n2 '^membership|' || cl_fail "node 2's command got no membership event"
others=$(cut -d'|' -f1 "$CL_DIR/n2.events" | grep -v -x -e membership -e quorum | sort -u | paste -sd,)
[ -z "$others" ] || cl_fail "node 2's filtered command got other types: $others"
cl_log "2 ok: node 2's command got only membership/quorum ($(wc -l < "$CL_DIR/n2.events") events)"

# 3. node 3: a hanging command costs nothing
start_chorusd3() { cl_chorusd_start 3 "$(conf 3)"; }
start_chorusd3
cl_wait_until 30 ctl 3 status >/dev/null || cl_fail "node 3 not healthy with a hanging notify command"
t0=$(cl_now_ms)
for k in 1 2 3 4 5; do ctl 3 status >/dev/null || cl_fail "node 3's status failed"; done
dt=$(( $(cl_now_ms) - t0 ))
[ "$dt" -lt 5000 ] || cl_fail "5 status calls on node 3 took $dt ms"
failed() { [ "$(ctl 3 metrics | sed -n 's/^chorus_notify_failed_total //p')" -ge 2 ]; }
cl_wait_until 20 failed || cl_fail "node 3: hung runs not counted as failed: $(ctl 3 metrics | grep notify)"
runs=$(wc -l < "$CL_DIR/n3.runs")
# the command execs sleep: one at a time means one sleep at most
[ "$(pgrep -fc '^sleep 60$')" -le 1 ] || cl_fail "more than one hung run at a time"
cl_log "3 ok: node 3 answered 5 status calls in $dt ms, $runs runs started, failed counted: $(ctl 3 metrics | sed -n 's/^chorus_notify_failed_total //p')"
echo "notify: all scenarios passed"
