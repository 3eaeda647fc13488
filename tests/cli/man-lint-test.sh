#!/bin/bash
# man-lint-test.sh - every man page in deploy/man renders without a warning,
# exactly as lintian renders it for the Debian package (its groff-message
# check), so a page that would fail the package step fails make check first.
# Exit 77 without man(1).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v man >/dev/null 2>&1 || { echo "SKIP: man not installed" >&2; exit 77; }
fails=0
for p in "$SRC"/deploy/man/*.[1-8]; do
    w=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$p" 2>&1 >/dev/null)
    if [ -n "$w" ]; then echo "FAIL: ${p##*/}: $w"; fails=$(( fails + 1 )); else echo "ok: ${p##*/}"; fi
done
[ "$fails" = 0 ]
