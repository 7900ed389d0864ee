package repair_test

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/repair"
)

// progress prints some of what a repair does; NopObserver ignores the rest.
type progress struct {
	repair.NopObserver
	name map[string]string
}

func (p progress) FixingOpenSlot(slot int) { fmt.Println("fixing open slot", slot) }

func (p progress) OwnerChosen(_ int, n *repair.Node) { fmt.Println("owner:", p.name[n.Addr()]) }

func (p progress) MoveStarted(slot int, src, dst *repair.Node) {
	fmt.Printf("moving the rest of slot %d from %s to %s\n", slot, p.name[src.Addr()], p.name[dst.Addr()])
}

func (p progress) KeysMoved(_, n int) { fmt.Println(n, "keys moved") }

// Check a cluster and repair its open slots. The cluster here is three
// masters started for the example, with a move of slot 10778 (the slot
// of "user:1") cut short after one of its three keys; a real program
// loads its own cluster through any node.
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

	// The master of the slot of "user:1" starts moving it to the first
	// master, and stops after one of its keys.
	slot := cluster.KeySlot("{user:1}")
	c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	first, owner := c.Nodes[0], c.Nodes[0]
	for _, n := range c.Nodes {
		if n.Slots.Has(slot) {
			owner = n
		}
	}
	for _, k := range []string{"{user:1}:name", "{user:1}:mail", "{user:1}:plan"} {
		_, err := owner.Client.Do(ctx, "SET", k, "v")
		must(err)
	}
	must(node.SetSlot(ctx, first.Client, slot, node.Importing, owner.ID))
	must(node.SetSlot(ctx, owner.Client, slot, node.Migrating, first.ID))
	_, err = owner.Client.Do(ctx, "MIGRATE", first.Host, first.Port, "{user:1}:name", 0, 5000)
	must(err)
	c.Close()

	// Load the cluster again, find its open slots and repair them.
	c, err = inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	var slots []int
	for _, o := range c.OpenSlots() {
		if o.State == node.Migrating {
			for _, p := range o.Slots {
				slots = append(slots, p.Slot)
			}
		}
	}
	must(repair.OpenSlots(ctx, c, slots, repair.Options{}, progress{name: name}))

	// Check again.
	after, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	defer after.Close()
	keys, err := node.CountKeysInSlot(ctx, after.Nodes[0].Client, slot)
	must(err)
	fmt.Println("open slots left:", len(after.OpenSlots()), "keys on master 1:", keys)
	// Output:
	// fixing open slot 10778
	// owner: master 1
	// moving the rest of slot 10778 from master 2 to master 1
	// 2 keys moved
	// open slots left: 0 keys on master 1: 3
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
