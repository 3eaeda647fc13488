#!/bin/bash
# deploy/check-chroot.sh - does the built .deb work on a fresh Debian 12?
# Run by hand (root, network to the Debian mirror, ~5 minutes); not in CI.
#
#     deploy/check-chroot.sh [--keep] [DEB]   # default DEB: build-deb/chorus_*.deb
#
# Makes a clean bookworm chroot with debootstrap (minbase) under /tmp, from
# the mirror this machine's apt already uses, and checks in it that:
#   - the .deb installs with apt, which resolves its Depends (corosync);
#   - `chorusd --version` and `chorusctl --help` run;
#   - the installed unit passes `systemd-analyze verify` with no complaint;
#   - the tmpfiles entry creates /run/chorus (0755) and /var/lib/chorus (0750);
#   - every installed man page renders with `man -l` (exit 0, no warning).
# No service is started in the chroot (policy-rc.d).  Only proc and sysfs are
# mounted; a trap unmounts them by path and removes the chroot on any exit
# (--keep keeps the chroot, still unmounted, and prints where it is).
# Ends with "chroot-check: N passed, M failed"; exit 0 only if none failed.
set -uo pipefail

keep=0
deb=
for a in "$@"; do
    case $a in
        --keep) keep=1 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "usage: $0 [--keep] [DEB]" >&2; exit 2 ;;
        *) deb=$a ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "check-chroot: needs root (debootstrap, chroot)" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$deb" ]; then
    # shellcheck disable=SC2012  # newest first; names are ours
    deb=$(ls -1t "$top"/build-deb/chorus_*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || { echo "check-chroot: no .deb; run deploy/build-deb.sh first" >&2; exit 2; }
fi
[ -f "$deb" ] || { echo "check-chroot: $deb: no such file" >&2; exit 2; }

# The Debian mirror apt uses here: deb822 .sources first, then one-line lists.
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
         awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ && u ~ /\/debian\/?$/ { print u; exit }')
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
         awk '$1 == "deb" && $0 ~ / bookworm / && $0 ~ /\/debian\/? / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }')
[ -n "$mirror" ] || { echo "check-chroot: no bookworm mirror in /etc/apt/sources.list*" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; } ||
    { echo "check-chroot: cannot install debootstrap" >&2; exit 2; }

root=$(mktemp -d /tmp/chorus-chroot.XXXXXX)
mounted=()
cleanup() {
    local i m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        m=${mounted[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "check-chroot: cannot unmount $m" >&2
    done
    # Never remove through a mount point that is still there.
    if awk -v r="$root" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
        echo "check-chroot: something is still mounted under $root; not removing it" >&2
    elif [ "$keep" = 1 ]; then
        echo "check-chroot: chroot kept in $root"
    else
        rm -rf --one-file-system "$root"
    fi
    rm -f "$root.debootstrap.log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"; }

echo "check-chroot: debootstrap bookworm from $mirror into $root"
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
    tail -n 30 "$root.debootstrap.log" >&2
    bad "debootstrap"
    echo "chroot-check: $passed passed, $failed failed"
    exit 1
fi
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount -t sysfs sysfs "$root/sys" && mounted+=("$root/sys")
# No daemon may start inside the chroot (corosync's postinst would try).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

cp "$deb" "$root/tmp/"
debname=$(basename "$deb")
in_root apt-get update -qq >/dev/null 2>&1
# shellcheck disable=SC2016  # ${Version} is dpkg-query's
if in_root apt-get install -y -q --no-install-recommends "/tmp/$debname" >"$root/tmp/install.log" 2>&1; then
    ok "apt-get install $debname ($(in_root dpkg-query -W -f='${Version}' corosync 2>/dev/null | sed 's/^/corosync /'))"
else
    tail -n 30 "$root/tmp/install.log"
    bad "apt-get install $debname"
    echo "chroot-check: $passed passed, $failed failed"
    exit 1
fi

if v=$(in_root chorusd --version 2>&1); then ok "chorusd --version: $v"; else bad "chorusd --version: $v"; fi
if in_root chorusctl --help >/dev/null 2>&1; then ok "chorusctl --help"; else bad "chorusctl --help"; fi

# systemd-analyze and man are not in minbase; both work without a running
# systemd.  man-db is needed before verify too, which checks Documentation=.
in_root apt-get install -y -q --no-install-recommends systemd man-db >"$root/tmp/tools.log" 2>&1 ||
    { tail -n 20 "$root/tmp/tools.log"; bad "apt-get install systemd man-db"; }

unit=$(in_root dpkg -L chorus | grep '/systemd/system/chorusd\.service$' | head -n 1)
if [ -z "$unit" ]; then
    bad "the package has no chorusd.service"
else
    out=$(in_root systemd-analyze verify "$unit" 2>&1); rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify $unit"
    else bad "systemd-analyze verify $unit (exit $rc)"; printf '%s\n' "$out" | sed 's/^/     /'; fi
fi

tmpf=$(in_root dpkg -L chorus | grep '/tmpfiles\.d/chorus\.conf$' | head -n 1)
if [ -n "$tmpf" ] && in_root systemd-tmpfiles --create "$tmpf" &&
   [ "$(stat -c %a "$root/run/chorus" 2>/dev/null)" = 755 ] &&
   [ "$(stat -c %a "$root/var/lib/chorus" 2>/dev/null)" = 750 ]; then
    ok "systemd-tmpfiles --create $tmpf: /run/chorus 0755, /var/lib/chorus 0750"
else
    bad "tmpfiles entry ${tmpf:-missing}"
fi

pages=$(in_root dpkg -L chorus | grep -E '^/usr/share/man/man[0-9]/.+\.[0-9](\.gz)?$')
[ -n "$pages" ] || bad "the package has no man pages"
for p in $pages; do
    warn=$(in_root env MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$warn" ]; then ok "man -l $p"
    else bad "man -l $p (exit $rc)"; printf '%s\n' "$warn" | sed 's/^/     /'; fi
done

echo "chroot-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
