# Integration tests and benchmarks on real corosync (owned by the harness work).
