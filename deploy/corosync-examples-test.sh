#!/bin/sh
# make check: every deploy/examples/corosync-*.conf parses with `corosync -t`
# and has a token chorusd accepts.
# corosync needs an authkey (crypto is on) and a node that is this host, so
# each example is checked on a copy that points keyfile at a fresh key and
# gives node 1 loopback addresses; nothing else is changed.  Skipped (77)
# without corosync or root.
set -u
dir=${srcdir:-$(dirname "$0")/..}/deploy/examples
command -v corosync >/dev/null 2>&1 || { echo "skip: corosync not installed"; exit 77; }
command -v corosync-keygen >/dev/null 2>&1 || { echo "skip: corosync-keygen not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "skip: corosync -t needs root"; exit 77; }
t=$(mktemp -d) || exit 99
trap 'rm -rf "$t"' EXIT
corosync-keygen -k "$t/authkey" >/dev/null 2>&1 || { echo "corosync-keygen failed"; exit 99; }
rc=0 n=0
for f in "$dir"/corosync-*.conf; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    if ! grep -q '^[[:space:]]*crypto_cipher:[[:space:]]*aes256' "$f" ||
       ! grep -q '^[[:space:]]*crypto_hash:[[:space:]]*sha256' "$f"; then
        echo "FAIL $(basename "$f"): crypto is not on"; rc=1; continue
    fi
    # chorusd refuses a token it cannot fit three heartbeats of at least
    # 50 ms into (coordinator/core/timing.c); corosync would take it
    tok=$(sed -n 's/^[[:space:]]*token:[[:space:]]*\([0-9]*\).*/\1/p' "$f" | head -n 1)
    if [ -n "$tok" ] && [ "$tok" -le 150 ]; then
        echo "FAIL $(basename "$f"): token $tok ms is below chorusd's 151"; rc=1; continue
    fi
    sed -e "s|^\([[:space:]]*\)transport: knet|&\n\1keyfile: $t/authkey|" \
        -e 's/^\([[:space:]]*ring0_addr:\) 198\.51\.100\.1$/\1 127.0.0.1/' \
        -e 's/^\([[:space:]]*ring1_addr:\) 203\.0\.113\.1$/\1 127.0.0.2/' \
        -e 's/^\([[:space:]]*\)to_syslog: yes/\1to_syslog: no/' \
        -e 's/^\([[:space:]]*\)to_stderr: no/\1to_stderr: yes/' "$f" >"$t/corosync.conf"
    if corosync -t -c "$t/corosync.conf" >"$t/out" 2>&1; then
        echo "ok   $(basename "$f")"
    else
        echo "FAIL $(basename "$f"):"; cat "$t/out"; rc=1
    fi
done
[ "$n" -gt 0 ] || { echo "no corosync examples in $dir"; exit 99; }
exit "$rc"
