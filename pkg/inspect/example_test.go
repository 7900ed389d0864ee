package inspect_test

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Check a cluster and list its problems. The cluster here is three masters
// started for the example, with slot 100 left open as a move cut short
// leaves it; a real program loads its own cluster through any node.
func Example() {
	servers, stop, err := redistest.ExampleCluster(3, 0)
	must(err)
	defer stop()
	name := map[string]string{}
	for i, s := range servers {
		name[s.Addr()] = fmt.Sprintf("master %d", i+1)
	}
	ctx := context.Background()
	dial := node.NewDialer(node.Options{})

	// The first master starts moving slot 100 to the third, and stops.
	c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	first := c.Nodes[0]
	var third *inspect.Node
	for _, n := range c.Nodes {
		if n.Addr() == servers[2].Addr() {
			third = n
		}
	}
	must(node.SetSlot(ctx, third.Client, 100, node.Importing, first.ID))
	must(node.SetSlot(ctx, first.Client, 100, node.Migrating, third.ID))
	c.Close()

	// Load the cluster again and run every check.
	c, err = inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	fmt.Println("nodes loaded:", len(c.Nodes), "left out:", len(c.Unloaded))
	if d := c.Disagreement(ctx); d != nil {
		fmt.Println(len(d.Nodes), "nodes do not agree about the slot map")
	}
	open := c.OpenSlots()
	for _, o := range open {
		for _, p := range o.Slots {
			peer := c.NodeByID(p.NodeID)
			fmt.Printf("%s has slot %d in %s state (with %s)\n", name[o.Node.Addr()], p.Slot, o.State, name[peer.Addr()])
		}
	}
	for _, s := range c.StrandedKeys(ctx, open) {
		fmt.Printf("%s has keys in slots it does not own: %s\n", name[s.Node.Addr()], s.Slots.String())
	}
	uncovered := c.Uncovered()
	fmt.Println("uncovered slots:", uncovered.Count())
	fmt.Println("slots with several owners:", len(c.MultipleOwners(ctx)))
	// Output:
	// nodes loaded: 3 left out: 0
	// master 1 has slot 100 in migrating state (with master 3)
	// master 3 has slot 100 in importing state (with master 1)
	// uncovered slots: 0
	// slots with several owners: 0
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
