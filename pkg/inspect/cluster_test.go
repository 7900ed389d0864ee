package inspect

import (
	"context"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// keyCounts answers CLUSTER COUNTKEYSINSLOT from a map of slot to keys.
type keyCounts struct {
	node.Client
	keys map[int]int64
}

func (c keyCounts) Pipeline(_ context.Context, cmds []node.Cmd) []node.Result {
	out := make([]node.Result, len(cmds))
	for i, cmd := range cmds {
		out[i].Val = c.keys[cmd[2].(int)]
	}
	return out
}

// TestCountUnreachable: a master that could not be loaded makes fixing
// "dangerous" only if it was not failed over: no loaded master claims one
// of the slots it owns in the entry node's view or holds keys in one.
func TestCountUnreachable(t *testing.T) {
	ctx := context.Background()
	live := &Node{Node: &cluster.Node{ID: "live", Host: "127.0.0.1", Port: 7000}}
	live.Slots.AddRange(0, 5460) // the dead master's replica took its slots
	live.Client = keyCounts{keys: map[int]int64{}}
	c := &Cluster{Nodes: []*Node{live}}

	staleView := cluster.SlotsOf(2) // an importing entry node still sees the dead one owning slot 2
	c.countUnreachable(ctx, []*cluster.SlotSet{&staleView})
	if c.UnreachableMasters != 0 {
		t.Errorf("a dead master whose slots a live one claims counts: %d", c.UnreachableMasters)
	}
	var none cluster.SlotSet
	own := cluster.SlotsOf(5461, 6000)
	c.countUnreachable(ctx, []*cluster.SlotSet{&none, &own, &staleView})
	if c.UnreachableMasters != 1 {
		t.Errorf("a dead master with slots nobody claims: %d unreachable, want 1", c.UnreachableMasters)
	}
	// Its replica took over but had not heard of slot 6000 yet.
	movedLate := cluster.SlotsOf(100, 6000)
	c.countUnreachable(ctx, []*cluster.SlotSet{&movedLate})
	if c.UnreachableMasters != 0 {
		t.Errorf("a failed-over master with one slot its replica did not know: %d unreachable, want 0", c.UnreachableMasters)
	}
	// The other nodes already gave slot 100 to the replica: only slot 6000
	// is left in their view, and only the replica's keys of it tell.
	onlyLate := cluster.SlotsOf(6000)
	c.countUnreachable(ctx, []*cluster.SlotSet{&onlyLate})
	if c.UnreachableMasters != 1 {
		t.Errorf("no keys of slot 6000 anywhere: %d unreachable, want 1", c.UnreachableMasters)
	}
	live.Client = keyCounts{keys: map[int]int64{6000: 15}}
	c.countUnreachable(ctx, []*cluster.SlotSet{&onlyLate})
	if c.UnreachableMasters != 0 {
		t.Errorf("the replica holds keys of slot 6000: %d unreachable, want 0", c.UnreachableMasters)
	}
	// Keys of a slot the live master imports from the dead one are what it
	// had moved before dying: no failover.
	live.Importing = []cluster.SlotPeer{{Slot: 6000, NodeID: "dead"}}
	c.countUnreachable(ctx, []*cluster.SlotSet{&onlyLate})
	if c.UnreachableMasters != 1 {
		t.Errorf("keys of a slot imported from the dead master: %d unreachable, want 1", c.UnreachableMasters)
	}
}
