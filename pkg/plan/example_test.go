package plan_test

import (
	"fmt"
	"os"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/plan"
)

// A rebalance dry run with weights: three masters of a real cluster, the
// first weighing twice as much as the others. Nothing is moved: the plan
// says which slots would go where.
func ExampleRebalance() {
	dir, err := os.MkdirTemp("", "rcluster-example")
	must(err)
	defer os.RemoveAll(dir)
	servers, err := redistest.StartProcs(redistest.Options{Count: 3}, dir)
	must(err)
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	must(redistest.CreateCluster(servers, 0))

	// Each master's ID and slots, from its own line of CLUSTER NODES.
	name := map[string]string{}
	var nodes []plan.RebalanceNode
	for i, s := range servers {
		me, err := s.Myself()
		must(err)
		name[me.ID] = fmt.Sprintf("master %d", i+1)
		weight := float32(1)
		if i == 0 {
			weight = 2
		}
		nodes = append(nodes, plan.RebalanceNode{ID: me.ID, Slots: me.SlotNumbers(), Weight: weight})
	}

	p, err := plan.Rebalance(nodes, 2) // 2%: redis-cli's default threshold
	must(err)
	fmt.Printf("total weight %.2f, balanced: %v\n", p.TotalWeight, p.Balanced)
	for _, mv := range p.Moves {
		fmt.Printf("%s -> %s: %d slots, %d-%d\n", name[mv.Source], name[mv.Target], mv.Count(), mv.Slots[0], mv.Slots[mv.Count()-1])
	}
	// Output:
	// total weight 4.00, balanced: false
	// master 2 -> master 1: 1366 slots, 5461-6826
	// master 3 -> master 1: 1365 slots, 10923-12287
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
