# Placement: unit tests, golden scenarios, benchmark (owned by the placement work).
