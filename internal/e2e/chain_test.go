package e2e

import "testing"

// TestChain runs add-node, rebalance --use-empty-masters, reshard,
// rebalance with a weight, a drain to zero and del-node back to back, with
// no sleep in between: each command must leave the cluster settled for the
// next one (rcluster check and redis-cli check pass right after each).
func TestChain(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	// 3 masters with a replica each, server 6 spare.
	c := newCluster(t, 7, 6, 1)
	keys := c.loadKeys(2000, "chain")
	const n = 6
	step := func(what string, args ...string) {
		t.Helper()
		r := rc(t, args...)
		if r.Code != 0 {
			t.Fatalf("%s: %s", what, r)
		}
		for _, tool := range []string{"rcluster", "redis-cli"} {
			var chk result
			if tool == "rcluster" {
				chk = rc(t, "check", c.addr(0))
			} else {
				chk = cli(t, "check", c.addr(0))
			}
			if chk.Code != 0 {
				t.Fatalf("%s check right after %s: %s", tool, what, chk)
			}
		}
	}
	step("add-node", "add-node", c.addr(n), c.addr(0))
	step("rebalance --use-empty-masters", "rebalance", c.addr(0), "--use-empty-masters")
	if got := c.slotsCount(n); got < 4090 {
		t.Fatalf("the new master owns %d slots after --use-empty-masters", got)
	}
	step("reshard", "reshard", c.addr(0), "--from", c.id(n), "--to", c.id(1), "--slots", "500", "--yes")
	w1 := c.id(1)[:8] + "=2"
	step("rebalance --weight", "rebalance", c.addr(0), "--weight", w1)
	// Drain the new master. Server 1 keeps its weight 2, so the drained
	// master is the only donor (TestRebalanceDrainThenOtherDonor covers a
	// drain followed by another donor); it gives its last slot away and
	// turns into a replica.
	step("drain to zero", "rebalance", c.addr(0), "--weight", c.id(n)+"=0", w1)
	if got := c.slotsCount(n); got != 0 {
		t.Fatalf("the drained master owns %d slots", got)
	}
	id := c.id(n)
	step("del-node", "del-node", c.addr(0), id)
	c.noNodeKnows(id)
	c.healthy(0)
	c.keysIntact(keys)
}
