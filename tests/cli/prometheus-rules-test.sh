#!/bin/sh
# deploy/prometheus/chorus-rules.yml: the real promtool must accept the rule
# file (`promtool check rules`) and the alerts must fire on the series of
# deploy/prometheus/chorus-rules-test.yml, and only then (`promtool test
# rules`).  Skipped (77) without promtool (Debian package "prometheus";
# deploy/deps.sh installs it).
set -u
dir=${srcdir:-$(dirname "$0")/../..}/deploy/prometheus
command -v promtool >/dev/null 2>&1 || { echo "skip: promtool not installed"; exit 77; }
rc=0
promtool check rules "$dir/chorus-rules.yml" || rc=1
# test rules resolves rule_files relative to the test file
(cd "$dir" && promtool test rules chorus-rules-test.yml) || rc=1
exit "$rc"
