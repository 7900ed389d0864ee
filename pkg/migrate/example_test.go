package migrate_test

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// exampleCluster starts three redis-server masters on free ports, makes a
// cluster of them with 20000 keys, and returns their addresses and a stop
// function. (A real program connects to its own cluster instead.)
func exampleCluster() (addrs [][2]any, stop func()) {
	servers, stop, err := redistest.ExampleCluster(3, 20000)
	must(err)
	for _, s := range servers {
		addrs = append(addrs, [2]any{s.Host, s.Port})
	}
	return addrs, stop
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Reshard 10 slots from the first two masters to the third, with a
// progress callback after every slot.
func ExampleMover_MoveSlots() {
	addrs, stop := exampleCluster()
	defer stop()
	ctx := context.Background()

	// Connect to every master and read its ID and slots from its own line
	// of CLUSTER NODES.
	dial := node.NewDialer(node.Options{})
	var masters []*migrate.Node
	var sources []plan.ReshardSource
	for _, a := range addrs {
		host, port := a[0].(string), a[1].(int)
		c, err := dial(ctx, host, port)
		must(err)
		defer c.Close()
		text, err := node.ClusterNodes(ctx, c)
		must(err)
		lines, err := cluster.ParseNodes(text)
		must(err)
		for _, l := range lines {
			if l.Myself() {
				masters = append(masters, &migrate.Node{ID: l.ID, Host: host, Port: port, Conn: c})
				sources = append(sources, plan.ReshardSource{ID: l.ID, Slots: l.Slots.Slots()})
			}
		}
	}

	// Plan as redis-cli does, then move.
	target := masters[2]
	moves := plan.ReshardTable(sources[:2], 10, target.ID)
	byID := map[string]*migrate.Node{}
	for _, m := range masters {
		byID[m.ID] = m
	}
	progress := &keyCounter{}
	mover := &migrate.Mover{Opts: migrate.Options{Timeout: 60000}, Obs: progress}
	for i, mv := range moves {
		hooks := migrate.SlotHooks{Done: func(slot int) {
			fmt.Printf("source %d: slot %d moved, %d keys so far\n", i+1, slot, progress.keys)
		}}
		_, err := mover.MoveSlots(ctx, byID[mv.Source], target, mv.Slots, masters, migrate.MoveOptions{}, hooks)
		must(err)
	}
	text, err := node.ClusterNodes(ctx, target.Conn)
	must(err)
	lines, err := cluster.ParseNodes(text)
	must(err)
	for _, l := range lines {
		if l.Myself() {
			fmt.Printf("the target owns %d slots: %s\n", l.Slots.Count(), l.Slots.String())
		}
	}
	// Output:
	// source 1: slot 5461 moved, 0 keys so far
	// source 1: slot 5462 moved, 0 keys so far
	// source 1: slot 5463 moved, 3 keys so far
	// source 1: slot 5464 moved, 4 keys so far
	// source 1: slot 5465 moved, 4 keys so far
	// source 1: slot 5466 moved, 4 keys so far
	// source 2: slot 0 moved, 5 keys so far
	// source 2: slot 1 moved, 8 keys so far
	// source 2: slot 2 moved, 9 keys so far
	// source 2: slot 3 moved, 9 keys so far
	// the target owns 5471 slots: [0-3],[5461-5466],[10923-16383]
}

// keyCounter is an Observer that counts the keys moved and ignores the
// rest of what a move reports.
type keyCounter struct {
	migrate.NopObserver
	keys int
}

func (k *keyCounter) KeysMoved(_, n int) { k.keys += n }
