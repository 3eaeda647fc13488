#!/bin/sh
# tests/sim/seeds-test.sh - simulator seeds outside `make check`'s default
# range that once found a violation, replayed every time.  Run by `make
# check` from the build directory; SIM overrides the binary.
#   70678: a hold-off for a node that went down (kernel alive) was renamed
#          to a second node lost while it ran (a partition), and ended when
#          that second node came back: an address on two nodes for ~100 ms.
#   18910: a STATE sent for an earlier instance of a view (a member that
#          rejoined with its pid) was counted in a later one, and each
#          member merged its own newer absent records on top: two tables
#          (core scenario 053).
#   21533: found a STATE extension carrying hold-offs' "mixed" mark (since
#          withdrawn): a joiner kept a permanent address's hold-off that
#          only the lost node's return could end, and the address stayed
#          on no node.
#   25786: a daemon back from a corosync restart, alone in its view, took
#          an address a daemon killed while it was away still had in its
#          kernel: the start-up hold-off counted from its very first view,
#          not from its return.
#   500055, 517591, 537269: a member suspected for silence lost its
#          addresses, then spoke again (eligible, but placed only from the
#          next round); the move check judged that placement by the
#          eligibility of a later step and counted the losses as moves.
SIM=${SIM:-./tests/sim/sim}
rc=0
for seed in 70678 18910 21533 25786 500055 517591 537269; do
    out=$("$SIM" -s "$seed" -n 1 2>&1 | tail -n 1)
    case $out in
    *" violations=0"*) echo "seed $seed: $out" ;;
    *) echo "FAIL: seed $seed: $out (replay: $SIM -s $seed -n 1 -v)"; rc=1 ;;
    esac
done
exit $rc
