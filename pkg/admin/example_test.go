package admin_test

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/admin"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Ask every master how many keys it holds, then lower the node timeout of
// every node. The cluster is three masters started for the example.
func Example() {
	servers, stop, err := redistest.ExampleCluster(3, 300)
	must(err)
	defer stop()
	ctx := context.Background()
	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()

	var total int64
	for _, r := range admin.Call(ctx, admin.Selected(c, admin.MastersOnly), "DBSIZE") {
		must(r.Err)
		total += r.Value.(int64)
	}
	fmt.Println("keys:", total)

	failed := 0
	for _, err := range admin.SetTimeout(ctx, c.Nodes, 5000) {
		if err != nil {
			failed++
		}
	}
	fmt.Println("timeout set on", len(c.Nodes)-failed, "nodes")
	// Output:
	// keys: 300
	// timeout set on 3 nodes
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
