#!/usr/bin/env bash
# Side-by-side benchmarks of rcluster and redis-cli on the same cluster, in
# one run, alternating the tools, every key verified after every run.
#
#   scripts/bench.sh reshard     # 3 masters, 2,000,000 keys of 100 bytes, 1000 slots per run
#   scripts/bench.sh rebalance   # 6 masters, 1,000,000 keys, weights 1:1:1:1:1:1 -> 3:3:3:1:1:1 -> back
#   scripts/bench.sh create      # 60 nodes (NODES), --replicas 1
#
# RUNS (default 3) runs per tool; the best run of each counts. KEYS and SIZE
# change the data set. Needs redis-server, redis-cli and go.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-reshard}
RUNS=${RUNS:-3}
BASE=${BASE:-16001}
dir=$(mktemp -d /tmp/rcluster-bench.XXXXXX)
go build -o "$dir/rcluster" ./cmd/rcluster
go build -o "$dir/benchtool" ./internal/benchtool
RC="$dir/rcluster"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

start_nodes() { # start_nodes N
  local n=$1 i port
  for ((i = 0; i < n; i++)); do
    for port in $((BASE + i)) $((BASE + i + 10000)); do
      if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is in use: set BASE" >&2; exit 1; fi
    done
  done
  for ((i = 0; i < n; i++)); do
    port=$((BASE + i)); mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
      --cluster-node-timeout 15000 --dir "$dir/$port" --save '' --appendonly no --logfile redis.log &
    pids+=($!)
  done
  for ((i = 0; i < n; i++)); do
    for ((t = 0; t < 200; t++)); do redis-cli -p $((BASE + i)) ping >/dev/null 2>&1 && break; sleep 0.05; done
    redis-cli -p $((BASE + i)) ping >/dev/null 2>&1 || { echo "node $((BASE + i)) did not start" >&2; exit 1; }
  done
}
addrs() { local i; for ((i = 0; i < $1; i++)); do printf '127.0.0.1:%d ' $((BASE + i)); done; }
id_of() { redis-cli -p "$1" cluster myid; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null; echo "$(date +%s.%N) - $s" | bc; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
ratio() { echo "scale=2; $1 / $2" | bc; }
# servercpu N: CPU seconds used so far by the N nodes (user + sys).
servercpu() { local i t=0; for ((i = 0; i < $1; i++)); do
  t=$(echo "$t + $(redis-cli -p $((BASE + i)) info cpu | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {print s}')" | bc); done; echo "$t"; }
verify() { "$dir/benchtool" verify -addr 127.0.0.1:$BASE -keys "$KEYS" -size "$SIZE" >/dev/null; }

case "$what" in
reshard)
  KEYS=${KEYS:-2000000}; SIZE=${SIZE:-100}
  start_nodes 3; "$RC" create $(addrs 3) --yes >/dev/null
  "$dir/benchtool" load -addr 127.0.0.1:$BASE -keys "$KEYS" -size "$SIZE"
  ids=($(id_of $BASE) $(id_of $((BASE + 1))) $(id_of $((BASE + 2))))
  t=0; cli=(); cli1000=(); rc=()
  for ((r = 0; r < RUNS; r++)); do
    to=${ids[$((t++ % 3))]}; cli+=($(secs redis-cli --cluster reshard 127.0.0.1:$BASE --cluster-from all --cluster-to "$to" --cluster-slots 1000 --cluster-yes)); verify
    to=${ids[$((t++ % 3))]}; rc+=($(secs "$RC" reshard 127.0.0.1:$BASE --from all --to "$to" --slots 1000 --yes)); verify
    to=${ids[$((t++ % 3))]}; cli1000+=($(secs redis-cli --cluster reshard 127.0.0.1:$BASE --cluster-from all --cluster-to "$to" --cluster-slots 1000 --cluster-yes --cluster-pipeline 1000)); verify
  done
  to=${ids[$((t++ % 3))]}
  cpu0=$(servercpu 3); s0=$(date +%s.%N)
  rss=$( { /usr/bin/time -f %M "$RC" reshard 127.0.0.1:$BASE --from all --to "$to" --slots 1000 --yes >/dev/null; } 2>&1 | tail -1)
  wall=$(echo "$(date +%s.%N) - $s0" | bc); cpu=$(echo "$(servercpu 3) - $cpu0" | bc); verify
  echo "reshard of 1000 slots, $KEYS keys of $SIZE bytes on 3 masters (best of $RUNS; every key verified after each run)"
  echo "  redis-cli (pipeline 10):   $(best "${cli[@]}") s   runs: ${cli[*]}"
  echo "  redis-cli (pipeline 1000): $(best "${cli1000[@]}") s   runs: ${cli1000[*]}"
  echo "  rcluster:                  $(best "${rc[@]}") s   runs: ${rc[*]}   peak RSS ${rss} KB"
  echo "  speed-up vs pipeline 10:   $(ratio "$(best "${cli[@]}")" "$(best "${rc[@]}")")x"
  echo "  speed-up vs pipeline 1000: $(ratio "$(best "${cli1000[@]}")" "$(best "${rc[@]}")")x"
  echo "  one more rcluster run: ${wall} s wall, the three redis-servers used ${cpu} s of CPU (the floor on one source-target pair)"
  ;;
rebalance)
  KEYS=${KEYS:-1000000}; SIZE=${SIZE:-100}
  start_nodes 6; "$RC" create $(addrs 6) --yes >/dev/null
  "$dir/benchtool" load -addr 127.0.0.1:$BASE -keys "$KEYS" -size "$SIZE"
  ids=(); for i in 0 1 2 3 4 5; do ids+=($(id_of $((BASE + i)))); done
  heavy() { local w=(); for i in 0 1 2; do w+=("${ids[$i]}=3"); done; echo "${w[@]}"; }
  cycle() { # cycle TOOL: to 3:3:3:1:1:1 and back to 1:1:1:1:1:1
    if [ "$1" = rcluster ]; then "$RC" rebalance 127.0.0.1:$BASE --weight $(heavy) && "$RC" rebalance 127.0.0.1:$BASE
    else redis-cli --cluster rebalance 127.0.0.1:$BASE --cluster-weight $(heavy) ${2:-} && redis-cli --cluster rebalance 127.0.0.1:$BASE ${2:-}; fi
  }
  cli=(); cli1000=(); rc=()
  for ((r = 0; r < RUNS; r++)); do
    cli+=($(secs cycle redis-cli)); verify
    rc+=($(secs cycle rcluster)); verify
    cli1000+=($(secs cycle redis-cli "--cluster-pipeline 1000")); verify
  done
  echo "rebalance of 6 masters, $KEYS keys: 1:1:1:1:1:1 -> 3:3:3:1:1:1 -> back (best of $RUNS; keys verified)"
  echo "  redis-cli (pipeline 10):   $(best "${cli[@]}") s   runs: ${cli[*]}"
  echo "  redis-cli (pipeline 1000): $(best "${cli1000[@]}") s   runs: ${cli1000[*]}"
  echo "  rcluster:                  $(best "${rc[@]}") s   runs: ${rc[*]}"
  echo "  speed-up vs pipeline 10:   $(ratio "$(best "${cli[@]}")" "$(best "${rc[@]}")")x"
  echo "  speed-up vs pipeline 1000: $(ratio "$(best "${cli1000[@]}")" "$(best "${rc[@]}")")x"
  ;;
create)
  NODES=${NODES:-60}; start_nodes "$NODES"
  reset() { for ((i = 0; i < NODES; i++)); do redis-cli -p $((BASE + i)) cluster reset hard >/dev/null; done; }
  cli=(); rc=()
  for ((r = 0; r < RUNS; r++)); do
    cli+=($(secs redis-cli --cluster create $(addrs "$NODES") --cluster-replicas 1 --cluster-yes)); reset
    rc+=($(secs "$RC" create $(addrs "$NODES") --replicas 1 --yes)); reset
  done
  echo "create of $NODES nodes with --replicas 1 (best of $RUNS)"
  echo "  redis-cli: $(best "${cli[@]}") s   runs: ${cli[*]}"
  echo "  rcluster:  $(best "${rc[@]}") s   runs: ${rc[*]}"
  echo "  speed-up:  $(ratio "$(best "${cli[@]}")" "$(best "${rc[@]}")")x"
  ;;
*) echo "usage: $0 reshard|rebalance|create" >&2; exit 2 ;;
esac
