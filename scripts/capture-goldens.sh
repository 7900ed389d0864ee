#!/usr/bin/env bash
# Regenerate the golden files from real servers and their CLI: every
# scenario starts fresh servers on fixed loopback ports (22101 and up, 10 per
# scenario, on 127.0.0.1-3; cluster bus ports +10000), builds a cluster
# state, captures the nodes' replies and the output of
# `<cli> --cluster check|info` (see internal/redistest/capture).
#
#   scripts/capture-goldens.sh                       # redis-cli 7.0 in PATH -> testdata/golden
#   scripts/capture-goldens.sh valkey-8.0.1          # ../shared/servers -> testdata/golden/valkey-8.0.1
#
# Extra arguments go to the capture program, e.g. -only healthy-3,uncovered.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = valkey-8.0.1 ] || [ "${1:-}" = redis-7.2.3 ]; then
  build=$1; shift
  exec go run ./internal/redistest/capture -build "$build" -out "testdata/golden/$build" "$@"
fi
for b in redis-server redis-cli; do
  if ! command -v "$b" >/dev/null; then
    echo "$b is not installed: apt-get install redis-server redis-tools" >&2
    exit 1
  fi
done
echo "using $(redis-cli --version)" >&2
exec go run ./internal/redistest/capture -out testdata/golden "$@"
