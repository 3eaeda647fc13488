#!/bin/bash
# Load balancing on a real 3-node cluster (issue: small-file balancing), as
# a regression test: tests/bench/smallfile-balance.sh run short (30 s with
# balancing off, 40 s on).  It passes when the small-request load is skewed
# with balancing off (busiest node >= 2x the mean), balanced within 15 % with
# it on, and no address came back to a node it had left.  Exit 77 when it
# cannot run here (not root, no corosync, not built).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OFF_SECONDS=${OFF_SECONDS:-30} ON_SECONDS=${ON_SECONDS:-40}
exec "$here/../bench/smallfile-balance.sh"
