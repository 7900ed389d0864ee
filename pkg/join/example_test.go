package join_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Make a cluster of six empty nodes, three masters with one replica each,
// then add a seventh node as a replica of the master with the fewest. The
// nodes are started for the example.
func ExampleCreate() {
	servers, stop, err := redistest.ExampleNodes(7)
	must(err)
	defer stop()
	ctx := context.Background()
	dial := node.NewDialer(node.Options{})

	addrs := make([]join.Address, 6)
	for i, s := range servers[:6] {
		addrs[i] = join.Address{Host: s.Host, Port: s.Port}
	}
	probed, err := join.Probe(ctx, dial, addrs) // refuses nodes in use before anything is written
	must(err)
	places, err := join.PlacesOf(ctx, probed.Nodes, nil) // by host: keep replicas off their master's
	must(err)
	in := make([]plan.CreateNode, len(addrs))
	for i, n := range probed.Nodes {
		in[i] = plan.CreateNode{Host: places.Of[i], Port: n.Port}
	}
	layout, err := plan.Create(in, 1)
	must(err)
	join.Assign(probed.Nodes, layout)
	must(join.Create(ctx, probed.Nodes, join.CreateOptions{Timeout: time.Minute}, join.NopObserver{}))
	for _, n := range probed.Nodes {
		n.Client.Close()
	}

	c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	fmt.Println(len(c.Masters()), "masters,", len(c.Nodes)-len(c.Masters()), "replicas")

	seventh, err := join.Probe(ctx, dial, []join.Address{{Host: servers[6].Host, Port: servers[6].Port}})
	must(err)
	master := join.LeastReplicas(c, nil, nil)
	must(join.Add(ctx, c, seventh.Nodes[0], join.AddOptions{Master: master, Timeout: time.Minute}, join.NopObserver{}))
	fmt.Println("the new node replicates a master:", seventh.Nodes[0].MasterID == master.ID)
	// Output:
	// 3 masters, 3 replicas
	// the new node replicates a master: true
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
