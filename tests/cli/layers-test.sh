#!/bin/bash
# layers-test.sh - the include arrows between coordinator/'s layers (make check).
#
#   cli/       chorusctl: nothing of chorusd
#   plugin/    the plugin host: only itself (and include/chorus/plugin.h)
#   core/      pure: only itself, and only these system headers (no I/O,
#              no clock, no corosync: the simulator replays it)
#   adapters/  corosync, config, control socket: core/
#   exec/      executors: core/, adapters/ (hooks read their config)
#   daemon/    the loop and the glue: everything
#
# A *_private.h header is for its own layer only.  Then the check is run on a
# copy with a backward arrow planted, which it must refuse: a checker that
# cannot fail proves nothing.
set -u
SRC=${srcdir:-.}/coordinator
[ -f "$SRC/core/state.h" ] || { echo "FAIL: no sources in $SRC (set srcdir)"; exit 1; }

declare -A ALLOW=(
    [cli]="cli" [plugin]="plugin" [core]="core"
    [adapters]="core adapters" [exec]="core adapters exec"
    [daemon]="core adapters exec plugin daemon"
)
CORE_SYS=" assert.h errno.h inttypes.h limits.h stdbool.h stddef.h stdint.h stdio.h "
CORE_SYS+="stdlib.h string.h arpa/inet.h qb/qblog.h "

# check DIR : print one line per forbidden include; status 1 if any
check() {
    local root=$1 bad=0 f layer inc to line
    for f in "$root"/*/*.[ch]; do
        layer=${f#"$root"/}; layer=${layer%%/*}
        [ -n "${ALLOW[$layer]+x}" ] || { echo "$f: unknown layer '$layer'"; bad=1; continue; }
        while IFS= read -r line; do
            if [[ $line =~ ^#[[:space:]]*include[[:space:]]+\"([^\"]+)\" ]]; then
                inc=${BASH_REMATCH[1]}
                [ "$inc" = config.h ] && continue
                to=${inc%%/*}
                if [ "$to" = "$inc" ]; then
                    echo "$f: \"$inc\" names no layer (write \"$layer/$inc\")"; bad=1
                elif [[ " ${ALLOW[$layer]} " != *" $to "* ]]; then
                    echo "$f: $layer/ may not include \"$inc\" (allowed: ${ALLOW[$layer]})"; bad=1
                elif [[ $inc == *_private.h ]] && [ "$to" != "$layer" ]; then
                    echo "$f: \"$inc\" is private to $to/"; bad=1
                fi
            elif [ "$layer" = core ] &&
                 [[ $line =~ ^#[[:space:]]*include[[:space:]]+\<([^\>]+)\> ]]; then
                inc=${BASH_REMATCH[1]}
                [[ $CORE_SYS == *" $inc "* ]] ||
                    { echo "$f: the core is pure: <$inc> is not for it"; bad=1; }
            fi
        done < "$f"
    done
    return $bad
}

out=$(check "$SRC")
rc=$?
if [ $rc -ne 0 ]; then
    echo "$out"
    echo "FAIL: forbidden include arrows (see the top of $0)"
    exit 1
fi
n=$(ls "$SRC"/*/*.[ch] | wc -l)
echo "ok: $n files in $(ls -d "$SRC"/*/ | wc -l) layers keep to the arrows"

# the checker must catch a planted backward arrow and an impure core
T=$(mktemp -d /tmp/layers-test.XXXXXX) || exit 99
trap 'rm -rf -- "$T"' EXIT
cp -r "$SRC" "$T/coordinator"
echo '#include "daemon/daemon.h"' >> "$T/coordinator/exec/vip.c"
out=$(check "$T/coordinator") && { echo "FAIL: a planted exec -> daemon arrow passed"; exit 1; }
grep -q 'exec/vip.c: exec/ may not include "daemon/daemon.h"' <<< "$out" ||
    { echo "FAIL: planted arrow not named: $out"; exit 1; }
cp "$SRC/exec/vip.c" "$T/coordinator/exec/vip.c"
echo '#include <unistd.h>' >> "$T/coordinator/core/res.c"
out=$(check "$T/coordinator") && { echo "FAIL: a planted I/O header in the core passed"; exit 1; }
echo "ok: a planted backward arrow and an impure core are refused"
exit 0
