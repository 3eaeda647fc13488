#!/bin/sh
# S29chorus-inventory.sh - glusterd post hook: tell chorusd to re-read the
# volume inventory ("gluster volume info --xml") after a volume changed.
#
# Installed by "make install" as hooks/1/<event>/post/S29chorus-inventory.sh
# for create, start, stop, add-brick, remove-brick and delete.  glusterd runs
# it as:  S29chorus-inventory.sh --volname=VOL [--first=yes] [--version=N]
#         [--volume-op=OP] [--gd-workdir=DIR] ...
# The event is the name of the directory two levels up.
#
# It runs "chorusctl inventory-refresh VOLUME EVENT" (both plain names; an
# unusable volume name is sent as "-"): chorusd re-reads the inventory.
# It only notifies: chorusctl runs in the background under a short timeout,
# the hook returns at once, and it exits 0 whatever happens (chorusd not
# running, not installed), so it can never fail or slow a volume operation.
# CHORUSCTL overrides the client (tests point it at a recorder).
CHORUSCTL=${CHORUSCTL:-@bindir@/chorusctl}
VOL=
for arg in "$@"; do
    case $arg in
        --volname=*) VOL=${arg#--volname=} ;;
    esac
done
case $0 in
    */post/*) EVENT=$(basename "$(dirname "$(dirname "$0")")") ;;
    *) EVENT=unknown ;;
esac
# Hostile input: only plain names travel on.
case $VOL in *[!A-Za-z0-9_.-]*|'') VOL=- ;; esac
case $EVENT in *[!a-z-]*) EVENT=unknown ;; esac
[ -x "$CHORUSCTL" ] || exit 0
# No socket, no daemon: nothing to tell (CHORUSCTL overrides skip the check).
if [ "$CHORUSCTL" = "@bindir@/chorusctl" ]; then
    [ -S "${CHORUS_SOCKET:-/run/chorus/chorusd.sock}" ] || exit 0
fi
( timeout -k 1 5 "$CHORUSCTL" inventory-refresh "$VOL" "$EVENT" \
    </dev/null >/dev/null 2>&1 & ) </dev/null >/dev/null 2>&1
exit 0
