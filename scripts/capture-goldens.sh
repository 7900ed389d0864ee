#!/usr/bin/env bash
# Regenerate testdata/golden/*.json from the real redis-server and redis-cli:
# every scenario starts fresh servers on fixed loopback ports (22101 and up,
# 10 per scenario, on 127.0.0.1-3; cluster bus ports +10000), builds a
# cluster state, captures the nodes' replies and the output of
# `redis-cli --cluster check|info` (see internal/redistest/capture).
# Extra arguments go to the capture program, e.g. -only healthy-3,uncovered.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in redis-server redis-cli; do
  if ! command -v "$b" >/dev/null; then
    echo "$b is not installed: apt-get install redis-server redis-tools" >&2
    exit 1
  fi
done
echo "using $(redis-cli --version)" >&2
exec go run ./internal/redistest/capture -out testdata/golden "$@"
