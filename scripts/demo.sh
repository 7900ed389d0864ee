#!/usr/bin/env bash
# Start six cluster-enabled redis-server nodes in .local/demo on 127.0.0.1,
# create a cluster with one replica per master with rcluster, and check it.
# "scripts/demo.sh down" stops exactly those nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.local/demo
base=${RCLUSTER_DEMO_PORT:-30001}

if [ "${1:-}" = down ]; then
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  echo "stopped the demo nodes in $dir"
  exit 0
fi

if ! command -v redis-server >/dev/null; then
  echo "redis-server is not installed: apt-get install redis-server redis-tools" >&2
  exit 1
fi
[ -x ./rcluster ] || go build -o rcluster ./cmd/rcluster

"$0" down >/dev/null
addrs=()
for i in 0 1 2 3 4 5; do
  port=$((base + i))
  mkdir -p "$dir/$port"
  rm -f "$dir/$port/nodes.conf"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 --dir "$PWD/$dir/$port" --pidfile "$PWD/$dir/$port/redis.pid" \
    --logfile "$PWD/$dir/$port/redis.log" --save '' --appendonly no --daemonize yes
  addrs+=("127.0.0.1:$port")
done
for a in "${addrs[@]}"; do
  until redis-cli -p "${a##*:}" ping >/dev/null 2>&1; do sleep 0.1; done
done

set -x
./rcluster create "${addrs[@]}" --replicas 1 --yes
./rcluster check "${addrs[0]}"
{ set +x; } 2>/dev/null
echo
echo "The cluster is up: ./rcluster info ${addrs[0]}   (stop it with: scripts/demo.sh down)"
