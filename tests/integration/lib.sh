# shellcheck shell=bash
# tests/integration/lib.sh - harness for chorus integration tests on real corosync.
#
# Source it from a bash script (tests/integration, tests/bench, deploy/...):
#     . "$(dirname "$0")/../integration/lib.sh"
#     cl_require_root_corosync          # exits 77 when the test cannot run
#     cl_init mytest 3                  # namespaces, bridge, temp dir, trap
#     for i in 1 2 3; do cl_corosync_start "$i"; done
#
# Layout of one run (PID = the sourcing script's $$, P = "c$PID"):
#   ${P}sw           "switch" namespace holding bridge br0 and the veth peers n1..nN, cl
#   ${P}n1..${P}nN   node namespaces, eth0 = 10.A.B.i/24 (A,B derived from PID), lo up
#   ${P}cl           client/observer namespace, eth0 = 10.A.B.100/24
#   /tmp/chorus-it.PID/                 everything on disk (removed by the trap)
#     n<i>/corosync.conf corosync.log corosync.out state/ run/ (bind-mounted on /run)
#     n<i>/chorusd.conf chorusd.log chorusd.out chorus-state/ chorus-run/
#     pids/<name>       "pid starttime" of every live process we started (pids.all: history)
#     mon/n<i>.log      address monitors (tests/bench/lib-measure.sh)
# The root network namespace is never touched: every link is created inside the
# switch namespace and its peer is moved straight into the node namespace.
#
# Everything is bounded: each wait has a timeout, each loop a count.
# Teardown (trap on EXIT INT TERM HUP) kills only processes we recorded (by PID,
# checked against their start time) and processes inside namespaces we created,
# deletes the namespaces, removes the temp dir.  It is idempotent.
#
# Tunables (environment):
#   BUILDDIR      build tree (default: repo root)
#   CHORUSD       daemon binary (default: $BUILDDIR/coordinator/chorusd)
#   CL_TOKEN_MS   totem token timeout (default 1000)
#   CL_TOKEN_COEFF  totem token_coefficient (default 0); "default" leaves it out,
#                 so corosync's own (650 ms per node above two) applies, as with
#                 the shipped deploy/examples/corosync-3node.conf
#   CL_CONSENSUS_MS  totem consensus (default unset: corosync derives 1.2 x
#                 token, and refuses less than that)
#   CL_CHORUS_TIMING  "default": cl_write_chorus_conf writes no "timing" section,
#                 so chorusd runs on its built-in timing (default: the pinned
#                 test timing below)
#   CL_JOIN_MS    totem join timeout (default 50)
#   CL_KNET_PMTUD_S  totem knet_pmtud_interval in seconds (default 2, see below)
#   CL_KNET_PING  "INTERVAL,TIMEOUT" in ms: totem knet_ping_interval and
#                 knet_ping_timeout, a pair (default unset: corosync derives
#                 token / 4 and token / 2, with knet_pong_count 2)
#   CL_KEEP_LOGS  if set to a directory, the run dir is copied there before removal
#   CL_QUIET      if 1, cl_log prints nothing
#   CL_PROMOTE_SECONDARIES  node namespaces' net.ipv4.conf.*.promote_secondaries (1)

# --- paths ----------------------------------------------------------------
CL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CL_ROOT=$(cd "$CL_LIB_DIR/../.." && pwd)
: "${BUILDDIR:=$CL_ROOT}"
: "${CHORUSD:=$BUILDDIR/coordinator/chorusd}"
: "${CL_TOKEN_MS:=1000}"
: "${CL_TOKEN_COEFF:=0}"
: "${CL_CHORUS_TIMING:=test}"
: "${CL_CONSENSUS_MS:=}"
: "${CL_KNET_PING:=}"
: "${CL_JOIN_MS:=50}"
: "${CL_KNET_PMTUD_S:=2}"
CL_COROSYNC=${CL_COROSYNC:-$(command -v corosync 2>/dev/null || echo /usr/sbin/corosync)}

# --- small helpers -------------------------------------------------------
cl_now_ms() {                       # epoch milliseconds
    local t=${EPOCHREALTIME/[.,]/}
    echo $(( t / 1000 ))
}

cl_log() {
    [ "${CL_QUIET:-0}" = 1 ] && return 0
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s.%03d [%s] %s\n' "$(date -u -d "@$((t / 1000000))" +%H:%M:%S)" \
        $(( t / 1000 % 1000 )) "${CL_NAME:-it}" "$*" >&2
}

cl_fail() {                         # cl_fail MESSAGE... : print, dump log tails, exit 1
    echo "FAIL [${CL_NAME:-it}]: $*" >&2
    if [ "${CL_DUMP_ON_FAIL:-1}" = 1 ] && [ -n "${CL_DIR:-}" ] && [ -d "$CL_DIR" ]; then
        local f
        for f in "$CL_DIR"/n*/corosync.log "$CL_DIR"/n*/chorusd.out; do
            [ -s "$f" ] || continue
            echo "---- tail $f" >&2
            tail -n 12 "$f" >&2
        done
    fi
    exit 1
}

# cl_wait_until TIMEOUT_S CMD... : run CMD every 50 ms until it succeeds (0) or
# TIMEOUT_S (may be fractional) elapses (1).  Bounded by wall clock and count.
cl_wait_until() {
    local timeout=$1; shift
    local t0 deadline n max
    t0=$(cl_now_ms)
    deadline=$(( t0 + $(cl__s_to_ms "$timeout") ))
    max=$(( ($(cl__s_to_ms "$timeout") / 50) + 2 ))
    for (( n = 0; n < max; n++ )); do
        "$@" && return 0
        [ "$(cl_now_ms)" -ge "$deadline" ] && break
        sleep 0.05
    done
    "$@"                             # one last try at the deadline
}

cl__s_to_ms() {                     # "2.5" -> 2500
    local s=$1 int frac
    int=${s%%.*}; [ -n "$int" ] || int=0
    if [[ $s == *.* ]]; then frac=${s#*.}000; frac=${frac:0:3}; else frac=000; fi
    echo $(( 10#$int * 1000 + 10#$frac ))
}

cl_require_root_corosync() {        # exit 77 (skip) if the harness cannot run here
    if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root" >&2; exit 77; fi
    local t
    for t in "$CL_COROSYNC" corosync-cmapctl corosync-quorumtool ip unshare; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "SKIP: $t not found" >&2; exit 77
        fi
    done
}

# --- naming ---------------------------------------------------------------
cl_ns() { echo "${CL_P}n$1"; }      # node namespace name
cl_ns_sw() { echo "${CL_P}sw"; }
cl_ns_cl() { echo "${CL_P}cl"; }
cl_addr() { echo "$CL_NET.$1"; }    # node i fixed address (no prefix)
cl_ndir() { echo "$CL_DIR/n$1"; }
cl_exec() { local i=$1; shift; ip netns exec "$(cl_ns "$i")" "$@"; }   # run in node ns

# --- process registry -----------------------------------------------------
# start time (field 22 of /proc/PID/stat; comm may contain spaces, so count after ")")
cl__starttime() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # after "comm) " fields start at 3 (state); starttime is field 22 -> index 19
    set -- $s
    echo "${20}"
}

cl__record() {                      # cl__record NAME PID
    local st; st=$(cl__starttime "$2")
    echo "$2 ${st:-0}" > "$CL_DIR/pids/$1"
}

cl__pid_of() {                      # print recorded PID if it is still that process
    local f="$CL_DIR/pids/$1" pid st cur
    [ -f "$f" ] || return 1
    read -r pid st < "$f" || return 1
    cur=$(cl__starttime "$pid") || return 1
    [ "$cur" = "$st" ] || return 1
    # a zombie is dead for our purposes
    [ "$(cl__state "$pid")" != Z ] || return 1
    echo "$pid"
}

cl__state() { local s; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; s=${s##*) }; echo "${s%% *}"; }

cl__alive() { local s; s=$(cl__state "$1") || return 1; [ "$s" != Z ]; }

# cl__wait_exec PID : wait until PID has left the launcher chain (the forked
# test shell -> ip netns exec -> unshare -> sh -c 'mount ... && exec') and runs the
# real program (or whatever that program exec'ed in turn).
cl__wait_exec() {
    local pid=$1 n self argv
    self=$(tr '\0' ' ' < /proc/$$/cmdline)
    for (( n = 0; n < 150; n++ )); do
        cl__alive "$pid" || return 1
        mapfile -d '' -t argv 2>/dev/null < "/proc/$pid/cmdline"
        if [ "${#argv[@]}" -gt 0 ] &&
           [ "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" != "$self" ] &&
           ! { [ "${argv[0]##*/}" = ip ] && [ "${argv[1]:-}" = netns ]; } &&
           [ "${argv[0]##*/}" != unshare ] &&
           ! { [ "${argv[1]:-}" = -c ] && [[ ${argv[2]:-} == "mount --bind "* ]]; }; then
            return 0
        fi
        sleep 0.02
    done
    return 1
}

# cl__kill_recorded NAME SIG [WAIT_S] : signal a recorded process; for fatal signals
# wait (bounded, default 30 s: a SIGKILLed process can take seconds to finish
# exiting while the kernel is busy tearing down other namespaces) until it is gone,
# escalating to SIGKILL half way.
cl__kill_recorded() {
    local name=$1 sig=${2:-TERM} wait_s=${3:-30} pid t0
    pid=$(cl__pid_of "$name") || return 0
    t0=$(cl_now_ms)
    kill -s "$sig" "$pid" 2>/dev/null || true
    case ${sig#SIG} in
        KILL|9|TERM|15|INT|2|QUIT|3|HUP|1)
            case ${sig#SIG} in KILL|9) ;; *) kill -s CONT "$pid" 2>/dev/null || true ;; esac
            if ! cl_wait_until "$(( wait_s / 2 ))" cl__gone "$pid"; then
                cl_log "pid $pid ($name) still there $(( $(cl_now_ms) - t0 )) ms after SIG${sig#SIG}" \
                    "(state $(cl__state "$pid")), sending KILL"
                kill -s KILL "$pid" 2>/dev/null || true
                cl_wait_until "$(( wait_s - wait_s / 2 ))" cl__gone "$pid" ||
                    cl_log "pid $pid ($name) survived SIGKILL for ${wait_s}s"
            fi
            local dt=$(( $(cl_now_ms) - t0 ))
            [ "$dt" -lt 1000 ] || cl_log "pid $pid ($name) took $dt ms to exit after SIG${sig#SIG}"
            cl__gone "$pid" && cl__shm_cleanup "$pid"
            ;;
    esac
    return 0
}
cl__gone() { ! cl__alive "$1"; }

# libqb files a SIGKILLed server/client leaves in the shared /dev/shm (names hold the pid)
cl__shm_cleanup() {
    local pid=$1
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    rm -rf /dev/shm/qb-corosync-"$pid"-* /dev/shm/qb-"$pid"-* /dev/shm/qb-*-"$pid"-* 2>/dev/null
    return 0
}

# cl__spawn NAME I LOGFILE ARGV0 ARGS... : run a program in node I's netns with node
# I's private /run, in the background, output to LOGFILE; record its PID and set
# CL_SPAWN_PID.  Never call it inside $(...): the process must be a child of the
# test shell itself so that it is reaped (and not orphaned) when it dies.
# ip netns exec, unshare (no --fork) and "sh -c '... && exec'" all exec in place,
# so $! is the PID the real program ends up with.
cl__spawn() {
    local name=$1 i=$2 log=$3; shift 3
    local run; run="$(cl_ndir "$i")/run"
    local q="" a
    for a in "$@"; do q+=" $(printf '%q' "$a")"; done
    TZ=UTC ip netns exec "$(cl_ns "$i")" unshare -m sh -c \
        "mount --bind $(printf '%q' "$run") /run && exec$q" \
        </dev/null >>"$log" 2>&1 &
    CL_SPAWN_PID=$!
    # out of the job table: bash still reaps it, but prints no "Killed" notice
    disown "$CL_SPAWN_PID" 2>/dev/null
    cl__record "$name" "$CL_SPAWN_PID"
    echo "$CL_SPAWN_PID $name" >> "$CL_DIR/pids.all"
}

# --- cluster setup / teardown -------------------------------------------
# cl__reap_dead_runs : a run killed outright (SIGKILL, the machine's session
# ended) never ran its trap.  Remove the namespaces and temp dir of runs
# whose test shell is gone, and only those with no process and no mount
# left in them; a live run (its PID exists) is never touched.
cl__reap_dead_runs() {
    local ns pid d
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
        [[ $ns =~ ^c([0-9]+)(sw|cl|n[0-9]+)$ ]] || continue
        pid=${BASH_REMATCH[1]}
        [ "$pid" != "$$" ] && [ ! -d "/proc/$pid" ] || continue
        [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] || continue
        ip netns del "$ns" 2>/dev/null && echo "cl_init: removed $ns, left by dead run $pid" >&2
    done
    # loop devices over a dead run's files (lib-bricks.sh's XFS LUNs),
    # whether or not its directory is still there
    local dev back
    while read -r dev back; do
        [[ $back =~ ^/tmp/chorus-it\.([0-9]+)/ ]] || continue
        pid=${BASH_REMATCH[1]}
        [ "$pid" != "$$" ] && [ ! -d "/proc/$pid" ] || continue
        losetup -d "$dev" 2>/dev/null && echo "cl_init: detached $dev, left by dead run $pid" >&2
    done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null)
    for d in /tmp/chorus-it.[0-9]*; do
        [ -d "$d" ] || continue
        pid=${d##*.}
        [ "$pid" != "$$" ] && [ ! -d "/proc/$pid" ] || continue
        grep -qF " $d/" /proc/mounts && continue
        rm -rf -- "$d"
    done
}

# cl_init NAME N : build the namespaces and temp dir for an N-node cluster.
cl_init() {
    CL_NAME=$1; CL_N=$2
    CL_PID=$$
    CL_P="c${CL_PID}"
    CL_NET="10.$(( CL_PID % 200 + 20 )).$(( CL_PID / 200 % 250 ))"
    CL_PREFIXLEN=24
    # VIP pool for large VIP counts: 10.V.0.0/16 with V in 220..249 (disjoint from
    # node subnets 10.20-219.x.0/24).
    CL_VIP16="10.$(( 220 + CL_PID % 30 ))"
    CL_DIR="/tmp/chorus-it.$CL_PID"
    CL_TORN_DOWN=0
    export CL_NAME CL_N CL_PID CL_P CL_NET CL_DIR CL_VIP16

    trap 'cl_teardown' EXIT
    trap 'cl_log "caught SIGINT"; cl_teardown; trap - EXIT; exit 130' INT
    trap 'cl_log "caught SIGTERM"; cl_teardown; trap - EXIT; exit 143' TERM
    trap 'cl_log "caught SIGHUP"; cl_teardown; trap - EXIT; exit 129' HUP

    if ! { [ "$CL_N" -ge 1 ] && [ "$CL_N" -le 99 ]; } 2>/dev/null; then cl_fail "cl_init: N must be 1..99"; fi
    cl__reap_dead_runs
    if [ -e "$CL_DIR" ]; then rm -rf -- "$CL_DIR"; fi
    mkdir -p "$CL_DIR/pids" || cl_fail "cannot create $CL_DIR"
    CL_NSLIST="$(cl_ns_sw) $(cl_ns_cl)"

    local sw; sw=$(cl_ns_sw)
    ip netns add "$sw" || cl_fail "ip netns add $sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge || cl_fail "bridge"
    ip -n "$sw" link set br0 up
    local i
    for (( i = 1; i <= CL_N; i++ )); do
        mkdir -p "$CL_DIR/n$i"/{run,state,chorus-state,chorus-run}
        CL_NSLIST+=" $(cl_ns "$i")"
        cl__mk_port "$(cl_ns "$i")" "n$i" "$(cl_addr "$i")"
    done
    cl__mk_port "$(cl_ns_cl)" cl "$CL_NET.100"
    # the client reaches the large VIP pool on-link
    ip -n "$(cl_ns_cl)" route add "$CL_VIP16.0.0/16" dev eth0 2>/dev/null || true
    cl_log "init: $CL_N nodes, subnet $CL_NET.0/24, dir $CL_DIR"
}

cl__mk_port() {                     # ns, switch-side name, address
    local ns=$1 port=$2 addr=$3 sw; sw=$(cl_ns_sw)
    ip netns add "$ns" || cl_fail "ip netns add $ns"
    # no IPv6 (quiet monitors); promote_secondaries as systemd's 50-default.conf
    # sets it: removing the first VIP of a subnet must not flush the others.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
    ip netns exec "$ns" sysctl -qw \
        net.ipv4.conf.all.promote_secondaries="${CL_PROMOTE_SECONDARIES:-1}" \
        net.ipv4.conf.default.promote_secondaries="${CL_PROMOTE_SECONDARIES:-1}" \
        >/dev/null 2>&1 || true
    ip -n "$ns" link set lo up
    ip -n "$sw" link add "$port" type veth peer name eth0 netns "$ns" ||
        cl_fail "veth $port"
    ip -n "$sw" link set "$port" master br0 up
    ip -n "$ns" addr add "$addr/$CL_PREFIXLEN" dev eth0
    ip -n "$ns" link set eth0 up
}

cl__our_netns() {                   # namespaces of this run that currently exist
    ip netns list 2>/dev/null | awk '{ print $1 }' |
        grep -E "^${CL_P}(sw|cl|n[0-9]+)\$" || true
}

# cl_before_teardown FUNC : teardown runs FUNC (once, in the order they were
# registered, after cl_on_teardown) before it kills anything itself: for
# libraries whose processes must stop in an order of their own, or that
# hold what only goes once their processes are gone
CL_BEFORE_TEARDOWN=()
cl_before_teardown() {
    local f
    for f in "${CL_BEFORE_TEARDOWN[@]}"; do [ "$f" = "$1" ] && return 0; done
    CL_BEFORE_TEARDOWN+=("$1")
}

cl_teardown() {
    local rc=$?
    [ -n "${CL_P:-}" ] || return "$rc"
    [ "${CL_TORN_DOWN:-0}" = 1 ] && return "$rc"
    local had_e=0; [[ $- == *e* ]] && had_e=1
    set +e
    CL_TORN_DOWN=1
    trap '' INT TERM HUP            # a second ^C must not abort the cleanup half way
    # hook for tests (e.g. to collect logs); must not fail the teardown
    if declare -F cl_on_teardown >/dev/null; then cl_on_teardown || true; fi
    local f name pid pids="" ns
    for f in "${CL_BEFORE_TEARDOWN[@]}"; do "$f" || true; done
    # 1. recorded processes: TERM (+CONT in case they are stopped)
    if [ -d "${CL_DIR:-/nonexistent}/pids" ]; then
        for f in "$CL_DIR"/pids/*; do
            [ -f "$f" ] || continue
            name=${f##*/}
            pid=$(cl__pid_of "$name") || continue
            kill -s TERM "$pid" 2>/dev/null; kill -s CONT "$pid" 2>/dev/null
            pids+=" $pid"
        done
    fi
    # 2. anything else living in our namespaces (tools that hung, children)
    for ns in $(cl__our_netns); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            [ "$pid" = "$$" ] && continue
            kill -s TERM "$pid" 2>/dev/null; kill -s CONT "$pid" 2>/dev/null
            pids+=" $pid"
        done
    done
    local n p left
    for (( n = 0; n < 60; n++ )); do          # up to 3 s for graceful exit
        left=""
        for p in $pids; do cl__alive "$p" && left+=" $p"; done
        [ -z "$left" ] && break
        sleep 0.05
    done
    for p in $left; do kill -s KILL "$p" 2>/dev/null; done
    for ns in $(cl__our_netns); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            [ "$pid" = "$$" ] || kill -s KILL "$pid" 2>/dev/null
        done
    done
    for (( n = 0; n < 40; n++ )); do
        left=""
        for p in $pids; do cl__alive "$p" && left+=" $p"; done
        [ -z "$left" ] && break
        sleep 0.05
    done
    # 3. namespaces (node ones first, then the switch)
    for ns in $(cl__our_netns); do
        [ "$ns" = "$(cl_ns_sw)" ] && continue
        ip netns del "$ns" 2>/dev/null
    done
    ip netns del "$(cl_ns_sw)" 2>/dev/null
    # 4. libqb shared memory left by SIGKILLed corosyncs (names contain the pid)
    if [ -f "${CL_DIR:-/nonexistent}/pids.all" ]; then
        while read -r pid _; do
            [ -n "$pid" ] && ! cl__alive "$pid" && cl__shm_cleanup "$pid"
        done < "$CL_DIR/pids.all"
    fi
    # 5. files
    if [ -n "${CL_DIR:-}" ] && [ -d "$CL_DIR" ]; then
        if [ -n "${CL_KEEP_LOGS:-}" ]; then
            mkdir -p "$CL_KEEP_LOGS" && cp -a "$CL_DIR" "$CL_KEEP_LOGS/" 2>/dev/null &&
                echo "logs kept in $CL_KEEP_LOGS/${CL_DIR##*/}" >&2
        fi
        rm -rf -- "$CL_DIR"
    fi
    CL_TORN_DOWN=1
    [ "$had_e" = 1 ] && set -e
    return "$rc"
}

# --- corosync -------------------------------------------------------------
# Timing: token T (default 1000 ms, token_coefficient 0 so it does not grow with
# the node count), consensus = 1.2*T, join 50 ms.  A dead node is detected after
# about token + consensus: measured SIGKILL -> "A new membership" 2.04-2.19 s
# (median ~2.1 s) on survivors, sync completes <5 ms later.  A rejoin takes ~1.3 s.
# Log lines (hires, TZ=UTC):
#   Nov 23 22:04:45.564 [PID] HOST corosync notice  [TOTEM ] A new membership (1.9) was formed. Members joined: 2
#   ... [TOTEM ] A new membership (1.11) was formed. Members left: 2 3
#   ... [QUORUM] Members[2]: 1 2
#   ... [MAIN  ] Completed service synchronization, ready to provide service.
cl_corosync_conf() {
    local i=$1 d j coeff="token_coefficient: ${CL_TOKEN_COEFF}" cons ping; d=$(cl_ndir "$i")
    [ "$CL_TOKEN_COEFF" = default ] && coeff="# token_coefficient: corosync's default"
    cons="# consensus: corosync's default, 1.2 x token"
    [ -z "$CL_CONSENSUS_MS" ] || cons="consensus: ${CL_CONSENSUS_MS}"
    # per link: corosync ignores them at the top of totem {}
    ping="# knet_ping_interval, knet_ping_timeout: corosync's, from the token"
    [ -z "$CL_KNET_PING" ] ||
        ping="interface {
        linknumber: 0
        knet_ping_interval: ${CL_KNET_PING%,*}
        knet_ping_timeout: ${CL_KNET_PING#*,}
    }"
    {
        cat <<EOF
# generated by tests/integration/lib.sh for node $i of $CL_NAME ($CL_P)
totem {
    version: 2
    cluster_name: ${CL_NAME}
    transport: knet
    # tests only: production uses knet crypto with an authkey
    crypto_cipher: none
    crypto_hash: none
    token: ${CL_TOKEN_MS}
    ${coeff}
    ${cons}
    join: ${CL_JOIN_MS}
    # libknet 1.25: a link cut while PMTUD runs (~1-2 s after a link comes up)
    # leaves the host "has no active links" after the link returns, until the
    # next PMTUD pass (default every 30 s).  A short interval bounds that.
    knet_pmtud_interval: ${CL_KNET_PMTUD_S}
    ${ping}
}

nodelist {
EOF
        for (( j = 1; j <= CL_N; j++ )); do
            cat <<EOF
    node {
        nodeid: $j
        name: n$j
        ring0_addr: $(cl_addr "$j")
    }
EOF
        done
        cat <<EOF
}

quorum {
    provider: corosync_votequorum
}

system {
    state_dir: $d/state
}

logging {
    to_logfile: yes
    logfile: $d/corosync.log
    to_stderr: no
    to_syslog: no
    timestamp: hires
    fileline: off
    debug: off
}
EOF
    } > "$d/corosync.conf"
    echo "$d/corosync.conf"
}

cl_corosync_pid() { cl__pid_of "corosync.$1"; }

# cl_corosync_start I [TIMEOUT_S] : start corosync on node I, wait until cmapctl answers
cl_corosync_start() {
    local i=$1 timeout=${2:-10} d pid; d=$(cl_ndir "$i")
    [ -f "$d/corosync.conf" ] || cl_corosync_conf "$i" >/dev/null
    if pid=$(cl_corosync_pid "$i"); then cl_fail "corosync $i already running ($pid)"; fi
    rm -f "$d/run/corosync.pid"
    cl__spawn "corosync.$i" "$i" "$d/corosync.out" "$CL_COROSYNC" -f -c "$d/corosync.conf"
    pid=$CL_SPAWN_PID
    cl__wait_exec "$pid" ||
        cl_fail "corosync $i did not start (see $d/corosync.out: $(tail -n3 "$d/corosync.out" 2>/dev/null))"
    cl__record "corosync.$i" "$pid"          # start time of the exec'ed image (same pid)
    if ! cl_wait_until "$timeout" cl__cmap_ok "$i"; then
        cl_fail "corosync $i (pid $pid) not answering after ${timeout}s"
    fi
    local own; own=$(cat "$d/run/corosync.pid" 2>/dev/null)
    [ -z "$own" ] || [ "$own" = "$pid" ] ||
        cl_fail "corosync $i pid mismatch: recorded $pid, /run/corosync.pid says $own"
    cl_log "corosync $i up (pid $pid)"
}

cl__cmap_ok() { cl_exec "$1" timeout 2 corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; }

# cl_corosync_kill I [SIG] : default KILL.  Fatal signals wait (bounded) for exit.
cl_corosync_kill() {
    local i=$1 sig=${2:-KILL}
    cl__kill_recorded "corosync.$i" "$sig" 30
}

# cl_members I : number of members node I sees (empty + 1 if corosync does not answer)
cl_members() {
    local out
    out=$(cl_exec "$1" timeout 2 corosync-quorumtool -s 2>/dev/null) || [ -n "$out" ] || return 1
    echo "$out" | awk '/^Nodes:/ { print $2; f = 1 } END { exit !f }'
}

# cl_member_ids I : sorted node ids of node I's current membership
cl_member_ids() {
    cl_exec "$1" timeout 2 corosync-quorumtool -s -i 2>/dev/null |
        awk '/^Membership information/ { m = 1; next } m && $1 ~ /^[0-9]+$/ { print $1 }' | sort -n
}

cl__members_is() { local c; c=$(cl_members "$1") && [ "$c" = "$2" ]; }

# cl_wait_members I COUNT TIMEOUT_S
cl_wait_members() { cl_wait_until "$3" cl__members_is "$1" "$2"; }

# cl_quorate I : 0 if node I's corosync says "Quorate: Yes"
cl_quorate() {
    cl_exec "$1" timeout 2 corosync-quorumtool -s 2>/dev/null | grep -qE '^Quorate:[[:space:]]+Yes'
}
cl__inquorate() {                   # answers, and says not quorate
    local out
    out=$(cl_exec "$1" timeout 2 corosync-quorumtool -s 2>/dev/null)
    echo "$out" | grep -qE '^Quorate:[[:space:]]+No'
}
cl_wait_quorate() { cl_wait_until "$2" cl_quorate "$1"; }
cl_wait_inquorate() { cl_wait_until "$2" cl__inquorate "$1"; }

# --- network faults -------------------------------------------------------
# cl_link_down/up: the node's own eth0 goes down (local send errors as well as
# silence).  cl_partition/cl_heal cut at the switch instead (eth0 stays up).
cl_link_down() { ip -n "$(cl_ns "$1")" link set eth0 down; }
cl_link_up() { ip -n "$(cl_ns "$1")" link set eth0 up; }

# cl_partition "1 2" "3" ["4 5" ...] : split the switch into bridges, one per group
# (group 1 stays on br0 with the client).  cl_heal puts every port back on br0.
cl_partition() {
    local sw g=0 i; sw=$(cl_ns_sw)
    for grp in "$@"; do
        local br=br0
        if [ "$g" -gt 0 ]; then
            br="br$g"
            ip -n "$sw" link show "$br" >/dev/null 2>&1 || {
                ip -n "$sw" link add "$br" type bridge && ip -n "$sw" link set "$br" up
            }
        fi
        for i in $grp; do ip -n "$sw" link set "n$i" master "$br"; done
        g=$(( g + 1 ))
    done
}
cl_heal() {
    local sw i; sw=$(cl_ns_sw)
    for (( i = 1; i <= CL_N; i++ )); do ip -n "$sw" link set "n$i" master br0; done
}

# --- chorusd --------------------------------------------------------------
cl_chorusd_pid() { cl__pid_of "chorusd.$1"; }

# cl_chorusd_start I CONF : start "$CHORUSD -c CONF -f" in node I's netns with node
# I's private /run; output to n<i>/chorusd.out.  Sets CL_CHORUSD_PID (also
# available later from cl_chorusd_pid I).  Do not call it inside $(...).
cl_chorusd_start() {
    local i=$1 conf=$2 d pid; d=$(cl_ndir "$i")
    if pid=$(cl_chorusd_pid "$i"); then cl_fail "chorusd $i already running ($pid)"; fi
    [ -e "$CHORUSD" ] || command -v "$CHORUSD" >/dev/null 2>&1 ||
        cl_fail "CHORUSD=$CHORUSD not found"
    cl__spawn "chorusd.$i" "$i" "$d/chorusd.out" "$CHORUSD" -c "$conf" -f
    pid=$CL_SPAWN_PID
    cl__wait_exec "$pid" ||
        cl_fail "chorusd $i did not start: $(tail -n3 "$d/chorusd.out" 2>/dev/null)"
    cl__record "chorusd.$i" "$pid"
    CL_CHORUSD_PID=$pid
    cl_log "chorusd $i started (pid $pid)"
}

# cl_chorusd_kill I [SIG] : default TERM; fatal signals wait (bounded) for exit
cl_chorusd_kill() { cl__kill_recorded "chorusd.$1" "${2:-TERM}" 30; }

# --- extra CPG members ------------------------------------------------------
# tests/integration/cpg_peer.c joins a group as one more member: silent (joins,
# never sends: a wedged or incompatible member), flood (valid chorus headers,
# chosen body size and rate) or garbage.  See its header for the options.
: "${CPG_PEER:=$BUILDDIR/tests/integration/cpg_peer}"
CL__CPG_PEER_SEQ=0

# cl_cpg_peer_start I ARGS... : start "$CPG_PEER ARGS..." in node I's netns with
# node I's private /run (its corosync), output appended to n<i>/cpg_peer.out (its
# one-line summary at exit).  Sets CL_CPG_PEER_PID and CL_CPG_PEER_NAME (for
# cl_cpg_peer_stop).  Several may run per node.  Do not call it inside $(...).
#   cl_cpg_peer_start 1 chorus silent
#   cl_cpg_peer_start 2 -s 1044448 -r 20 -t ADMIN chorus flood
cl_cpg_peer_start() {
    local i=$1 d pid name; shift; d=$(cl_ndir "$i")
    [ -x "$CPG_PEER" ] || cl_fail "CPG_PEER=$CPG_PEER not built (make)"
    CL__CPG_PEER_SEQ=$(( CL__CPG_PEER_SEQ + 1 ))
    name="cpg_peer.$i.$CL__CPG_PEER_SEQ"
    cl__spawn "$name" "$i" "$d/cpg_peer.out" "$CPG_PEER" "$@"
    pid=$CL_SPAWN_PID
    cl__wait_exec "$pid" ||
        cl_fail "cpg_peer on node $i did not start: $(tail -n3 "$d/cpg_peer.out" 2>/dev/null)"
    cl__record "$name" "$pid"
    CL_CPG_PEER_PID=$pid
    CL_CPG_PEER_NAME=$name
    local args="$*"
    [ "${#args}" -le 160 ] || args="${args:0:160}..."
    cl_log "cpg_peer $name started (pid $pid): $args"
}

# cl_cpg_peer_stop NAME [SIG] : default TERM (it leaves the group and prints its
# summary); waits, bounded, for it to exit.
cl_cpg_peer_stop() { cl__kill_recorded "$1" "${2:-TERM}" 10; }

# cl_cpg_peer_summary I PID : the summary line cpg_peer PID printed on node I
cl_cpg_peer_summary() {
    grep -E "^cpg_peer .* pid=$2 " "$(cl_ndir "$1")/cpg_peer.out" 2>/dev/null | tail -n 1
}

# --- VIPs -----------------------------------------------------------------
# cl_vip_addr K [N_VIPS] : VIP number K (0-based) with prefix.  With N_VIPS <= 100
# the VIPs are .150+K in the node subnet (/24); otherwise 10.V.(K/250).(K%250+1)/16
# in the run's private /16 pool (up to 62500 VIPs).
cl_vip_addr() {
    local k=$1 n=${2:-1}
    if [ "$n" -le 100 ]; then echo "$CL_NET.$(( 150 + k ))/$CL_PREFIXLEN"
    else echo "$CL_VIP16.$(( k / 250 )).$(( k % 250 + 1 ))/16"; fi
}

# cl_vips_on I : addresses (no prefix) on node I's eth0 other than its own, sorted
cl_vips_on() {
    local own; own=$(cl_addr "$1")
    ip -n "$(cl_ns "$1")" -o -4 addr show dev eth0 2>/dev/null |
        awk -v own="$own" '{ for (f = 1; f < NF; f++) if ($f == "inet") {
                                 split($(f + 1), a, "/"); if (a[1] != own) print a[1] } }' |
        sort -t . -k1,1n -k2,2n -k3,3n -k4,4n
}

# cl_vip_owner ADDR : node index(es) holding ADDR (one per line; none -> exit 1)
cl_vip_owner() {
    local a=${1%/*} i found=1
    for (( i = 1; i <= CL_N; i++ )); do
        if cl_vips_on "$i" | grep -qxF -- "$a"; then echo "$i"; found=0; fi
    done
    return $found
}

# cl_reachable NS ADDR : 0 if ADDR answers from namespace NS (a TCP connect to a
# closed port gets "refused", which needs ARP + a reply); no ping needed.
cl_reachable() {
    local out
    out=$(ip netns exec "$1" timeout 2 bash -c ": > /dev/tcp/${2%/*}/9" 2>&1) && return 0
    [[ $out == *"Connection refused"* ]]
}

# cl_mac I : MAC of node I's eth0 ; cl_client_neigh ADDR : MAC the client has for ADDR
cl_mac() { ip -n "$(cl_ns "$1")" -o link show dev eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
cl_client_neigh() {
    ip -n "$(cl_ns_cl)" neigh show "${1%/*}" dev eth0 | awk '{ for (f = 1; f < NF; f++) if ($f == "lladdr") print $(f + 1) }'
}

# cl_write_chorus_conf I FILE [N_VIPS] : chorusd JSON config for node I
cl_write_chorus_conf() {
    local i=$1 file=$2 n=${3:-4} d k sep=""; d=$(cl_ndir "$i")
    {
        printf '{"group":"chorus","state_dir":"%s","run_dir":"%s",\n"vips":[' \
            "$d/chorus-state" "$d/chorus-run"
        for (( k = 0; k < n; k++ )); do
            printf '%s\n  {"address":"%s","interface":"eth0","pool":"default"}' \
                "$sep" "$(cl_vip_addr "$k" "$n")"
            sep=,
        done
        printf '],\n"failback":"auto",\n'
        [ "$CL_CHORUS_TIMING" = default ] ||
            printf '"timing":{"restart_grace_ms":8000,"round_timeout_ms":3000},\n'
        printf '"log":{"level":"debug","file":"%s","stderr":true,"syslog":false}}\n' \
            "$d/chorusd.log"
    } > "$file"
}
