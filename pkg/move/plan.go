package move

import (
	"fmt"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/plan"
)

// PlanReshard plans a reshard of n slots to target, taken from sources
// with redis-cli's arithmetic (plan.ReshardTable); nil sources means every
// other master ("all"). It refuses, before anything moves, a count out of
// 1..16384 and nodes that are not masters of c or a source that is the
// target.
func PlanReshard(c *inspect.Cluster, n int, target *inspect.Node, sources []*inspect.Node) ([]plan.Move, error) {
	if n < 1 || n > cluster.NumSlots {
		return nil, fmt.Errorf("move: cannot reshard %d slots: 1 to %d", n, cluster.NumSlots)
	}
	if !isMasterOf(c, target) {
		return nil, fmt.Errorf("move: the target %s is not a master of the cluster", target.Addr())
	}
	if sources == nil {
		sources = OtherMasters(c, target)
	}
	in := make([]plan.ReshardSource, len(sources))
	for i, s := range sources {
		if !isMasterOf(c, s) || s == target {
			return nil, fmt.Errorf("move: the source %s is not another master of the cluster", s.Addr())
		}
		in[i] = plan.ReshardSource{ID: s.ID, Slots: s.Slots.Slots()}
	}
	return plan.ReshardTable(in, n, target.ID), nil
}

// OtherMasters are c's masters but target, in c's order: the sources of a
// reshard from "all".
func OtherMasters(c *inspect.Cluster, target *inspect.Node) []*inspect.Node {
	var out []*inspect.Node
	for _, m := range c.Masters() {
		if m != target {
			out = append(out, m)
		}
	}
	return out
}

func isMasterOf(c *inspect.Cluster, n *inspect.Node) bool {
	return n != nil && n.IsMaster() && c.NodeByID(n.ID) == n
}

// RebalanceOptions are what a rebalance evens out.
type RebalanceOptions struct {
	// Weights are the masters' weights; a master not in it weighs 1, one
	// weighing 0 is drained.
	Weights map[*inspect.Node]float32
	// Threshold is the imbalance, in percent of a master's share, below
	// which a master is left alone (redis-cli's default: 2).
	Threshold float64
	// UseEmptyMasters weighs the masters without slots too.
	UseEmptyMasters bool
}

// RebalancePlan is a rebalance's plan with the masters it weighed.
type RebalancePlan struct {
	*plan.RebalancePlan
	// Nodes are the masters weighed, in the order of the plan's Order,
	// Expected and Balances indexes.
	Nodes []*inspect.Node
}

// PlanRebalance plans a rebalance of c's masters with redis-cli's
// arithmetic (plan.Rebalance); its Moves are for Run.
func PlanRebalance(c *inspect.Cluster, o RebalanceOptions) (*RebalancePlan, error) {
	nodes, in := RebalanceNodes(c, o)
	p, err := plan.Rebalance(in, o.Threshold)
	if err != nil {
		return nil, err
	}
	return &RebalancePlan{RebalancePlan: p, Nodes: nodes}, nil
}

// RebalanceNodes are the masters a rebalance weighs, and the planner's view
// of them (ID, slots, weight), in c's order.
func RebalanceNodes(c *inspect.Cluster, o RebalanceOptions) ([]*inspect.Node, []plan.RebalanceNode) {
	var nodes []*inspect.Node
	var in []plan.RebalanceNode
	for _, n := range c.Nodes {
		if n.IsReplica() || (!o.UseEmptyMasters && n.Slots.Count() == 0) {
			continue
		}
		w, ok := o.Weights[n]
		if !ok {
			w = 1
		}
		nodes = append(nodes, n)
		in = append(in, plan.RebalanceNode{ID: n.ID, Slots: n.Slots.Slots(), Weight: w})
	}
	return nodes, in
}
