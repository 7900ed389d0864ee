package importer_test

import (
	"context"
	"fmt"
	"os"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/importer"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Move the 100 keys of a standalone instance into a cluster of three
// masters, counting the keys each master receives. Both are started for
// the example.
func Example() {
	servers, stop, err := redistest.ExampleCluster(3, 0)
	must(err)
	defer stop()
	dir, err := os.MkdirTemp("", "rcluster-example")
	must(err)
	defer os.RemoveAll(dir)
	source, err := redistest.StartProcs(redistest.Options{Count: 1, Standalone: true}, dir)
	must(err)
	defer redistest.StopAll(source)
	for i := 0; i < 100; i++ {
		_, err := source[0].Do("SET", fmt.Sprint("key:", i), i)
		must(err)
	}

	ctx := context.Background()
	dial := node.NewDialer(node.Options{})
	c, err := inspect.Load(ctx, dial, servers[0].Host, servers[0].Port)
	must(err)
	defer c.Close()
	src, err := dial(ctx, source[0].Host, source[0].Port)
	must(err)
	defer src.Close()

	perMaster := &counter{keys: map[*inspect.Node]int{}}
	res, err := importer.Run(ctx, c, src, importer.Options{}, perMaster)
	must(err)
	fmt.Println("keys on the source:", res.Keys, "- migrated:", res.Migrated)
	for i, s := range servers {
		for n, k := range perMaster.keys {
			if n.Addr() == s.Addr() {
				fmt.Printf("master %d: %d keys\n", i+1, k)
			}
		}
	}
	// Output:
	// keys on the source: 100 - migrated: 100
	// master 1: 33 keys
	// master 2: 30 keys
	// master 3: 37 keys
}

// counter counts the keys migrated to each master.
type counter struct {
	importer.NopObserver
	keys map[*inspect.Node]int
}

func (c *counter) Migrated(_ string, target *inspect.Node) { c.keys[target]++ }

func must(err error) {
	if err != nil {
		panic(err)
	}
}
