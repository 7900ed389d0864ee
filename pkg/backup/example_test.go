package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/backup"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Save the RDB of every master of a cluster of three, and its layout, into
// a directory. The cluster is started for the example.
func Example() {
	servers, stop, err := redistest.ExampleCluster(3, 300)
	must(err)
	defer stop()
	dir, err := os.MkdirTemp("", "rcluster-backup")
	must(err)
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c, err := inspect.Load(ctx, node.NewDialer(node.Options{}), servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()

	res, err := backup.Run(ctx, c, backup.Options{Dir: filepath.Join(dir, "today")}, nil)
	must(err)
	for _, f := range res.RDB {
		fi, err := os.Stat(f.Path)
		must(err)
		fmt.Println("RDB saved:", fi.Size() == int64(f.Size))
	}
	fmt.Println("layout:", filepath.Base(res.Layout))
	// Output:
	// RDB saved: true
	// RDB saved: true
	// RDB saved: true
	// layout: nodes.json
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
