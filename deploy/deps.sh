#!/bin/bash
# libxml2-dev: the inventory parses "gluster volume info --xml";
# attr: getfattr, with which the brick script checks the volume-id xattr.
# nfs-ganesha, nfs-ganesha-vfs, dbus: the NFS-Ganesha service hook's test
# runs a real ganesha.nfsd (FSAL VFS) on a private system bus per node, and
# the hook itself calls dbus-send; libnfs-utils: its userspace NFSv4 client
# (nfs-cp) shows the grace as NFS4ERR_GRACE, there is no kernel NFS client.
# samba, smbclient: tests/integration/hooks-samba.sh runs a real smbd per node
# and smbclient against it to test deploy/hooks/samba.
# xfsprogs: deploy/demo.sh puts each brick on an XFS loop device (mkfs.xfs)
# and checks them afterwards (xfs_repair -n).
# openipmi, fence-agents, ipmitool: tests/integration/fence-ipmi.sh fences
# nodes with Pacemaker's fence_ipmilan (which runs ipmitool) against an
# OpenIPMI ipmi_sim BMC per node.
# systemd: tests/integration/brick-systemd.sh boots a throwaway systemd (in
# namespaces of its own; PID 1 of the machine need not be systemd) to run
# chorusd.service and the brick units chorus-brick starts with systemd-run.
# Install what chorus needs to build and run on Debian 12, only what is
# missing (apt is slow; a prepared machine should not pay for it twice).
#
#   deploy/deps.sh          install what is missing
#   deploy/deps.sh --list   name what it would make sure of, install nothing
set -euo pipefail
pkgs=(autoconf automake libtool pkg-config make gcc
      corosync libcpg-dev libquorum-dev libcmap-dev libcorosync-common-dev
      libqb-dev libjson-c-dev libcmocka-dev libmnl-dev
      iproute2 iputils-arping socat procps util-linux python3 clang jq
      glusterfs-server libglusterfs-dev nftables
      libxml2-dev attr xfsprogs
      nfs-ganesha nfs-ganesha-vfs dbus libnfs-utils samba smbclient
      openipmi fence-agents ipmitool systemd)
if [ "${1:-}" = --list ]; then
    echo "${pkgs[*]} prometheus"
    exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# promtool (Debian's "prometheus" package) checks the metrics and the alert
# rules in the tests.  The package starts a Prometheus server wherever an
# init system runs services: a policy-rc.d keeps it from starting one here.
if ! command -v promtool >/dev/null 2>&1; then
    echo "deps: installing prometheus (for promtool; its server is not started)"
    export DEBIAN_FRONTEND=noninteractive
    pol=/usr/sbin/policy-rc.d
    if [ ! -e "$pol" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$pol"
        chmod +x "$pol"
        trap 'rm -f "$pol"' EXIT
    fi
    [ "${#missing[@]}" -gt 0 ] || apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
# Debian's corosync package would start a default corosync under systemd;
# there is none here, but make sure nothing we did not start holds the ports.
exit 0
