package admin

import (
	"context"
	"strconv"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Nodes chooses the nodes a command runs on.
type Nodes int

const (
	AllNodes     Nodes = iota
	MastersOnly        // leave out the replicas
	ReplicasOnly       // leave out the masters
	NoNodes            // none (redis-cli's --cluster-only-masters with --cluster-only-replicas)
)

// Selected are c's nodes that sel chooses, in c's order.
func Selected(c *inspect.Cluster, sel Nodes) []*inspect.Node {
	var out []*inspect.Node
	for _, n := range c.Nodes {
		replica := n.IsReplica()
		if sel == NoNodes || (sel == MastersOnly && replica) || (sel == ReplicasOnly && !replica) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// Reply is one node's answer to Call: a reply (Err nil), an error reply
// (a *node.ReplyError), or no reply at all (any other error).
type Reply struct {
	Node  *inspect.Node
	Value any
	Err   error
}

// Call sends one command to nodes, all at once (a bounded number in
// flight), and returns their replies in the order of nodes.
func Call(ctx context.Context, nodes []*inspect.Node, args ...string) []Reply {
	cmd := make([]any, len(args))
	for i, a := range args {
		cmd[i] = a
	}
	replies := make([]Reply, len(nodes))
	node.Each(len(nodes), func(i int) {
		replies[i].Node = nodes[i]
		replies[i].Value, replies[i].Err = nodes[i].Client.Do(ctx, cmd...)
	})
	return replies
}

// SetTimeout sets cluster-node-timeout to ms milliseconds on nodes and
// saves it in each node's config file (CONFIG SET, then CONFIG REWRITE),
// on all nodes at once. It returns each node's error (nil when set), in
// the order of nodes.
func SetTimeout(ctx context.Context, nodes []*inspect.Node, ms int64) []error {
	value := strconv.FormatInt(ms, 10)
	errs := make([]error, len(nodes))
	node.Each(len(nodes), func(i int) {
		c := nodes[i].Client
		if _, err := c.Do(ctx, "CONFIG", "SET", "cluster-node-timeout", value); err != nil {
			errs[i] = err
			return
		}
		_, errs[i] = c.Do(ctx, "CONFIG", "REWRITE")
	})
	return errs
}
