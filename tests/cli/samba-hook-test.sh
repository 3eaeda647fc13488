#!/bin/bash
# samba-hook-test.sh - the parts of deploy/hooks/samba that need neither root
# nor a running smbd (make check):
#   - exit 2 for a bad action, a hostile or malformed address, an unknown or
#     malformed argument, argv and environment that disagree, an unreadable
#     smb.conf;
#   - with Samba's tools installed: exit 1 and "smbd is not running" when no
#     smbd answers for that smb.conf, for takeip and releaseip;
#   - the hook passes shellcheck (when it is installed).
# The hook against a real smbd and chorusd is tests/integration/hooks-samba.sh.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
HOOK=$SRC/deploy/hooks/samba
T=$(mktemp -d /tmp/chorus-samba-cli.XXXXXX) || exit 99
trap 'rm -rf -- "$T"' EXIT
fails=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$(( fails + 1 )); }

# expect RC WHAT ARGS... : run the hook with a clean environment
expect() {
    local want=$1 what=$2 out rc; shift 2
    out=$(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        "${ENVV[@]}" timeout 30 "$HOOK" "$@" 2>&1 </dev/null)
    rc=$?
    if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, want $want: $out"; fi
    LAST_OUT=$out
}
ENVV=()
# an smb.conf whose pid and lock directories are ours and empty: no smbd
mkdir -p "$T/pid" "$T/lock" "$T/state" "$T/cache" "$T/private"
cat > "$T/smb.conf" <<CONF
[global]
  pid directory = $T/pid
  lock directory = $T/lock
  state directory = $T/state
  cache directory = $T/cache
  private dir = $T/private
  smb ports = 445
CONF
C=conf=$T/smb.conf

expect 2 "no arguments"
expect 2 "unknown action" start 192.0.2.1 "$C"
expect 2 "address with a shell metacharacter" takeip '192.0.2.1;id' "$C"
expect 2 "address with a space" takeip '192.0.2.1 2' "$C"
expect 2 "address with a prefix" takeip 192.0.2.1/24 "$C"
expect 2 "host name instead of an address" takeip smb.example "$C"
expect 2 "unknown argument" takeip 192.0.2.1 "$C" bogus=1
expect 2 "relative conf=" takeip 192.0.2.1 conf=smb.conf
expect 2 "bad wait=" takeip 192.0.2.1 "$C" wait=-1
expect 2 "bad drop=" releaseip 192.0.2.1 "$C" drop=maybe
expect 2 "unreadable smb.conf" takeip 192.0.2.1 conf=/nonexistent/smb.conf
ENVV=(CHORUS_ADDRESS=192.0.2.2)
expect 2 "CHORUS_ADDRESS differs from argv" takeip 192.0.2.1 "$C"
ENVV=(CHORUS_ACTION=releaseip)
expect 2 "CHORUS_ACTION differs from argv" takeip 192.0.2.1 "$C"
ENVV=()
args=(takeip 192.0.2.1)
for (( i = 0; i < 17; i++ )); do args+=("$C"); done
expect 2 "more than 16 arguments" "${args[@]}"

if command -v smbcontrol >/dev/null 2>&1 && command -v testparm >/dev/null 2>&1 &&
   command -v ss >/dev/null 2>&1; then
    ENVV=(CHORUS_ACTION=takeip CHORUS_ADDRESS=192.0.2.1 CHORUS_REASON=acquire)
    expect 1 "takeip without smbd" takeip 192.0.2.1 "$C"
    [[ $LAST_OUT == *"smbd is not running"* ]] && ok "takeip says smbd is not running" ||
        bad "takeip without smbd gave no clear message: $LAST_OUT"
    ENVV=(CHORUS_ACTION=releaseip CHORUS_ADDRESS=fd00::5 CHORUS_REASON=lost)
    expect 1 "releaseip without smbd (IPv6)" releaseip fd00::5 "$C"
    [[ $LAST_OUT == *"smbd is not running"* ]] && ok "releaseip says smbd is not running" ||
        bad "releaseip without smbd gave no clear message: $LAST_OUT"
    ENVV=()
else
    echo "skip: Samba's smbcontrol/testparm not installed, no smbd checks"
fi

if command -v shellcheck >/dev/null 2>&1; then
    if shellcheck -S warning "$HOOK"; then ok "shellcheck"; else bad "shellcheck"; fi
fi

echo "samba hook: $fails failed"
[ "$fails" -eq 0 ]
