package inspect_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Reload reads the cluster back over the connections it has: no node is
// dialed again, and it sees a change made since the load.
func TestReloadReusesConnections(t *testing.T) {
	servers := redistest.StartCluster(t, redistest.Options{Count: 3}, 0)
	ctx := context.Background()
	var dials atomic.Int32
	plain := node.NewDialer(node.Options{})
	dial := func(ctx context.Context, host string, port int) (node.Client, error) {
		dials.Add(1)
		return plain(ctx, host, port)
	}
	c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	if err != nil {
		t.Fatal(err)
	}
	if got := dials.Load(); got != 3 {
		t.Fatalf("load dialed %d nodes, want 3", got)
	}
	owner := c.Nodes[1]
	slot := owner.Slots.Slots()[0]
	for _, n := range c.Nodes {
		if err := node.SetSlot(ctx, n.Client, slot, node.Owner, c.Nodes[0].ID); err != nil {
			t.Fatal(err)
		}
	}

	again, err := c.Reload(ctx, dial)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := dials.Load(); got != 3 {
		t.Errorf("reload dialed %d more nodes, want none", got-3)
	}
	if len(again.Nodes) != 3 || again.Nodes[0].Addr() != servers[0].Addr() {
		t.Fatalf("reloaded %d nodes, entry %s", len(again.Nodes), again.Nodes[0].Addr())
	}
	if !again.Nodes[0].Slots.Has(slot) {
		t.Errorf("the reloaded entry node does not own slot %d given to it", slot)
	}
	for _, n := range c.Nodes {
		if n.Client != nil {
			t.Errorf("the old cluster still holds a connection to %s", n.Addr())
		}
	}
}
