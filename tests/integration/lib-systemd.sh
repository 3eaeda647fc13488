# shellcheck shell=bash
# tests/integration/lib-systemd.sh - a throwaway systemd (PID 1 of its own PID
# namespace) inside a node namespace of the netns harness (lib.sh), for tests
# that need a real service manager on a machine whose PID 1 is not systemd
# (a CI container, a sandbox).  Source it after lib.sh.
#
#     sd_require                  exit 77 when this machine cannot boot one
#     cl_init mytest 1
#     sd_unit NAME <<EOF ... EOF  a unit file for it (only these are seen)
#     sd_boot 1                   boot it in node 1's network namespace
#     sd_exec systemctl start foo.service
#
# Isolation, so that nothing it does reaches the machine (an earlier attempt
# that booted basic.target ran systemd-tmpfiles --boot on the host's /tmp):
#  - PID, mount, UTS and IPC namespaces of its own, node I's netns; every
#    mount private;
#  - its root is an overlay over / whose upper layer is a tmpfs: whatever it
#    or its services write to /etc, /var or /usr dies with it;
#  - fresh tmpfs on /run, /tmp, /var/tmp, /var/log, /var/lib/glusterd,
#    /sys/fs/cgroup (with the name=systemd and unified hierarchies bound in)
#    and /dev (null, zero, full, random, urandom, tty bound in; the console
#    is the file $CL_DIR/sysd/console.log, where systemd logs); /proc/sys and
#    /sys read-only (but /proc/sys/net, per netns);
#  - it sees no unit of the machine: SYSTEMD_UNIT_PATH is a directory of
#    this run alone ($CL_DIR/sysd/units, written by sd_unit), generators run
#    from an empty directory, and the default target is chorus-test.target
#    (empty unless the test fills it).  sysinit.target, basic.target and the
#    other targets that services depend on by default are empty stand-ins, so
#    no systemd-tmpfiles, udev, journald, mounts or swaps;
#  - what services print goes to its own output, $CL_DIR/sysd/systemd.out
#    (there is no journald);
#  - the accounting defaults are off, so it creates cgroups in the
#    name=systemd and unified hierarchies only (no v1 controller), below a
#    cgroup of its own, chorus-sd-PID, that teardown empties and removes;
#  - this run's directory $CL_DIR and the source and build trees are bind
#    mounted at their own paths (the trees read-only).
# Teardown SIGKILLs its PID 1 (which ends every process of the PID
# namespace), by PID, and removes its cgroups.
#
# Tunables: SD_SYSTEMD (/lib/systemd/systemd), SD_WAIT_S (30).

: "${SD_SYSTEMD:=/lib/systemd/systemd}"
: "${SD_WAIT_S:=30}"

# sd_require : exit 77 unless a systemd can be booted here (root, the
# binaries, overlayfs, a name=systemd or unified cgroup hierarchy)
sd_require() {
    if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root" >&2; exit 77; fi
    local t
    for t in "$SD_SYSTEMD" systemctl systemd-run systemd-escape unshare nsenter; do
        command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found (systemd not installed?)" >&2; exit 77; }
    done
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        { echo "SKIP: no overlayfs" >&2; exit 77; }
    [ -e /sys/fs/cgroup/systemd/cgroup.procs ] || [ -e /sys/fs/cgroup/cgroup.procs ] ||
        [ -e /sys/fs/cgroup/unified/cgroup.procs ] ||
        { echo "SKIP: no name=systemd or unified cgroup hierarchy mounted" >&2; exit 77; }
}

sd_dir() { echo "$CL_DIR/sysd"; }
SD_PID=""

# sd_unit NAME : write unit NAME (stdin) into the booted systemd's unit path
sd_unit() {
    local d; d="$(sd_dir)/units"
    mkdir -p "$d/$(dirname -- "$1")"
    cat > "$d/$1"
}

# sd_file PATH : write PATH (stdin) into the booted systemd's root (copied
# onto the overlay at boot; the machine's PATH is never touched)
sd_file() {
    local f; f="$(sd_dir)/rootfs/${1#/}"
    mkdir -p "$(dirname -- "$f")"
    cat > "$f"
}

# the hierarchies it may use: name=systemd (v1, hybrid) and cgroup2
sd__cgroup_roots() {
    local h
    for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
        [ -e "$h/cgroup.procs" ] && echo "$h"
    done
}
sd_cgroup_name() { echo "chorus-sd-$CL_PID"; }

sd__stand_in_units() {
    local t
    for t in sysinit basic local-fs remote-fs network network-online network-pre \
             sockets timers paths slices swap nss-lookup multi-user; do
        sd_unit "$t.target" <<EOF
# stand-in: tests/integration/lib-systemd.sh (nothing of the machine's)
[Unit]
Description=$t (test stand-in)
DefaultDependencies=no
EOF
    done
    sd_unit shutdown.target <<'EOF'
[Unit]
Description=shutdown (test stand-in)
DefaultDependencies=no
RefuseManualStart=yes
EOF
    [ -e "$(sd_dir)/units/chorus-test.target" ] || sd_unit chorus-test.target <<'EOF'
[Unit]
Description=chorus test boot target
DefaultDependencies=no
EOF
}

# sd_boot I : boot the throwaway systemd in node I's network namespace and
# wait (bounded) until it answers systemctl and is running or degraded.
# Sets SD_PID (its PID 1, as the machine sees it).  Do not call it in $(...).
sd_boot() {
    local i=$1 d cg h src build
    d=$(sd_dir); cg=$(sd_cgroup_name)
    src=$(cd "$CL_LIB_DIR/../.." && pwd)
    build=$(cd "$BUILDDIR" && pwd)
    mkdir -p "$d/root" "$d/ovl" "$d/empty" "$d/units"
    sd__stand_in_units
    sd__reap_dead_runs
    for h in $(sd__cgroup_roots); do mkdir -p "$h/$cg" || cl_fail "cannot create cgroup $h/$cg"; done
    cl_before_teardown sd__teardown
    # The launcher, PID 1 of the new PID namespace until it execs systemd.
    cat > "$d/boot.sh" <<'EOF'
#!/bin/bash
# tests/integration/lib-systemd.sh: isolate, then exec systemd
set -eu
D=$1 CG=$2 SRC=$3 BUILD=$4 RUNDIR=$5 SYSTEMD=$6
# every cgroup hierarchy systemd uses: below our own cgroup (0 = this process)
for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    if [ -e "$h/$CG/cgroup.procs" ]; then echo 0 > "$h/$CG/cgroup.procs"; fi
done
mount --make-rprivate /
R=$D/root
mount -t tmpfs -o mode=0755 chorus-sd-upper "$D/ovl"
mkdir "$D/ovl/upper" "$D/ovl/work"
mount -t overlay -o "lowerdir=/,upperdir=$D/ovl/upper,workdir=$D/ovl/work" chorus-sd-root "$R"
mount --rbind /sys "$R/sys"
mount -o remount,bind,ro "$R/sys"
# cgroups: a tmpfs of its own holding only the hierarchies it may use (it
# mounts the v1 controllers it wants there, not on the machine's tmpfs)
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    mount -t tmpfs -o mode=0755 chorus-sd-cgroup "$R/sys/fs/cgroup"
    for h in systemd unified; do
        if [ -e "/sys/fs/cgroup/$h/cgroup.procs" ]; then
            mkdir "$R/sys/fs/cgroup/$h"
            mount --bind "/sys/fs/cgroup/$h" "$R/sys/fs/cgroup/$h"
        fi
    done
fi
# /dev: a tmpfs with the few devices the services need; its console is a file
mount -t tmpfs -o mode=0755 chorus-sd-dev "$R/dev"
for n in null zero full random urandom tty; do
    : > "$R/dev/$n"
    mount --bind "/dev/$n" "$R/dev/$n"
done
: > "$R/dev/console"
mount --bind "$D/console.log" "$R/dev/console"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=1777 chorus-sd-shm "$R/dev/shm"
mount -t tmpfs -o mode=0755 chorus-sd-run "$R/run"
mount -t tmpfs -o mode=1777 chorus-sd-tmp "$R/tmp"
mount -t tmpfs -o mode=1777 chorus-sd-vartmp "$R/var/tmp"
mount -t tmpfs -o mode=0755 chorus-sd-log "$R/var/log"
mkdir -p "$R/var/lib/glusterd"
mount -t tmpfs -o mode=0755 chorus-sd-glusterd "$R/var/lib/glusterd"
for p in "$RUNDIR" "$SRC" "$BUILD"; do
    mkdir -p "$R$p"
    mount --bind "$p" "$R$p"
done
for p in "$SRC" "$BUILD"; do
    [ "$p" = "$RUNDIR" ] || mount -o remount,bind,ro "$R$p"
done
# the run dir again on top (it may lie below the source tree): read-write
mount --bind "$RUNDIR" "$R$RUNDIR"
# files the test put there for it ($CL_DIR/sysd/rootfs: sd_file)
if [ -d "$D/rootfs" ]; then cp -a "$D/rootfs/." "$R/"; fi
# its own settings: no v1 controller (no accounting), quick stops
mkdir -p "$R/etc/systemd/system.conf.d"
cat > "$R/etc/systemd/system.conf.d/chorus-test.conf" <<'EOC'
[Manager]
DefaultCPUAccounting=no
DefaultMemoryAccounting=no
DefaultTasksAccounting=no
DefaultIOAccounting=no
DefaultBlockIOAccounting=no
DefaultIPAccounting=no
DefaultTimeoutStopSec=20s
DefaultStandardOutput=inherit
DefaultStandardError=inherit
EOC
mkdir -p "$R/.oldroot"
cd "$R"
pivot_root . .oldroot
cd /
mount -t proc proc /proc
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys
umount -l /.oldroot
exec env -i container=chorus-test PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    SYSTEMD_UNIT_PATH="$D/units" SYSTEMD_GENERATOR_PATH="$D/empty" \
    SYSTEMD_ENVIRONMENT_GENERATOR_PATH="$D/empty" \
    "$SYSTEMD" --system --unit=chorus-test.target --log-target=console \
    --log-level=info --show-status=no
EOF
    : > "$d/systemd.out"
    : > "$d/console.log"
    nsenter --net="/run/netns/$(cl_ns "$i")" -- unshare --pid --fork --mount --uts --ipc \
        --propagation private -- bash "$d/boot.sh" "$d" "$cg" "$src" "$build" "$CL_DIR" "$SD_SYSTEMD" \
        </dev/null >>"$d/systemd.out" 2>&1 &
    local launcher=$!
    disown "$launcher" 2>/dev/null
    cl__record sd-launcher "$launcher"
    echo "$launcher sd-launcher" >> "$CL_DIR/pids.all"
    # PID 1 of the namespace: unshare's child
    local n pid=""
    for (( n = 0; n < 100; n++ )); do
        pid=$(awk '{print $1}' "/proc/$launcher/task/$launcher/children" 2>/dev/null)
        [ -n "$pid" ] && break
        cl__alive "$launcher" || break
        sleep 0.05
    done
    [ -n "$pid" ] || cl_fail "systemd launcher died: $(tail -n 5 "$d/systemd.out")"
    SD_PID=$pid
    cl__record sd-pid1 "$SD_PID"
    echo "$SD_PID sd-pid1" >> "$CL_DIR/pids.all"
    cl_wait_until "$SD_WAIT_S" sd__booted ||
        cl_fail "systemd (pid $SD_PID) did not come up in ${SD_WAIT_S}s: $(tail -n 15 "$d/systemd.out")"
    cl__record sd-pid1 "$SD_PID"          # start time of systemd itself (same pid)
    cl_log "systemd up (pid $SD_PID, cgroup $(sd_cgroup_name)): $(sd_exec systemctl is-system-running 2>&1)"
}

sd__booted() {
    local s
    [ "$(cat "/proc/$SD_PID/comm" 2>/dev/null)" = systemd ] || return 1
    s=$(sd_exec timeout 5 systemctl is-system-running 2>/dev/null)
    [ "$s" = running ] || [ "$s" = degraded ]
}

# sd_exec CMD... : run CMD inside the booted systemd's namespaces (all of them)
sd_exec() {
    [ -n "$SD_PID" ] || { echo "sd_exec: no systemd booted" >&2; return 1; }
    nsenter -t "$SD_PID" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC "$@"
}

# sd_unit_cgroup PID : PID's cgroup in the name=systemd (or unified) hierarchy
sd_unit_cgroup() {
    awk -F: '$2 == "name=systemd" { v1 = $3 } $1 == "0" { v2 = $3 }
             END { print (v1 != "" ? v1 : v2) }' "/proc/$1/cgroup" 2>/dev/null
}

# sd_cgroup_pids : the machine's PIDs of every process of the booted systemd
sd_cgroup_pids() {
    local h
    for h in $(sd__cgroup_roots); do
        [ -d "$h/$(sd_cgroup_name)" ] || continue
        find "$h/$(sd_cgroup_name)" -name cgroup.procs -exec cat {} + 2>/dev/null
        return 0
    done
}

# sd_find_pid STRING : the machine's PID of the booted systemd's process
# whose command line holds the argument STRING (the first one)
sd_find_pid() {
    local p
    for p in $(sd_cgroup_pids); do
        tr '\0' '\n' 2>/dev/null < "/proc/$p/cmdline" | grep -qxF -- "$1" && { echo "$p"; return 0; }
    done
    return 1
}

# sd_host_pid NSPID : the machine's PID of the booted systemd's process NSPID
# (a PID as its own namespace, a pidfile there, names it)
sd_host_pid() {
    local p
    for p in $(sd_cgroup_pids); do
        [ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = "$1" ] &&
            { echo "$p"; return 0; }
    done
    return 1
}

# a run killed outright never ran its trap: empty cgroups of dead runs go
sd__reap_dead_runs() {
    local h d pid
    for h in $(sd__cgroup_roots); do
        for d in "$h"/chorus-sd-[0-9]*; do
            [ -d "$d" ] || continue
            pid=${d##*-}
            [ "$pid" != "$$" ] && [ ! -d "/proc/$pid" ] || continue
            [ -z "$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)" ] || continue
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        done
    done
}

sd__teardown() {
    local pid n h cg dirs d
    if pid=$(cl__pid_of sd-pid1); then
        kill -s KILL "$pid" 2>/dev/null
        for (( n = 0; n < 100; n++ )); do cl__alive "$pid" || break; sleep 0.05; done
        cl__alive "$pid" && cl_log "teardown: systemd $pid survived SIGKILL for 5 s"
    fi
    # the PID namespace is gone with its PID 1; anything left in our cgroups
    # (there should be nothing) is ours too
    cg=$(sd_cgroup_name)
    for h in $(sd__cgroup_roots); do
        [ -d "$h/$cg" ] || continue
        for (( n = 0; n < 50; n++ )); do
            dirs=$(find "$h/$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
            [ -z "$dirs" ] && break
            for pid in $dirs; do kill -s KILL "$pid" 2>/dev/null; done
            sleep 0.1
        done
        # depth first
        find "$h/$cg" -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
        [ -d "$h/$cg" ] && cl_log "teardown: cgroup $h/$cg not removed"
    done
    return 0
}
