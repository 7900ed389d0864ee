package move_test

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/move"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Reshard 5 slots from the first master to the third, with a progress
// callback after every slot. The cluster is three masters holding 20000
// keys, started for the example; a program loads its own through any node.
func ExampleRun() {
	servers, stop, err := redistest.ExampleCluster(3, 20000)
	must(err)
	defer stop()
	ctx := context.Background()

	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	first, third := byAddr(c, servers[0].Addr()), byAddr(c, servers[2].Addr())

	moves, err := move.PlanReshard(c, 5, third, []*inspect.Node{first})
	must(err)
	res, err := move.Run(ctx, c, moves, move.Options{}, &progress{})
	must(err)
	fmt.Println("slots left:", len(res.Left[0]), "- the third master owns", third.Slots.String())
	// Output:
	// slot 0 moved, 1 keys so far
	// slot 1 moved, 4 keys so far
	// slot 2 moved, 5 keys so far
	// slot 3 moved, 5 keys so far
	// slot 4 moved, 8 keys so far
	// slots left: 0 - the third master owns [0-4],[10923-16383]
}

// progress hears every move of a run (one here) and counts its keys.
type progress struct {
	move.NopObserver
	keys int
}

func (p *progress) Move(int, plan.Move) move.MoveObserver { return p }

func (p *progress) KeysMoved(_, n int) { p.keys += n }

func (p *progress) SlotDone(slot int) { fmt.Printf("slot %d moved, %d keys so far\n", slot, p.keys) }

// A rebalance dry run with weights: the first of three masters weighs
// twice as much as the others. Nothing moves; the plan says what would.
func ExamplePlanRebalance() {
	servers, stop, err := redistest.ExampleCluster(3, 0)
	must(err)
	defer stop()
	ctx := context.Background()

	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	first := byAddr(c, servers[0].Addr())

	p, err := move.PlanRebalance(c, move.RebalanceOptions{Weights: map[*inspect.Node]float32{first: 2}, Threshold: 2})
	must(err)
	name := map[string]string{}
	for i, s := range servers {
		name[byAddr(c, s.Addr()).ID] = fmt.Sprintf("master %d", i+1)
	}
	for _, mv := range p.Moves {
		fmt.Printf("%s -> %s: %d slots\n", name[mv.Source], name[mv.Target], mv.Count())
	}
	// Output:
	// master 2 -> master 1: 1366 slots
	// master 3 -> master 1: 1365 slots
}

func byAddr(c *inspect.Cluster, addr string) *inspect.Node {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
