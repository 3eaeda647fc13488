#!/bin/bash
# measure-dryrun.sh - dry run of the failover measurement path without chorusd.
#
# 3-node corosync cluster + address observers.  Each round: SIGKILL node 3's
# corosync, wait for node 1's log to show the new membership, then add VIPs by
# hand on node 1 (standing in for chorusd taking over), and compute from the logs:
#   kill_to_membership   kill -> "[TOTEM ] A new membership" on node 1
#   kill_to_sync         kill -> "[MAIN  ] Completed service synchronization" on node 1
#   membership_to_vips   membership line -> last VIP seen by the address monitor
#   kill_to_vips         kill -> last VIP seen
# Then node 3 is restarted and the VIPs removed for the next round.
# Usage: measure-dryrun.sh [ROUNDS] [N_VIPS]      (defaults 3 and 8)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-measure.sh"
cl_require_root_corosync

ROUNDS=${1:-3}
NVIPS=${2:-8}
cl_init dryrun 3
for i in 1 2 3; do cl_corosync_start "$i"; done
for i in 1 2 3; do cl_wait_members "$i" 3 30 || cl_fail "node $i: no 3 members"; done
ms_observer_start

vips=()
for (( k = 0; k < NVIPS; k++ )); do vips+=("$(cl_vip_addr "$k" "$NVIPS")"); done
log1="$CL_DIR/n1/corosync.log"
mons="$(ms_monitor_log 1) $(ms_monitor_log 2) $(ms_monitor_log 3)"
k2m=() k2s=() m2v=() k2v=()

for (( r = 1; r <= ROUNDS; r++ )); do
    t_kill=$(cl_now_ms)
    cl_corosync_kill 3 KILL
    # what chorusd will do: react to the membership change...
    cl_wait_until 15 ms_membership_time_ms "$log1" "$t_kill" >/dev/null ||
        cl_fail "round $r: no new membership on node 1 within 15 s"
    # ...and take the VIPs over (one batch, like the executor would)
    printf 'addr add %s dev eth0\n' "${vips[@]}" | ip -n "$(cl_ns 1)" -batch - ||
        cl_fail "round $r: ip addr add failed"
    cl_wait_until 5 ms_last_vip_time_ms "$mons" "${vips[*]}" "$t_kill" >/dev/null ||
        cl_fail "round $r: monitor did not see all VIPs"
    t_mem=$(ms_membership_time_ms "$log1" "$t_kill")
    t_sync=$(ms_sync_time_ms "$log1" "$t_kill")
    t_vips=$(ms_last_vip_time_ms "$mons" "${vips[*]}" "$t_kill")
    k2m+=($(( t_mem - t_kill ))); k2s+=($(( t_sync - t_kill )))
    m2v+=($(( t_vips - t_mem ))); k2v+=($(( t_vips - t_kill )))
    printf 'round %d: kill_to_membership=%d kill_to_sync=%d membership_to_vips=%d kill_to_vips=%d ms (%d VIPs)\n' \
        "$r" "${k2m[-1]}" "${k2s[-1]}" "${m2v[-1]}" "${k2v[-1]}" "$NVIPS"
    [ "$(cl_vips_on 1 | wc -l)" = "$NVIPS" ] || cl_fail "node 1 does not hold $NVIPS VIPs"
    # reset for the next round
    printf 'addr del %s dev eth0\n' "${vips[@]}" | ip -n "$(cl_ns 1)" -batch -
    if [ "$r" -lt "$ROUNDS" ]; then
        cl_corosync_start 3
        for i in 1 2 3; do cl_wait_members "$i" 3 30 || cl_fail "node $i: no 3 members"; done
    fi
done

for m in k2m k2s m2v k2v; do
    declare -n arr=$m
    printf '%-20s median %5d  max %5d ms over %d rounds\n' \
        "$(case $m in k2m) echo kill_to_membership;; k2s) echo kill_to_sync;;
                      m2v) echo membership_to_vips;; k2v) echo kill_to_vips;; esac)" \
        "$(ms_median "${arr[@]}")" "$(ms_max "${arr[@]}")" "$ROUNDS"
    unset -n arr
done
echo "PASS measure-dryrun"
