#!/bin/bash
# deploy/build-deb.sh - build the chorus .deb on Debian 12 (as root, or with
# the build dependencies already installed).
#
#     deploy/build-deb.sh [OUTDIR]     # default OUTDIR: ./build-deb
#
# Copies the source tree (what git tracks plus what is not ignored, so work
# in progress is packaged too) to a temporary directory, puts deploy/debian
# there as debian/, and runs `dpkg-buildpackage -us -uc -b`.  The repository
# never gets a debian/ directory.  The .deb, .buildinfo and .changes land in
# OUTDIR.  Missing build dependencies are installed with apt-get (root only).
# DEB_BUILD_OPTIONS=nocheck skips `make check` during the build.
# LINTIAN=1 runs lintian on the result (installs it if missing).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

need=(dpkg-dev debhelper dh-autoreconf)
export DEBIAN_FRONTEND=noninteractive
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${need[@]}"; do installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "build-deb: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/chorus-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/chorus"
mkdir "$src"
# The tree as a commit would see it: tracked and untracked-but-not-ignored
# files, none of the build directories or generated autotools files.  Outside
# git (an unpacked tarball), everything but build directories.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # shellcheck disable=SC2016  # the inner sh expands $f
    (cd "$top" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
        tar --null -T - -cf -) | tar -C "$src" -xf -
else
    tar -C "$top" --exclude='./build*' --exclude=./debian --exclude=./autom4te.cache \
        -cf - . | tar -C "$src" -xf -
fi
cp -a "$top/deploy/debian" "$src/debian"

# Build dependencies from debian/control (dpkg-checkbuilddeps names them).
if ! unmet=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
    deps=$(printf '%s\n' "$unmet" | sed -n 's/.*Unmet build dependencies: //p' |
           sed 's/([^)]*)//g; s/<[^>]*>//g; s/|[^ ]*//g')
    echo "build-deb: installing build dependencies: $deps"
    apt-get update -qq
    # shellcheck disable=SC2086  # a list of package names
    apt-get install -y -qq --no-install-recommends $deps >/dev/null
fi

(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/dpkg-buildpackage.log" 2>&1 || {
    tail -n 60 "$out/dpkg-buildpackage.log" >&2
    echo "build-deb: dpkg-buildpackage failed (log: $out/dpkg-buildpackage.log)" >&2
    exit 1
}
find "$work" -maxdepth 1 -type f \( -name '*.deb' -o -name '*.buildinfo' -o -name '*.changes' \) \
    -exec cp {} "$out/" \;
ls -1 "$out"/*.deb

if [ "${LINTIAN:-0}" = 1 ]; then
    installed lintian || { apt-get update -qq; apt-get install -y -qq --no-install-recommends lintian >/dev/null; }
    # lintian exits non-zero on an error tag: so does this script
    lintian --info --display-info --pedantic "$out"/*.changes | tee "$out/lintian.txt"
fi
