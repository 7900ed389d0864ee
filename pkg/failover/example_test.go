package failover_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/failover"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// progress prints a failover's steps.
type progress struct{ failover.NopObserver }

func (progress) Sending(f *failover.Failover) {
	fmt.Println("sending CLUSTER FAILOVER, mode", f.Options.Mode)
}

func (progress) Done(f *failover.Failover) { fmt.Println("every node agrees on the new master") }

// Fail the first master over to its replica, as "rcluster failover" does:
// the replica's replication is judged first, then CLUSTER FAILOVER makes
// the master hand over once the replica has all its writes, and the
// failover is waited for until every node agrees. The cluster is three
// masters with a replica each, holding 1000 keys, started for the
// example.
func Example() {
	servers, stop, err := redistest.ExampleReplicatedCluster(6, 1, 1000)
	must(err)
	defer stop()
	ctx := context.Background()
	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()

	master := c.Nodes[0] // the entry node, the first master
	var replica *inspect.Node
	for _, n := range c.Nodes {
		if n.MasterID == master.ID {
			replica = n
		}
	}
	f, err := failover.Plan(ctx, c, replica.ID, failover.Options{MaxLag: 1 << 20, Settle: time.Minute})
	must(err) // an *UnsafeError when the replica is not safe to promote
	fmt.Println("link", f.Replication.Link, "- slots", f.Slots.String())

	must(failover.Run(ctx, c, f, progress{}))
	keys, err := replica.Client.Do(ctx, "DBSIZE")
	must(err)
	fmt.Println("new master:", replica.IsMaster(), "- old master replicates it:", master.MasterID == replica.ID, "- keys:", keys)
	// Output:
	// link up - slots [0-5460]
	// sending CLUSTER FAILOVER, mode default
	// every node agrees on the new master
	// new master: true - old master replicates it: true - keys: 333
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
