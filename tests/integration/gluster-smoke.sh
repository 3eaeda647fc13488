#!/bin/bash
# gluster-smoke.sh - checks the Gluster harness (lib-gluster.sh) and gfclient.
#
#   1. 3 glusterd in node namespaces, a pool, a 3-brick distribute volume
#   2. gfclient (client namespace) writes 50 files and reads them all back
#   3. a gfclient loop runs in the background through steps 4-5
#   4. SIGTERM node 2's brick: a fresh "check" fails exactly for the files
#      stored on node 2's brick, the others read fine
#   5. "gluster volume start gv force" restarts it: everything reads back,
#      the loop recovers and every write it acknowledged reads back
#   5b. SIGKILL node 3's glusterd and brick: its files fail; gl_start 3: its
#      glusterd restarts the brick and everything reads back
#   6. explicit teardown, then: no namespace, process or mount of ours is left
# Exit 77 when not root or gluster/gfclient are missing.  Prints timings.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gluster.sh"
gl_require_root_gluster client

cl_init glsmoke 3
ms() { echo $(( $(cl_now_ms) - $1 )); }
V=gv
D=$CL_DIR/out; mkdir -p "$D"

# --- 1. pool and volume ----------------------------------------------------
t0=$(cl_now_ms)
for i in 1 2 3; do gl_start "$i"; done
echo "TIMING start 3 glusterd (CLI answering): $(ms "$t0") ms"
t0=$(cl_now_ms); gl_pool 3
echo "TIMING peer probe -> pool of 3 connected everywhere: $(ms "$t0") ms"
t0=$(cl_now_ms)
gl_volume "$V" "$(gl_brick 1 $V)" "$(gl_brick 2 $V)" "$(gl_brick 3 $V)"
echo "TIMING volume create+start -> 3 bricks online: $(ms "$t0") ms"
for i in 1 2 3; do
    p=$(gl_brick_pid "$V" "$i") || cl_fail "no brick pid for node $i"
    gl__in_ns "$p" "$(cl_ns "$i")" || cl_fail "brick $i (pid $p) not in $(cl_ns "$i")"
done

# --- 2. write 50, check ----------------------------------------------------
t0=$(cl_now_ms)
GL_CLIENT_TIMEOUT_S=60 gl_client "$V" write 50 > "$D/acks" 2> "$D/write.err" ||
    cl_fail "write 50 failed: $(tail -n3 "$D/acks" "$D/write.err")"
echo "TIMING gfclient write 50 (incl. glfs_init): $(ms "$t0") ms"
[ "$(grep -c '^ACK ' "$D/acks")" = 50 ] || cl_fail "not 50 ACKs"
GL_CLIENT_TIMEOUT_S=60 gl_client "$V" check "$D/acks" > "$D/check1" 2>&1 || cl_fail "check 1: $(tail -n5 "$D/check1")"
grep -q '^CHECK ok=50 bad=0$' "$D/check1" || cl_fail "check 1: $(tail -n1 "$D/check1")"
# where the files landed (DHT): names per brick
for i in 1 2 3; do
    ls "$(cl_ndir "$i")/bricks/$V/gfclient" 2>/dev/null | sort > "$D/on$i"
done
echo "files per brick: n1=$(wc -l < "$D/on1") n2=$(wc -l < "$D/on2") n3=$(wc -l < "$D/on3")"
[ "$(cat "$D"/on[123] | wc -l)" = 50 ] || cl_fail "bricks hold $(cat "$D"/on[123] | wc -l) files, want 50"
[ -s "$D/on2" ] || cl_fail "no file on node 2's brick: cannot show the failure"

# --- 3. background loop ----------------------------------------------------
gl_client "$V" -d /loop -p l loop 35 200 > "$D/loop" 2> "$D/loop.err" &
LOOP_PID=$!
cl__record gfclient.loop "$LOOP_PID"
cl_wait_until 15 grep -q '^ACK ' "$D/loop" || cl_fail "loop client: no ACK ($(tail -n3 "$D/loop.err"))"
sleep 2

# --- 4. kill node 2's brick --------------------------------------------------
p2=$(gl_brick_pid "$V" 2)
t_kill=$(cl_now_ms)
gl_brick_kill "$V" 2 TERM || cl_fail "brick 2 (pid $p2) did not exit"
echo "TIMING SIGTERM brick 2 (pid $p2) -> exited: $(ms "$t_kill") ms"
t0=$(cl_now_ms)
GL_CLIENT_TIMEOUT_S=90 gl_client "$V" check "$D/acks" > "$D/check2" 2> "$D/check2.err"
rc=$?
echo "TIMING check with brick 2 down: $(ms "$t0") ms (rc $rc, $(grep -o 'glfs_init took.*' "$D/check2.err"))"
tail -n1 "$D/check2"
echo "errors seen: $(awk '$1 == "BAD" { print $3 "/" $4 }' "$D/check2" | sort | uniq -c | tr -s ' \n' ' ')"
awk '$1 == "BAD" { n = split($2, a, "/"); print a[n] }' "$D/check2" | sort > "$D/bad2"
if cmp -s "$D/bad2" "$D/on2"; then
    echo "OK: the $(wc -l < "$D/bad2") failing files are exactly those on node 2's brick"
else
    cl_fail "failing files differ from node 2's files: $(diff "$D/bad2" "$D/on2" | tr '\n' ' ')"
fi
gl_vstatus 1 "$V" | awk '{ print "  status:", $1, "online=" $3, "pid=" $4 }'

# --- 5. restart with volume start force --------------------------------------
sleep 3
t0=$(cl_now_ms)
gl_volume_start_force "$V" 3 || cl_fail "brick 2 not back: $(gl_vstatus 1 "$V" | tr '\n' ';')"
echo "TIMING volume start force -> 3 bricks online: $(ms "$t0") ms (brick 2 down $(ms "$t_kill") ms)"
t0=$(cl_now_ms)
GL_CLIENT_TIMEOUT_S=60 gl_client "$V" check "$D/acks" > "$D/check3" 2>&1 || cl_fail "check 3: $(tail -n5 "$D/check3")"
grep -q '^CHECK ok=50 bad=0$' "$D/check3" || cl_fail "check 3: $(tail -n1 "$D/check3")"
echo "TIMING check after restart: $(ms "$t0") ms: $(tail -n1 "$D/check3")"

# --- 5b. node 3's gluster dies (SIGKILL glusterd + brick), glusterd comes back ----
t0=$(cl_now_ms)
gl_node_kill 3 KILL || cl_fail "node 3 gluster processes did not die"
echo "TIMING SIGKILL node 3's glusterd + brick -> gone: $(ms "$t0") ms"
GL_CLIENT_TIMEOUT_S=90 gl_client "$V" check "$D/acks" > "$D/check5" 2>&1
echo "with node 3's gluster dead: $(tail -n1 "$D/check5") (node 3 held $(wc -l < "$D/on3"))"
grep -q "^CHECK ok=$(( 50 - $(wc -l < "$D/on3") )) bad=$(wc -l < "$D/on3")\$" "$D/check5" ||
    cl_fail "check with node 3 dead: $(tail -n1 "$D/check5")"
t0=$(cl_now_ms)
gl_start 3
gl_wait_online "$V" 3 "$GL_WAIT_S" || cl_fail "node 3's brick not restarted by its glusterd: $(gl_vstatus 1 "$V" | tr '\n' ';')"
echo "TIMING gl_start 3 -> its glusterd restarted the brick, 3 online: $(ms "$t0") ms"
GL_CLIENT_TIMEOUT_S=60 gl_client "$V" check "$D/acks" > "$D/check6" 2>&1 || cl_fail "check 6: $(tail -n5 "$D/check6")"
echo "after node 3's return: $(tail -n1 "$D/check6")"

# --- loop result -------------------------------------------------------------
cl_wait_until 45 cl__gone "$LOOP_PID" || cl_fail "loop client still running"
wait "$LOOP_PID" 2>/dev/null
grep -E '^(FAIL|RECOVER|GIVEUP|UNRECOVERED|LOOP)' "$D/loop" | sed 's/^/  loop: /'
grep -q '^LOOP ' "$D/loop" || cl_fail "loop client did not finish: $(tail -n3 "$D/loop.err")"
awk -v k="$t_kill" '$1 == "FAIL" { printf "TIMING loop: first failure %d ms after the kill\n", $2 * 1000 - k }
     $1 == "RECOVER" { printf "TIMING loop: recovered %d ms after the kill (%s)\n", $2 * 1000 - k, $3 }' "$D/loop"
GL_CLIENT_TIMEOUT_S=60 gl_client "$V" check "$D/loop" > "$D/check4" 2>&1 || cl_fail "loop check: $(tail -n5 "$D/check4")"
echo "loop acknowledged writes read back: $(tail -n1 "$D/check4")"

# --- 6. teardown leaves nothing ----------------------------------------------
pids=$(for i in 1 2 3; do gl_node_pids "$i"; done | tr '\n' ' ')
t0=$(cl_now_ms)
cl_teardown
echo "TIMING teardown: $(ms "$t0") ms"
left=$(ip netns list | awk '{ print $1 }' | grep -E "^${CL_P}(sw|cl|n[0-9]+)\$")
[ -z "$left" ] || { echo "FAIL: namespaces left: $left" >&2; exit 1; }
for p in $pids; do
    if cl__alive "$p"; then echo "FAIL: pid $p left: $(tr '\0' ' ' < /proc/"$p"/cmdline)" >&2; exit 1; fi
done
if findmnt -rn -o TARGET,SOURCE | grep -q "chorus-it\.$CL_PID"; then
    echo "FAIL: mounts left: $(findmnt -rn | grep "chorus-it\.$CL_PID")" >&2; exit 1
fi
[ ! -e "$CL_DIR" ] || { echo "FAIL: $CL_DIR left" >&2; exit 1; }
echo "OK: teardown left no namespace, process ($pids), mount or directory"
echo "PASS gluster-smoke"
