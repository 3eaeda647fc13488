#!/bin/bash
# Run every test: install what is missing, build, unit tests and the
# simulator (make check), the same under ASan/UBSan, then the integration
# tests on real corosync clusters in network namespaces and a 60-fault chaos
# run (root only).
#
#   tests/run.sh            everything
#   tests/run.sh --quick    skip the sanitizer build and the integration tests
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
quick=0
usage() { sed -n '2,8s/^# \{0,1\}//p' "$0"; }
case "${1:-}" in
    "") ;;
    --quick) quick=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tests/run.sh: unknown argument '$1'" >&2; usage >&2; exit 64 ;;
esac
[ "$#" -le 1 ] || { echo "tests/run.sh: one argument at most" >&2; usage >&2; exit 64; }
passed=0
failed=0
failures=()

# Every step is bounded: a hang fails that step (with its name in the log)
# instead of eating the whole CI budget.  STEP_LIMIT (seconds) overrides.
# The whole run ends by RUN_DEADLINE seconds (CI allows 90 minutes): a step
# gets at most what is left, and none starts in the last minute.
step_limit=${STEP_LIMIT:-1200}
run_deadline=${RUN_DEADLINE:-4800}
step() {	# step NAME CMD... : run, time, count, keep going
    local name=$1; shift
    local t0=$SECONDS rc=0 limit=$step_limit left=$((run_deadline - SECONDS))
    echo "=== $name"
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 60 ]; then
        rc=124; echo "--- not started: the run's ${run_deadline} s are used up"
    else
        timeout --kill-after=30 "$limit" bash -c '"$@"' step "$@" || rc=$?
    fi
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); echo "--- ok: $name ($((SECONDS - t0)) s)"
    elif [ "$rc" -eq 77 ]; then
        echo "--- skipped: $name"
    else
        [ "$rc" -eq 124 ] && echo "--- timed out after $limit s: $name"
        failed=$((failed + 1)); failures+=("$name"); echo "--- FAILED: $name (rc=$rc)"
    fi
}

build() {	# build DIR CONFIGURE-ARGS...
    local dir=$1; shift
    mkdir -p "$dir" && (cd "$dir" && "$top/configure" --enable-fatal-warnings "$@" >configure.out 2>&1 &&
                        make -j"$(nproc)" >make.out 2>&1) ||
        { tail -30 "$dir/configure.out" "$dir/make.out" 2>/dev/null; return 1; }
}

check() {	# check DIR : make check, show the summary and any failing log
    local dir=$1
    if (cd "$dir" && make -j"$(nproc)" check >check.out 2>&1); then
        grep -E '^(# |PASS|FAIL|SKIP|ERROR)' "$dir/check.out"
        grep -h '^sim ' "$dir"/tests/sim/*.log 2>/dev/null
        return 0
    fi
    grep -E '^(# |PASS|FAIL|SKIP|ERROR)' "$dir/check.out"
    for f in $(grep -l -E '^(FAIL|ERROR)' "$dir"/tests/*/*.trs 2>/dev/null); do tail -40 "${f%.trs}.log"; done
    return 1
}

# GCC 12's ASan runtime cannot map its shadow when the kernel randomizes
# mmap with more than 28 bits (vm.mmap_rnd_bits=32 on some newer kernels):
# every sanitized program then loops on "AddressSanitizer:DEADLYSIGNAL"
# forever.  Sanitized runs go without address randomization, which the
# personality flag passes on to every child (chorusd under ip netns exec).
norand() { setarch "$(uname -m)" -R "$@"; }
check_asan() { ASAN_OPTIONS=detect_leaks=1 norand bash -c 'check "$1"' _ "$top/build-asan"; }
# A sanitized "hello": if even that cannot run, say so in one line.
asan_probe() {
    local out
    out=$(ASAN_OPTIONS=detect_leaks=1 timeout 60 setarch "$(uname -m)" -R \
          "$top/build-asan/coordinator/chorusctl" --help 2>&1) ||
        { echo "$out" | head -5; return 1; }
}
export top
export -f build check check_asan norand asan_probe

step "dependencies" "$top/deploy/deps.sh"
[ -x "$top/configure" ] || step "autoreconf" autoreconf -fi
step "build" build "$top/build-test"
step "make check" check "$top/build-test"
if [ "$quick" -eq 0 ]; then
    step "make distcheck" sh -c "cd '$top/build-test' && make distcheck >distcheck.out 2>&1 || { tail -40 distcheck.out; exit 1; }"
    step "package (deploy/build-deb.sh; lintian --pedantic: no error, no warning)" sh -c \
        "DEB_BUILD_OPTIONS=nocheck LINTIAN=1 '$top/deploy/build-deb.sh' '$top/build-deb-ci' >'$top/build-deb-ci.log' 2>&1 &&
         dpkg -c '$top'/build-deb-ci/chorus_*.deb | grep -q 'chorus-gfapi-health.so' &&
         dpkg -c '$top'/build-deb-ci/chorus-dev_*.deb | grep -q 'include/chorus/plugin.h' &&
         ! grep -E '^(E|W):' '$top/build-deb-ci/lintian.txt' || { tail -30 '$top/build-deb-ci.log'; exit 1; }"
    step "fuzz (control, wire, config, inventory; 30 s each)" norand sh -c "cd '$top/build-test' && make fuzz FUZZ_SECONDS=30 >fuzz.out 2>&1 || { tail -30 fuzz.out; exit 1; }"
    step "build (asan, ubsan)" build "$top/build-asan" --with-sanitizers=asan,ubsan
    step "sanitized programs run (asan, ubsan)" asan_probe
    step "make check (asan, ubsan)" check_asan
    for t in "$top"/tests/integration/*.sh; do
        case "$(basename "$t")" in lib.sh|lib-*.sh) continue ;; esac
        step "integration: $(basename "$t" .sh)" env BUILDDIR="$top/build-test" "$t"
    done
    # The daemon under ASan/UBSan/LSan on real corosync (and glusterd): any
    # report (an invalid access, undefined behaviour, a leak at exit) is
    # written to asan-it.* and fails the step after the test.
    rm -f "$top"/build-asan/asan-it.*
    # (control-hostile: the latency bound is for a normal build; here the
    # point is the daemon's memory under hostile clients)
    for t in vip-failover control control-hostile brick-failover hooks; do
        step "integration (asan, ubsan): $t" norand env BUILDDIR="$top/build-asan" \
            CTL_HOSTILE_LIMIT_MS=1000 \
            ASAN_OPTIONS="log_path=$top/build-asan/asan-it:detect_leaks=1" \
            UBSAN_OPTIONS="log_path=$top/build-asan/asan-it:print_stacktrace=1:halt_on_error=1" \
            "$top/tests/integration/$t.sh"
    done
    step "no sanitizer reports from the daemon" sh -c \
        "if ls '$top'/build-asan/asan-it.* >/dev/null 2>&1; then head -n 40 '$top'/build-asan/asan-it.*; exit 1; fi"
    # seeded: a failure prints the seed and the operations to replay it
    step "chaos self-test (a planted double holding is caught)" env BUILDDIR="$top/build-test" \
        CHAOS_EXPECT_VIOLATION=1 CHAOS_REPLAY="$top/tests/chaos/selftest.ops" "$top/tests/chaos/chaos.sh"
    step "chaos self-test, bricks (a brick planted on a second node is caught)" env BUILDDIR="$top/build-test" \
        CHAOS_BRICKS=1 CHAOS_EXPECT_VIOLATION=1 CHAOS_REPLAY="$top/tests/chaos/selftest-brick.ops" "$top/tests/chaos/chaos.sh"
    step "chaos replay, bricks + IPMI fencing (a frozen lowest member is fenced)" env \
        BUILDDIR="$top/build-test" CHAOS_BRICKS=2 CHAOS_FENCE=ipmi \
        CHAOS_REPLAY="$top/tests/chaos/ipmi-frozen-fencer.ops" "$top/tests/chaos/chaos.sh"
    step "chaos (60 faults, 5 nodes)" env BUILDDIR="$top/build-test" CHAOS_FAULTS=60 \
        "$top/tests/chaos/chaos.sh"
fi
echo
for f in "${failures[@]+"${failures[@]}"}"; do echo "failed: $f"; done
echo "tests: $passed passed, $failed failed ($SECONDS s)"
[ "$failed" -eq 0 ]
