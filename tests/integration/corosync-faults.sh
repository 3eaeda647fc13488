#!/bin/bash
# corosync misbehaving under a live chorusd (issue: reliability).
#   1. corosync on node 3 hangs (SIGSTOP): chorusd gets no hang-up, notices
#      that its own messages stop coming back, and releases its VIPs within
#      a bound; the other two hold all 12
#   2. SIGCONT: node 3 comes back into the ring and gets its share back
#   3. corosync on node 3 killed and restarted 20 times while chorusd runs:
#      each time it releases, reconnects, rejoins and gets its share back;
#      chorusd's open files and threads do not grow
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync
[ -x "$CHORUSD" ] || { echo "chorusd not built"; exit 77; }
RESTARTS=${RESTARTS:-20}

cl_init cfault 3
for i in 1 2 3; do cl_corosync_start "$i"; done
cl_wait_members 1 3 30 || cl_fail "corosync did not form a 3-node ring"
for i in 1 2 3; do
    cl_write_chorus_conf "$i" "$(cl_ndir "$i")/chorusd.conf" 12
    sed -i 's/"level":"debug"/"level":"info"/' "$(cl_ndir "$i")/chorusd.conf"
    cl_chorusd_start "$i" "$(cl_ndir "$i")/chorusd.conf"
done
count_on() { cl_vips_on "$1" | wc -l; }
spread_is() { [ "$(count_on 1) $(count_on 2) $(count_on 3)" = "$1" ]; }
cl_wait_until 30 spread_is "4 4 4" || cl_fail "not 4/4/4"

# 1. hang
cpid=$(cl_corosync_pid 3) || cl_fail "no corosync 3"
t0=$(cl_now_ms)
kill -STOP "$cpid"
released() { [ "$(count_on 3)" = 0 ]; }
cl_wait_until 20 released || cl_fail "node 3 kept its VIPs with corosync stopped: $(count_on 3)"
t1=$(cl_now_ms)
cl_wait_until 20 spread_is "6 6 0" || cl_fail "survivors did not take over: $(count_on 1) $(count_on 2) $(count_on 3)"
t2=$(cl_now_ms)
cl_log "1 ok: corosync 3 stopped: node 3 released after $((t1 - t0)) ms, survivors held all 12 after $((t2 - t0)) ms"
grep -m1 "has not delivered our messages" "$(cl_ndir 3)/chorusd.log" | sed 's/^/    /'

# 2. resume
kill -CONT "$cpid"
cl_wait_members 1 3 60 || cl_fail "node 3 did not rejoin after SIGCONT"
cl_wait_until 30 spread_is "4 4 4" || cl_fail "no share back after SIGCONT: $(count_on 1) $(count_on 2) $(count_on 3)"
cl_log "2 ok: corosync 3 resumed, 4/4/4 again"

# 3. restarts
dpid=$(cl_chorusd_pid 3) || cl_fail "no chorusd 3"
fds() { ls /proc/"$dpid"/fd | wc -l; }
threads() { awk '/^Threads/ { print $2 }' /proc/"$dpid"/status; }
fd0=$(fds); th0=$(threads)
for (( k = 1; k <= RESTARTS; k++ )); do
    cl_corosync_kill 3 KILL
    cl_wait_until 20 released || cl_fail "restart $k: node 3 kept its VIPs without corosync"
    cl_corosync_start 3
    cl_wait_members 1 3 60 || cl_fail "restart $k: no 3-node ring"
    cl_wait_until 60 spread_is "4 4 4" || cl_fail "restart $k: not 4/4/4: $(count_on 1) $(count_on 2) $(count_on 3)"
    [ -d /proc/"$dpid" ] || cl_fail "restart $k: chorusd 3 died"
done
fd1=$(fds); th1=$(threads)
cl_log "3: $RESTARTS corosync restarts: chorusd fds $fd0 -> $fd1, threads $th0 -> $th1"
[ "$fd1" -le $((fd0 + 2)) ] || cl_fail "file descriptors grew: $fd0 -> $fd1"
[ "$th1" -le "$th0" ] || cl_fail "threads grew: $th0 -> $th1"
cl_log "3 ok"
echo "corosync-faults: all scenarios passed"
