#!/usr/bin/env bash
# Side-by-side benchmarks of rcluster and redis-cli on the same cluster, in
# one run, alternating the tools, every key verified after every run.
#
#   scripts/bench.sh reshard     # 3 masters, 2,000,000 keys of 100 bytes, 1000 slots per run
#   scripts/bench.sh rebalance   # 6 masters, 1,000,000 keys, weights 1:1:1:1:1:1 -> 3:3:3:1:1:1 -> back
#   scripts/bench.sh create      # 60 nodes (NODES), --replicas 1
#   scripts/bench.sh latency     # reshard, rebalance and create (JOBS; also add-node) with DELAY on every connection
#   scripts/bench.sh scale       # every command on NODES=150 nodes, with rcluster's peak RSS
#
# RUNS (default 3) runs per tool; the best run of each counts. KEYS and SIZE
# change the data set. Needs redis-server, redis-cli, go and bc.
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

# HOST is the address the tools and the nodes use for each other. With
# ANNOUNCE set (latency mode), nodes bind 127.0.0.1 but announce ANNOUNCE,
# where a delay proxy listens on the same ports.
HOST=127.0.0.1
ANNOUNCE=
free_port() { # free_port PORT: fails if PORT is taken on 127.0.0.1 or HOST
  local h; for h in 127.0.0.1 $HOST; do
    if (exec 3<>/dev/tcp/$h/$1) 2>/dev/null; then echo "port $1 is in use on $h: set BASE" >&2; exit 1; fi
  done
}
start_node() { # start_node PORT: a fresh empty node
  local port=$1 announce=()
  [ -n "$ANNOUNCE" ] && announce=(--cluster-announce-ip "$ANNOUNCE" --cluster-announce-port "$port" --cluster-announce-bus-port $((port + 10000)))
  rm -rf "$dir/$port"; mkdir -p "$dir/$port"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 15000 --dir "$dir/$port" --save '' --appendonly no --logfile redis.log "${announce[@]}" &
  pids+=($!)
}
wait_node() { local t; for ((t = 0; t < 200; t++)); do redis-cli -p "$1" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "node $1 did not start" >&2; exit 1; }
start_nodes() { # start_nodes N
  local n=$1 i
  for ((i = 0; i < n; i++)); do free_port $((BASE + i)); free_port $((BASE + i + 10000)); done
  for ((i = 0; i < n; i++)); do start_node $((BASE + i)); done
  for ((i = 0; i < n; i++)); do wait_node $((BASE + i)); done
}
addrs() { local i; for ((i = 0; i < $1; i++)); do printf '%s:%d ' "$HOST" $((BASE + i)); done; }
id_of() { redis-cli -p "$1" cluster myid; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null; printf '%.2f\n' "$(echo "$(date +%s.%N) - $s" | bc)"; }
best() { printf '%s\n' "$@" | sort -g | head -1; }
ratio() { echo "scale=2; $1 / $2" | bc; }
# servercpu N: CPU seconds used so far by the N nodes (user + sys).
servercpu() { local i t=0; for ((i = 0; i < $1; i++)); do
  t=$(echo "$t + $(redis-cli -p $((BASE + i)) info cpu | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {print s}')" | bc); done; echo "$t"; }
verify() { "$dir/benchtool" verify -addr $HOST:$BASE -keys "$KEYS" -size "$SIZE" >/dev/null; }
# timed CMD...: "seconds exit-status peak-RSS-KB" of one run, output discarded;
# a run is stopped after LIMIT seconds (exit status 124): redis-cli's waits
# have no bound.
LIMIT=${LIMIT:-900}
timed() { local s st=0; s=$(date +%s.%N)
  /usr/bin/time -o "$dir/time.out" -f %M timeout "$LIMIT" "$@" >/dev/null 2>"$dir/last.err" || st=$?
  printf '%.2f %s %s\n' "$(echo "$(date +%s.%N) - $s" | bc)" "$st" "$(tail -1 "$dir/time.out")"; }
# empty_cluster N: flush and reset nodes 0..N-1 to empty masters that know nobody.
empty_cluster() { local i; for ((i = 0; i < $1; i++)); do
  redis-cli -p $((BASE + i)) flushall >/dev/null 2>&1 || true; redis-cli -p $((BASE + i)) cluster reset hard >/dev/null; done; }

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
latency)
  # Every connection (tools to nodes, cluster bus, MIGRATE, replication)
  # goes through a proxy on ANNOUNCE that delays each direction by DELAY.
  ANNOUNCE=${ANNOUNCE_IP:-127.0.0.2}; HOST=$ANNOUNCE
  KEYS=${KEYS:-100000}; SIZE=${SIZE:-100}; SLOTS=${SLOTS:-300}; NODES=${NODES:-60}
  DELAYS=${DELAYS:-1ms 5ms}; JOBS=${JOBS:-reshard rebalance create}; MOVE_RUNS=${MOVE_RUNS:-1}
  start_nodes "$NODES"
  proxy_pid=
  start_proxy() { # start_proxy DELAY
    "$dir/benchtool" proxy -delay "$1" -listen "$ANNOUNCE" -target 127.0.0.1 \
      -ports "$BASE-$((BASE + NODES - 1)),$((BASE + 10000))-$((BASE + NODES + 9999))" >"$dir/proxy.out" &
    proxy_pid=$!; pids+=($proxy_pid)
    for ((t = 0; t < 200; t++)); do grep -q ready "$dir/proxy.out" && return; sleep 0.05; done
    echo "the delay proxy did not start" >&2; exit 1
  }
  stop_proxy() { kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; }
  # nodecpu I: CPU seconds node I used so far.
  nodecpu() { redis-cli -p $((BASE + $1)) info cpu | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {print s}'; }
  results=()
  for DELAY in $DELAYS; do
    case "$DELAY" in *ms) ;; *) echo "DELAY must be in ms (1ms, 5ms): $DELAY" >&2; exit 2 ;; esac
    rtt=$(echo "2 * ${DELAY%ms} / 1000" | bc -l)
    start_proxy "$DELAY"
    for job in $JOBS; do
      case "$job" in
      reshard)
        empty_cluster 3; "$RC" create $(addrs 3) --yes >/dev/null
        "$dir/benchtool" load -addr $HOST:$BASE -keys "$KEYS" -size "$SIZE" >/dev/null
        ids=($(id_of $BASE) $(id_of $((BASE + 1))) $(id_of $((BASE + 2))))
        t=0; cli=(); cli1000=(); rc=()
        for ((r = 0; r < RUNS; r++)); do
          to=${ids[$((t++ % 3))]}; cli+=($(secs redis-cli --cluster reshard $HOST:$BASE --cluster-from all --cluster-to "$to" --cluster-slots "$SLOTS" --cluster-yes)); verify
          to=${ids[$((t++ % 3))]}; rc+=($(secs "$RC" reshard $HOST:$BASE --from all --to "$to" --slots "$SLOTS" --yes)); verify
          to=${ids[$((t++ % 3))]}; cli1000+=($(secs redis-cli --cluster reshard $HOST:$BASE --cluster-from all --cluster-to "$to" --cluster-slots "$SLOTS" --cluster-yes --cluster-pipeline 1000)); verify
        done
        # The floor: each source blocks for one node-to-node round trip per
        # slot (MIGRATE cannot span slots; the two sources work at once),
        # plus the busiest node's CPU in one more rcluster run.
        to=${ids[$((t++ % 3))]}
        c0=($(nodecpu 0) $(nodecpu 1) $(nodecpu 2))
        "$RC" reshard $HOST:$BASE --from all --to "$to" --slots "$SLOTS" --yes >/dev/null; verify
        cpu=0; for i in 0 1 2; do cpu=$(echo "c = $(nodecpu $i) - ${c0[$i]}; if (c > $cpu) c else $cpu" | bc); done
        floor=$(printf '%.2f' "$(echo "($SLOTS + 1) / 2 * $rtt + $cpu" | bc -l)")
        # The same floor with the round trip the proxy really gives (its
        # own scheduling adds to 2 x DELAY), measured by PINGs through it.
        real_rtt=$("$dir/benchtool" rtt -addr $HOST:$BASE)
        real_floor=$(printf '%.2f' "$(echo "($SLOTS + 1) / 2 * $real_rtt + $cpu" | bc -l)")
        b=$(best "${rc[@]}")
        results+=("| $DELAY | reshard $SLOTS slots of $KEYS keys, 3 masters | $(best "${cli[@]}") s | $(best "${cli1000[@]}") s | $b s | $(ratio "$(best "${cli[@]}")" "$b")x | $(ratio "$(best "${cli1000[@]}")" "$b")x | $floor s ($(ratio "$b" "$floor")x); measured RTT $real_rtt s: $real_floor s ($(ratio "$b" "$real_floor")x) |")
        echo "$DELAY reshard: redis-cli ${cli[*]} / pipeline 1000 ${cli1000[*]} / rcluster ${rc[*]}; floor $floor s = $(( (SLOTS + 1) / 2 )) x $(echo "2 * ${DELAY%ms}" | bc) ms + busiest node's CPU $cpu s; with the measured RTT $real_rtt s: $real_floor s" >&2
        ;;
      rebalance)
        empty_cluster 6; "$RC" create $(addrs 6) --yes >/dev/null
        "$dir/benchtool" load -addr $HOST:$BASE -keys "$KEYS" -size "$SIZE" >/dev/null
        ids=(); for i in 0 1 2 3 4 5; do ids+=($(id_of $((BASE + i)))); done
        heavy=("${ids[0]}=3" "${ids[1]}=3" "${ids[2]}=3")
        cli=(); rc=()
        # Each tool takes 1:1:1:1:1:1 to 3:3:3:1:1:1; rcluster puts it back, untimed.
        for ((r = 0; r < MOVE_RUNS; r++)); do
          cli+=($(secs redis-cli --cluster rebalance $HOST:$BASE --cluster-weight "${heavy[@]}")); verify
          "$RC" rebalance $HOST:$BASE >/dev/null; verify
          rc+=($(secs "$RC" rebalance $HOST:$BASE --weight "${heavy[@]}")); verify
          "$RC" rebalance $HOST:$BASE >/dev/null; verify
        done
        b=$(best "${rc[@]}")
        results+=("| $DELAY | rebalance 6 masters, $KEYS keys, 1:1:1:1:1:1 -> 3:3:3:1:1:1 | $(best "${cli[@]}") s | | $b s | $(ratio "$(best "${cli[@]}")" "$b")x | | |")
        echo "$DELAY rebalance: redis-cli ${cli[*]} / rcluster ${rc[*]}" >&2
        ;;
      create)
        empty_cluster "$NODES"; cli=(); rc=()
        for ((r = 0; r < RUNS; r++)); do
          cli+=($(secs redis-cli --cluster create $(addrs "$NODES") --cluster-replicas 1 --cluster-yes)); empty_cluster "$NODES"
          rc+=($(secs "$RC" create $(addrs "$NODES") --replicas 1 --yes)); empty_cluster "$NODES"
        done
        b=$(best "${rc[@]}")
        results+=("| $DELAY | create $NODES nodes, --replicas 1 | $(best "${cli[@]}") s | | $b s | $(ratio "$(best "${cli[@]}")" "$b")x | | |")
        echo "$DELAY create: redis-cli ${cli[*]} / rcluster ${rc[*]}" >&2
        ;;
      add-node)
        # A 6-node cluster (--replicas 1); node 6, empty, is added as a
        # master and removed again (untimed) by each tool in turn. A node
        # removed is reset hard, so it comes back with a new ID (the
        # others refuse a forgotten ID for 60 s).
        [ "$NODES" -ge 7 ] || { echo "add-node needs NODES >= 7" >&2; exit 2; }
        empty_cluster 7; "$RC" create $(addrs 6) --replicas 1 --yes >/dev/null
        spare=$((BASE + 6)); cli=(); rc=()
        # known N: wait (bounded) until nodes 0..N-1 each know N nodes, none
        # of them still in handshake (under a temporary ID).
        known() { local t i ok; for ((t = 0; t < 200; t++)); do ok=1
            for ((i = 0; i < $1; i++)); do
              [ "$(redis-cli -p $((BASE + i)) cluster nodes | grep -vc handshake)" = "$1" ] || { ok=0; break; }
            done; [ $ok = 1 ] && return; sleep 0.1; done
          echo "the cluster did not come to know $1 nodes" >&2; exit 1; }
        remove_spare() { known 7; "$RC" del-node $HOST:$BASE "$(id_of $spare)" >"$dir/del.out" 2>&1 || { cat "$dir/del.out" >&2; exit 1; }
          redis-cli -p $spare cluster reset hard >/dev/null; known 6; }
        for ((r = 0; r < RUNS; r++)); do
          cli+=($(secs redis-cli --cluster add-node $HOST:$spare $HOST:$BASE)); remove_spare
          rc+=($(secs "$RC" add-node $HOST:$spare $HOST:$BASE)); remove_spare
        done
        b=$(best "${rc[@]}")
        results+=("| $DELAY | add-node (empty master) to 6 nodes | $(best "${cli[@]}") s | | $b s | $(ratio "$(best "${cli[@]}")" "$b")x | | |")
        echo "$DELAY add-node: redis-cli ${cli[*]} / rcluster ${rc[*]}" >&2
        ;;
      *) echo "unknown job $job (reshard, rebalance, create, add-node)" >&2; exit 2 ;;
      esac
    done
    stop_proxy
  done
  echo "every connection delayed by DELAY each way (RTT 2 x DELAY); best of $RUNS runs (reshard, create), $MOVE_RUNS (rebalance); every key verified after every run"
  echo "| delay each way | job | redis-cli | redis-cli --cluster-pipeline 1000 | rcluster | speed-up vs default | vs pipeline 1000 | floor (rcluster / floor) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${results[@]}"
  ;;
scale)
  # Every command on NODES nodes (--replicas 1), redis-cli and rcluster on
  # the same cluster, with rcluster's peak resident size.
  NODES=${NODES:-150}; KEYS=${KEYS:-100000}; SIZE=${SIZE:-100}; RUNS=${RUNS:-3}
  CREATE_RUNS=${CREATE_RUNS:-1}; MOVE_RUNS=${MOVE_RUNS:-1}; SLOTS=${SLOTS:-500}
  spare=$((BASE + NODES)) # the node add-node adds and del-node removes
  start_nodes $((NODES + 1))
  rows=()
  # row LABEL CLI-ARRAY RC-ARRAY: the best run of each ("secs status rss" per run).
  row() { local -n a=$2 b=$3; local ca cb
    ca=$(printf '%s\n' "${a[@]}" | sort -g | head -1 | cut -d' ' -f1); cb=$(printf '%s\n' "${b[@]}" | sort -g | head -1 | cut -d' ' -f1)
    rows+=("| $1 | $ca s | $(printf '%s\n' "${a[@]}" | cut -d' ' -f2 | sort -u | paste -sd/) | $cb s | $(printf '%s\n' "${b[@]}" | cut -d' ' -f2 | sort -u | paste -sd/) | $(ratio "$ca" "$cb")x | $(( $(printf '%s\n' "${b[@]}" | cut -d' ' -f3 | sort -g | tail -1) / 1024 )) MB |")
    echo "$1: redis-cli $(printf '%s, ' "${a[@]}")rcluster $(printf '%s, ' "${b[@]}")(seconds exit RSS-KB)" >&2; }
  # unbalance: SLOTS slots to the first master (untimed), so that rebalance has work.
  unbalance() { "$RC" reshard $HOST:$BASE --from all --to "$(id_of $BASE)" --slots "$SLOTS" --yes >/dev/null; verify; }
  # wait_known N: every node of the cluster knows N nodes (bounded).
  wait_known() { local t i ok; for ((t = 0; t < 120; t++)); do ok=1
      for ((i = 0; i < NODES; i++)); do
        [ "$(redis-cli -p $((BASE + i)) cluster info | tr -d '\r' | awk -F: '/^cluster_known_nodes:/ {print $2}')" = "$1" ] || { ok=0; break; }
      done; [ $ok = 1 ] && return; sleep 0.5; done; echo "the cluster did not learn of $1 nodes in 60 s" >&2; exit 1; }
  # renew_spare: a fresh empty spare node (del-node shuts it down).
  renew_spare() { local t; for ((t = 0; t < 100; t++)); do redis-cli -p $spare ping >/dev/null 2>&1 || break; sleep 0.1; done
    redis-cli -p $spare shutdown nosave >/dev/null 2>&1 || true; sleep 0.2; start_node $spare; wait_node $spare; }

  cli=(); rc=()
  for ((r = 0; r < CREATE_RUNS; r++)); do
    [ $r = 0 ] || empty_cluster "$NODES"
    cli+=("$(timed redis-cli --cluster create $(addrs "$NODES") --cluster-replicas 1 --cluster-yes)"); empty_cluster "$NODES"
    rc+=("$(timed "$RC" create $(addrs "$NODES") --replicas 1 --yes)")
  done
  row "create, --replicas 1" cli rc # rcluster's cluster stays for what follows
  "$dir/benchtool" load -addr $HOST:$BASE -keys "$KEYS" -size "$SIZE" >/dev/null
  for cmd in check info; do
    cli=(); rc=()
    for ((r = 0; r < RUNS; r++)); do
      cli+=("$(timed redis-cli --cluster $cmd $HOST:$BASE)"); rc+=("$(timed "$RC" $cmd $HOST:$BASE)")
    done
    row "$cmd" cli rc
  done
  cli=(); rc=()
  for ((r = 0; r < RUNS; r++)); do
    cli+=("$(timed redis-cli --cluster fix $HOST:$BASE --cluster-yes)"); rc+=("$(timed "$RC" fix $HOST:$BASE --yes)")
  done
  row "fix, healthy cluster" cli rc
  cli=(); rc=()
  for ((r = 0; r < RUNS; r++)); do
    cli+=("$(timed redis-cli --cluster rebalance $HOST:$BASE)"); rc+=("$(timed "$RC" rebalance $HOST:$BASE)")
  done
  row "rebalance, balanced cluster" cli rc
  cli=(); rc=()
  for ((r = 0; r < MOVE_RUNS; r++)); do
    unbalance; cli+=("$(timed redis-cli --cluster rebalance $HOST:$BASE)"); verify
    unbalance; rc+=("$(timed "$RC" rebalance $HOST:$BASE)"); verify
  done
  row "rebalance after $SLOTS slots went to one master" cli rc
  cli=(); rc=()
  for ((r = 0; r < MOVE_RUNS; r++)); do
    cli+=("$(timed redis-cli --cluster reshard $HOST:$BASE --cluster-from all --cluster-to "$(id_of $((BASE + 1)))" --cluster-slots "$SLOTS" --cluster-yes)"); verify
    rc+=("$(timed "$RC" reshard $HOST:$BASE --from all --to "$(id_of $((BASE + 2)))" --slots "$SLOTS" --yes)"); verify
  done
  row "reshard $SLOTS slots from all masters" cli rc
  acli=(); dcli=(); arc=(); drc=()
  for ((r = 0; r < MOVE_RUNS; r++)); do
    renew_spare; acli+=("$(timed redis-cli --cluster add-node $HOST:$spare $HOST:$BASE)"); wait_known $((NODES + 1))
    dcli+=("$(timed redis-cli --cluster del-node $HOST:$BASE "$(id_of $spare)")"); wait_known "$NODES"
    renew_spare; arc+=("$(timed "$RC" add-node $HOST:$spare $HOST:$BASE)"); wait_known $((NODES + 1))
    drc+=("$(timed "$RC" del-node $HOST:$BASE "$(id_of $spare)")"); wait_known "$NODES"
  done
  row "add-node (empty master)" acli arc
  row "del-node" dcli drc
  verify
  echo "$NODES nodes (--replicas 1), $KEYS keys; best of $RUNS runs (check, info, fix, balanced rebalance), $MOVE_RUNS (moves, add/del-node), $CREATE_RUNS (create)"
  echo "| job | redis-cli | exit | rcluster | exit | speed-up | rcluster peak RSS |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  ;;
*) echo "usage: $0 reshard|rebalance|create|latency|scale" >&2; exit 2 ;;
esac
