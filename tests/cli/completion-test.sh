#!/bin/bash
# deploy/bash-completion/chorusctl: commands come from chorusctl --help,
# options per command, fixed arguments; without a daemon, node and address
# arguments complete to nothing and nothing hangs or errors.
set -u
root=$(cd "${srcdir:-.}" && pwd)
comp=$root/deploy/bash-completion/chorusctl
CHORUSCTL=${CHORUSCTL:-./coordinator/chorusctl}
[ -x "$CHORUSCTL" ] || { echo "no $CHORUSCTL"; exit 99; }
bin=$(mktemp -d) || exit 99
trap 'rm -rf "$bin"' EXIT
ln -s "$(cd "$(dirname "$CHORUSCTL")" && pwd)/chorusctl" "$bin/chorusctl"
export PATH="$bin:$PATH" CHORUS_SOCKET="$bin/no-such.sock"
# shellcheck source=/dev/null
. "$comp" || { echo "FAIL: the completion does not load"; exit 1; }
fails=0
# comp "WORDS..." EXPECTED... : complete the last word; every EXPECTED must be offered
comp() {
    local line=$1; shift
    read -r -a COMP_WORDS <<< "$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    _chorusctl
    local w
    for w in "$@"; do
        [[ " ${COMPREPLY[*]-} " == *" $w "* ]] || { echo "FAIL: '$line' does not offer '$w' (got: ${COMPREPLY[*]-})"; fails=$((fails + 1)); }
    done
}
comp "chorusctl st" status standby
comp "chorusctl " status events plan move unpin metrics cleanup fence-confirm help
comp "chorusctl events --s" --since
comp "chorusctl events -" --follow --core --json
comp "chorusctl plan --" --fail --standby
comp "chorusctl cleanup --" --node
comp "chorusctl maintenance " on off
comp "chorusctl log-level d" debug
comp "chorusctl -s /tmp/x ev" events
comp "chorusctl standby "			# no daemon: nothing, and no error
[ "$fails" -eq 0 ] && echo "completion: all cases passed"
[ "$fails" -eq 0 ]
