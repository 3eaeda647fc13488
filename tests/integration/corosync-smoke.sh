#!/bin/bash
# corosync-smoke.sh - checks the integration harness itself on corosync alone.
#
# 3-node corosync cluster in network namespaces:
#   1. all three see 3 members and are quorate
#   2. SIGKILL node 3's corosync: nodes 1 and 2 see 2 members and stay quorate
#   3. restart node 3, wait for 3 members
#   4. cut node 1's link: node 1 becomes inquorate (alone), nodes 2+3 stay quorate
#   5. heal: 3 members everywhere, all quorate
#   6. partition {1} | {2,3} with cl_partition, then cl_heal
#   7. cl_chorusd_start/kill with a stand-in daemon (sleep)
# Exit 77 when not root or corosync is missing.  Prints the observed timings.
set -u
. "$(dirname "$0")/lib.sh"
cl_require_root_corosync

# generous bounds: they catch hangs, not slowness
FORM_S=30        # cluster formation
DETECT_S=15      # loss of a member (expected ~2.3 s with token 1000)

cl_init smoke 3
ms() { echo $(( $(cl_now_ms) - $1 )); }

t0=$(cl_now_ms)
for i in 1 2 3; do cl_corosync_start "$i"; done
for i in 1 2 3; do
    cl_wait_members "$i" 3 "$FORM_S" || cl_fail "node $i: no 3 members after ${FORM_S}s"
    cl_quorate "$i" || cl_fail "node $i not quorate with 3 members"
done
[ "$(cl_member_ids 1 | tr '\n' ' ')" = "1 2 3 " ] || cl_fail "member ids: $(cl_member_ids 1)"
echo "TIMING formation (start 3 corosyncs -> 3 members quorate everywhere): $(ms "$t0") ms"

# --- 2. crash node 3 ------------------------------------------------------
t0=$(cl_now_ms)
cl_corosync_kill 3 KILL
if p3=$(cl_corosync_pid 3); then
    cl_fail "corosync 3 (pid $p3) still alive after SIGKILL: $(cat /proc/"$p3"/status 2>&1 | grep -E 'State|Threads')"
fi
for i in 1 2; do
    cl_wait_members "$i" 2 "$DETECT_S" || cl_fail "node $i: still $(cl_members "$i") members ${DETECT_S}s after kill"
    echo "TIMING kill node 3 -> node $i sees 2 members: $(ms "$t0") ms (polling)"
    cl_quorate "$i" || cl_fail "node $i lost quorum with 2 of 3"
done

# --- 3. node 3 comes back -------------------------------------------------
t0=$(cl_now_ms)
cl_corosync_start 3
for i in 1 2 3; do
    cl_wait_members "$i" 3 "$FORM_S" || cl_fail "node $i: no 3 members after node 3 restart"
done
echo "TIMING restart node 3 -> 3 members everywhere: $(ms "$t0") ms"

# --- 4. cut node 1 off ----------------------------------------------------
t0=$(cl_now_ms)
cl_link_down 1
cl_wait_inquorate 1 "$DETECT_S" || cl_fail "node 1 still quorate ${DETECT_S}s after link down"
echo "TIMING link down node 1 -> node 1 inquorate: $(ms "$t0") ms"
cl_wait_members 1 1 "$DETECT_S" || cl_fail "node 1 sees $(cl_members 1) members, want 1"
for i in 2 3; do
    cl_wait_members "$i" 2 "$DETECT_S" || cl_fail "node $i: $(cl_members "$i") members, want 2"
    cl_quorate "$i" || cl_fail "node $i lost quorum when node 1 was cut off"
done
echo "TIMING link down node 1 -> nodes 2,3 see 2 members: $(ms "$t0") ms"

# --- 5. heal --------------------------------------------------------------
t0=$(cl_now_ms)
cl_link_up 1
for i in 1 2 3; do
    cl_wait_members "$i" 3 "$FORM_S" || cl_fail "node $i: $(cl_members "$i") members after heal"
    cl_wait_quorate "$i" 5 || cl_fail "node $i not quorate after heal"
done
echo "TIMING link up node 1 -> 3 members quorate everywhere: $(ms "$t0") ms"

# --- 6. partition via the switch --------------------------------------------
t0=$(cl_now_ms)
cl_partition "1" "2 3"
cl_wait_inquorate 1 "$DETECT_S" || cl_fail "partition: node 1 still quorate"
for i in 2 3; do
    cl_wait_members "$i" 2 "$DETECT_S" || cl_fail "partition: node $i has $(cl_members "$i") members"
    cl_quorate "$i" || cl_fail "partition: node $i not quorate"
done
echo "TIMING partition {1}|{2,3} -> settled: $(ms "$t0") ms"
t0=$(cl_now_ms)
cl_heal
for i in 1 2 3; do
    cl_wait_members "$i" 3 "$FORM_S" || cl_fail "heal: node $i has $(cl_members "$i") members"
done
echo "TIMING heal partition -> 3 members: $(ms "$t0") ms"

# --- 7. chorusd start/kill plumbing, with a stand-in ------------------------
stub="$CL_DIR/fake-chorusd"
cat > "$stub" <<'EOF'
#!/bin/sh
# stand-in for chorusd: shows where it runs, then idles
echo "fake-chorusd args: $*"
echo "netns addr: $(ip -o -4 addr show dev eth0 | awk '{print $4}')"
echo "run: $(ls /run)"
exec sleep 1000
EOF
chmod +x "$stub"
CHORUSD=$stub
for i in 1 2; do
    cl_write_chorus_conf "$i" "$CL_DIR/n$i/chorusd.conf" 3
    cl_chorusd_start "$i" "$CL_DIR/n$i/chorusd.conf"
done
p1=$(cl_chorusd_pid 1) || cl_fail "no chorusd pid for node 1"
cl_wait_until 5 grep -q '^run: ' "$CL_DIR/n1/chorusd.out" || cl_fail "stub produced no output"
grep -q "netns addr: $(cl_addr 1)/24" "$CL_DIR/n1/chorusd.out" || cl_fail "stub not in node 1 netns"
grep -q '^run: corosync.pid' "$CL_DIR/n1/chorusd.out" || cl_fail "stub does not see node 1's /run"
cl_chorusd_kill 1 KILL
cl_chorusd_pid 1 >/dev/null && cl_fail "stub 1 survived SIGKILL"
cl_chorusd_pid 2 >/dev/null || cl_fail "stub 2 died too"
echo "chorusd start/kill plumbing OK (stub pid $p1)"

# VIP helpers: add two VIPs by hand and find them again
v0=$(cl_vip_addr 0); v1=$(cl_vip_addr 1)
ip -n "$(cl_ns 2)" addr add "$v0" dev eth0
ip -n "$(cl_ns 3)" addr add "$v1" dev eth0
[ "$(cl_vips_on 2)" = "${v0%/*}" ] || cl_fail "cl_vips_on 2: '$(cl_vips_on 2)'"
[ -z "$(cl_vips_on 1)" ] || cl_fail "cl_vips_on 1 should be empty: '$(cl_vips_on 1)'"
[ "$(cl_vip_owner "$v1")" = 3 ] || cl_fail "cl_vip_owner $v1: '$(cl_vip_owner "$v1")'"
cl_reachable "$(cl_ns 1)" "$v1" || cl_fail "VIP $v1 not reachable from node 1"
cl_reachable "$(cl_ns_cl)" "$v0" || cl_fail "VIP $v0 not reachable from client"
[ "$(cl_client_neigh "$v0")" = "$(cl_mac 2)" ] || cl_fail "client ARP for $v0 is not node 2's MAC"
cl_reachable "$(cl_ns_cl)" "$(cl_vip_addr 7)" && cl_fail "unassigned VIP answers"
# the large pool (/16, separate subnet): removing the first VIP keeps the others
for k in 0 1 2; do ip -n "$(cl_ns 1)" addr add "$(cl_vip_addr "$k" 1024)" dev eth0; done
ip -n "$(cl_ns 1)" addr del "$(cl_vip_addr 0 1024)" dev eth0
[ "$(cl_vips_on 1 | tr '\n' ' ')" = "$(for k in 1 2; do a=$(cl_vip_addr "$k" 1024); printf '%s ' "${a%/*}"; done)" ] ||
    cl_fail "pool VIPs on node 1 after removing the first: $(cl_vips_on 1 | tr '\n' ' ')"
cl_reachable "$(cl_ns_cl)" "$(cl_vip_addr 2 1024)" || cl_fail "pool VIP not reachable from client"
echo "VIP helpers OK ($v0 on 2, $v1 on 3)"

echo "PASS corosync-smoke"
