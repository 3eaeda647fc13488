# shellcheck shell=bash
# tests/integration/lib-ipmi.sh - an IPMI BMC per node (OpenIPMI's ipmi_sim)
# and chorus fence mode "agent" through Pacemaker's fence_ipmilan against
# them (issue 17).  Source after lib.sh, lib-gluster.sh and lib-bricks.sh;
# used by tests/integration/fence-ipmi.sh and tests/bench/brick-failover.sh.
#
#     ipmi_require            exit 77 unless ipmi_sim, fence_ipmilan, ipmitool
#     ipmi_fence_config PW    secrets file, exports BK_FENCE_JSON (before
#                             bk_chorusd_all: every node's chorus.json)
#     ipmi_bmcs_start PW      once no startup fence runs: a BMC per node
#     ipmi_bmc_start I PW / ipmi_bmc_stop I / ipmi_bmc_answers I PW / ipmi_bmc_on I
#     ipmi_status_sum "NODES" PYEXPR
#     ipmi_mgmt_net           (before ipmi_fence_config) the BMCs on a
#                             management network of their own
#
# The BMCs run in the client namespace ($CL_NET.100, UDP port 6230+I), or
# after ipmi_mgmt_net on a management network that partitions of the node
# network leave alone.  A BMC's chassis_control is this file run as a script
# with --bmc: "set power 0" is a power loss of its node (bk_node_down: the
# link, then chorusd, corosync, glusterd and its glusterfsd SIGKILLed by
# recorded PID; nothing to do for a node already down; then its floating
# addresses go, as a kernel's do when the power does), then the time is
# written to bmcI/off.ms and "get power" answers 0.
#
# fence_ipmilan's own waits are cut short (fence.options below): power_wait=1
# (s after "chassis power off" before it checks), power_timeout=10,
# shell_timeout=5 and login_timeout=3 (per ipmitool run), retry_on=1 (no
# second attempt: chorus retries a failed fence itself, every 5 s).  cipher=3:
# without it ipmitool first asks ipmi_sim for its cipher suites, which times
# out after 10 s on every call.

# --- the BMC's chassis_control: lib-ipmi.sh --bmc I get power | set power 0|1
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    [ "${1:-}" = --bmc ] || { echo "usage: $0 --bmc I get power | set power 0|1" >&2; exit 2; }
    i=$2 b=$CL_DIR/bmc$2
    case "$3 $4" in
        "get power") echo "power:$(cat "$b/power")"; exit 0 ;;
        "set power")
            . "$(dirname "$0")/lib.sh"
            . "$(dirname "$0")/lib-gluster.sh"
            . "$(dirname "$0")/lib-bricks.sh"
            echo "$(cl_now_ms) set power $5" >> "$b/calls"
            if [ "$5" = 0 ] && [ "$(cat "$b/power")" = 1 ]; then
                bk_node_down "$i" >> "$b/off.log" 2>&1 || exit 1
                # (the addresses have a kernel lifetime and would lapse by
                # themselves; a machine without power holds none at once)
                for a in $(cl_vips_on "$i"); do
                    ip -n "$(cl_ns "$i")" addr del "$a/$CL_PREFIXLEN" dev eth0 2>/dev/null
                done
                echo 0 > "$b/power"
                cl_now_ms > "$b/off.ms"
            elif [ "$5" = 1 ]; then
                echo 1 > "$b/power"    # the test itself starts the node again
            fi
            exit 0 ;;
    esac
    exit 1
fi

IPMI_LIB=$(realpath "${BASH_SOURCE[0]}")
# where the BMCs live: namespace and address (default: the client's)
ipmi__ns() { echo "${IPMI_NS:-$(cl_ns_cl)}"; }
ipmi__host() { echo "${IPMI_HOST:-$CL_NET.100}"; }

# ipmi_mgmt_net : a management network for the BMCs, as a real cluster has:
# bridge brm in the switch namespace carrying the BMCs' address, and an eth1
# on every node ($IPMI_NET.I/24).  cl_partition, cl_heal and cl_link_down
# only touch the node network, so a quorate side can always reach the BMCs
# (on the node network, a partition that puts the majority on the other
# half of the switch from the client namespace would cut it off from them).
# Everything is in namespaces of this run and goes with them.
ipmi_mgmt_net() {
    local sw i; sw=$(cl_ns_sw)
    IPMI_NET="172.30.$(( CL_PID % 250 ))"
    ip -n "$sw" link add brm type bridge || cl_fail "management bridge"
    ip -n "$sw" link set brm up
    ip -n "$sw" addr add "$IPMI_NET.100/24" dev brm || cl_fail "management address"
    for (( i = 1; i <= CL_N; i++ )); do
        ip -n "$sw" link add "m$i" type veth peer name eth1 netns "$(cl_ns "$i")" ||
            cl_fail "management veth of node $i"
        ip -n "$sw" link set "m$i" master brm up
        ip -n "$(cl_ns "$i")" addr add "$IPMI_NET.$i/24" dev eth1
        ip -n "$(cl_ns "$i")" link set eth1 up
    done
    IPMI_NS=$sw IPMI_HOST=$IPMI_NET.100
    cl_log "BMC management network $IPMI_NET.0/24 (eth1 on every node)"
}

ipmi_require() {
    local t
    for t in ipmi_sim fence_ipmilan ipmitool; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found (openipmi, fence-agents, ipmitool)" >&2; exit 77; }
    done
}

# ipmi_fence_config PASSWORD : fence.secrets with the BMCs' password (mode
# 0600), BK_FENCE_JSON for bk_write_conf: fence_ipmilan, node nI -> BMC I
ipmi_fence_config() {
    local pw=$1 i nodes="" agent
    agent=$(command -v fence_ipmilan) || cl_fail "fence_ipmilan not found"
    printf '# the BMCs password\nusername=admin\npassword=%s\n' "$pw" > "$CL_DIR/fence.secrets"
    chmod 600 "$CL_DIR/fence.secrets"
    for (( i = 1; i <= CL_N; i++ )); do
        nodes+="${nodes:+, }\"n$i\": {\"ip\": \"$(ipmi__host)\", \"ipport\": $(( 6230 + i ))}"
    done
    export BK_FENCE_JSON="{\"mode\": \"agent\", \"agent\": \"$agent\", \"timeout_ms\": 30000,
  \"options\": {\"lanplus\": 1, \"cipher\": 3, \"power_wait\": 1, \"power_timeout\": 10,
    \"shell_timeout\": 5, \"login_timeout\": 3, \"retry_on\": 1},
  \"nodes\": {$nodes}, \"secrets\": \"$CL_DIR/fence.secrets\"}"
}

# ipmi_bmc_start I PASSWORD : node I's BMC, ipmi_sim in the client namespace
ipmi_bmc_start() {
    local i=$1 pw=$2 b=$CL_DIR/bmc$1 pid
    mkdir -p "$b/state"
    [ -f "$b/power" ] || echo 1 > "$b/power"
    printf '#!/bin/sh\nexec env CL_DIR=%q CL_P=%q CL_N=%q CL_NET=%q CL_PREFIXLEN=%q BUILDDIR=%q /bin/bash %q --bmc %s "$@"\n' \
        "$CL_DIR" "$CL_P" "$CL_N" "$CL_NET" "$CL_PREFIXLEN" "$BUILDDIR" "$IPMI_LIB" "$i" > "$b/chassis"
    chmod 700 "$b/chassis"
    cat > "$b/lan.conf" <<EOF
name "bmc$i"
set_working_mc 0x20
  startlan 1
    addr $(ipmi__host) $(( 6230 + i ))
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcde$i
  endlan
  chassis_control "$b/chassis"
  user 2 true "admin" "$pw" admin 10 none md2 md5 straight
EOF
    printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n' \
        > "$b/cmd.conf"
    ip netns exec "$(ipmi__ns)" ipmi_sim -n -c "$b/lan.conf" -f "$b/cmd.conf" -s "$b/state" \
        </dev/null >>"$b/sim.out" 2>&1 &
    pid=$!
    cl__record "bmc.$i" "$pid"
    echo "$pid bmc.$i" >> "$CL_DIR/pids.all"
    cl__wait_exec "$pid" || cl_fail "BMC $i (ipmi_sim) did not start: $(tail -n3 "$b/sim.out")"
    cl_wait_until 20 ipmi_bmc_answers "$i" "$pw" || cl_fail "BMC $i does not answer: $(tail -n3 "$b/sim.out")"
}
ipmi_bmc_answers() {
    ip netns exec "$(ipmi__ns)" timeout 5 ipmitool -I lanplus -C 3 -H "$(ipmi__host)" -p $(( 6230 + $1 )) \
        -U admin -P "$2" chassis power status 2>/dev/null | grep -q '^Chassis Power is'
}
ipmi_bmc_stop() { cl__kill_recorded "bmc.$1" TERM 10; }

# ipmi_bmc_on I : node I's BMC reports power on again and forgets its last
# power-off (before bk_node_up: the test starts the node itself)
ipmi_bmc_on() { echo 1 > "$CL_DIR/bmc$1/power"; rm -f "$CL_DIR/bmc$1/off.ms"; }

# ipmi_status_sum "NODES" PYEXPR : evaluate over the nodes' status ("bricks"
# members as ss)
ipmi_status_sum() {
    local i out=""
    for i in $1; do out+="$(bk_ctl "$i" status --json 2>/dev/null | tr -d '\n')"$'\n'; done
    printf '%s' "$out" | python3 -c '
import json, sys
ss = [json.loads(l)["bricks"] for l in sys.stdin if l.strip()]
print(eval(sys.argv[1]))' "$2"
}

# ipmi_bmcs_start PASSWORD : a BMC for every node, once no chorusd fences.
# The BMCs come up only after chorusd: the chorusd started first saw the
# others in corosync but not yet in chorus, and fences such a node at once
# (startup fencing, as Pacemaker's: it might run a brick nobody claims).
# With BMCs answering it would have powered the others off before their
# chorusd started; without, the fence fails and is retried until they show up.
ipmi_bmcs_start() {
    local pw=$1 i all=""
    for (( i = 1; i <= CL_N; i++ )); do all+="$i "; done
    cl_wait_until 60 ipmi__no_fencing "$all" || cl_fail "a startup fence is still running"
    for (( i = 1; i <= CL_N; i++ )); do ipmi_bmc_start "$i" "$pw"; done
}
ipmi__no_fencing() { [ "$(ipmi_status_sum "$1" 'any("fencing" in s for s in ss)')" = False ]; }
