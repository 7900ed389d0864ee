package settle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// Wait, at most ten seconds, for a cluster just made to settle, then say
// what one look finds.
func ExampleWait() {
	servers, stop, err := redistest.ExampleCluster(3, 0)
	if err != nil {
		panic(err)
	}
	defer stop()
	ctx := context.Background()
	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	if err != nil {
		panic(err)
	}
	defer c.Close()

	if err := settle.Wait(ctx, c, settle.Options{}, time.Now().Add(10*time.Second)); err != nil {
		fmt.Println(err)
		return
	}
	look := settle.Check(ctx, c, settle.Options{MatchModel: true})
	fmt.Println("settled; problems:", len(look.Problems), "same slot owners:", look.SameSlots)
	// Output:
	// settled; problems: 0 same slot owners: true
}
