package e2e

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// ScaleEnv turns on TestLargeCluster (make test-scale, which CI runs): it
// starts 150 servers, too many for the default test run.
const ScaleEnv = "RCLUSTER_SCALE"

// TestLargeCluster is issue 17 as an operator met it: on a 150-node cluster
// (--replicas 1) made by create, fix and rebalance of the healthy cluster
// have nothing to do and must say so at once, and the settle waits after
// slots moved (a reshard to one master, the rebalance that spreads them
// back) must end, with exit 0, within seconds rather than at their timeout.
func TestLargeCluster(t *testing.T) {
	if os.Getenv(ScaleEnv) != "1" {
		t.Skip("150 servers: set " + ScaleEnv + "=1 (make test-scale)")
	}
	nodes := 150
	if v, err := strconv.Atoi(os.Getenv(ScaleEnv + "_NODES")); err == nil && v >= 6 {
		nodes = v
	}
	// Modest nodes, as scripts/bench.sh scale starts them: no AOF, and the
	// default node timeout, so that a loaded machine does not flag nodes
	// as failing while 150 of them gossip.
	servers := redistest.Start(t, redistest.Options{Count: nodes, NodeTimeoutMS: 15000, Build: serverBuild,
		ExtraConfig: []string{"appendonly no"}})
	c := &cluster{t: t, servers: servers}
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.Addr())
	}
	step := func(what string, within time.Duration, args ...string) result {
		t.Helper()
		start := time.Now()
		r := rc(t, args...)
		took := time.Since(start)
		t.Logf("%s: exit %d in %v", what, r.Code, took.Round(time.Millisecond))
		wantCode(t, what, r, 0)
		if took > within {
			t.Errorf("%s took %v, more than %v; it printed:\n%s\n--- stderr\n%s", what, took.Round(time.Millisecond), within,
				lastLines(r.Stdout, 30), lastLines(r.Stderr, 30))
		}
		return r
	}
	step("create", 2*time.Minute, append(append([]string{"create"}, addrs...), "--replicas", "1", "--yes")...)
	if t.Failed() {
		t.FailNow()
	}
	step("check", 20*time.Second, "check", c.addr(0))
	// Right after create, not every node sees every replica as one yet
	// (Redis spreads a role by the node's own pings only): nothing to fix.
	step("fix of the healthy cluster", 20*time.Second, "fix", c.addr(0), "--yes")
	contains(t, "rebalance of the balanced cluster",
		step("rebalance of the balanced cluster", 20*time.Second, "rebalance", c.addr(0), "--yes").Stdout,
		"*** No rebalancing needed! All nodes are within the 2.00% threshold.\n")
	// Slots that move are waited for: every node agrees on their owners.
	step("reshard of 100 slots to one master", time.Minute,
		"reshard", c.addr(0), "--from", "all", "--to", c.id(0), "--slots", "100", "--yes")
	step("rebalance after the reshard", time.Minute, "rebalance", c.addr(0), "--yes")
	step("check after the moves", 20*time.Second, "check", c.addr(1))
}
