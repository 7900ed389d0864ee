package reset_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/reset"
)

// Empty the three masters of a cluster holding keys, so that a new
// cluster can be created with them. A node of a healthy cluster is
// refused unless Force is set, a node with keys unless Flush is. The
// cluster is started for the example.
func Example() {
	servers, stop, err := redistest.ExampleCluster(3, 100)
	must(err)
	defer stop()
	ctx := context.Background()

	var targets []*reset.Target
	for _, s := range servers {
		targets = append(targets, &reset.Target{Host: s.Host, Port: s.Port})
	}
	defer reset.Close(targets)
	must(reset.InspectAll(ctx, node.NewDialer(node.Options{}), targets))
	t := targets[0]
	fmt.Println("first node: knows", t.OtherNodes, "others, slots", t.Slots.String(), "- in a cluster of", len(t.Cluster), "masters")

	_, err = reset.ResetAll(ctx, targets, reset.Options{Flush: true}, reset.NopObserver{})
	var refused *reset.RefusedError
	fmt.Println("without Force, refused:", errors.As(err, &refused))

	res, err := reset.ResetAll(ctx, targets, reset.Options{Flush: true, Force: true}, reset.NopObserver{})
	must(err)
	for i, r := range res {
		must(r.Err)
		again := &reset.Target{}
		must(reset.Inspect(ctx, targets[i].Client, again))
		fmt.Println("node", i+1, "- new ID:", r.NewID != targets[i].ID && r.NewID == again.ID, "- empty:", again.Empty())
	}
	// Output:
	// first node: knows 2 others, slots [0-5460] - in a cluster of 3 masters
	// without Force, refused: true
	// node 1 - new ID: true - empty: true
	// node 2 - new ID: true - empty: true
	// node 3 - new ID: true - empty: true
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
