package join

import (
	"context"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Address is a node to create a cluster of, or to add.
type Address struct {
	Host string
	Port int
}

func (a Address) String() string { return a.Host + ":" + strconv.Itoa(a.Port) }

// Probed is what Probe found.
type Probed struct {
	// Nodes are the nodes, in the order given, connected and loaded with
	// their own CLUSTER NODES line (ID, bus port); nil after an error.
	Nodes []*inspect.Node
	// Info is the INFO reply of the first node that answered it ("" if
	// none did): its server and version tell which CLI's words to use.
	Info string
}

// ConnectError: a node could not be connected to (Err is the dialer's:
// *node.ConnectError, *node.AuthError, *node.TLSError...).
type ConnectError struct {
	Addr Address
	Err  error
}

func (e *ConnectError) Error() string { return e.Addr.String() + ": " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// NotClusterNodeError: the node is not in cluster mode, or did not answer
// INFO (Err, nil when it answered without cluster_enabled:1).
type NotClusterNodeError struct {
	Node *inspect.Node
	Err  error
}

func (e *NotClusterNodeError) Error() string {
	if e.Err != nil {
		return e.Node.Addr() + " is not configured as a cluster node: " + e.Err.Error()
	}
	return e.Node.Addr() + " is not configured as a cluster node"
}

// NotNewError: the node holds keys in database 0 or already knows other
// nodes, or its CLUSTER INFO failed (Err).
type NotNewError struct {
	Node *inspect.Node
	Err  error
}

func (e *NotNewError) Error() string {
	if e.Err != nil {
		return e.Node.Addr() + " is not empty: " + e.Err.Error()
	}
	return e.Node.Addr() + " is not empty: it holds keys or knows other nodes"
}

// SameNodeError: two addresses given reach the same node (ID).
type SameNodeError struct {
	Addr, Prev string
	ID         string
}

func (e *SameNodeError) Error() string {
	return e.Addr + " and " + e.Prev + " are the same node " + e.ID
}

// Probe connects to every address and checks, before anything is written,
// that each is a reachable, empty cluster node given only once. The nodes
// are probed at once; an error names the first failing node in the order
// given: a *ConnectError, *NotClusterNodeError, *NodeError (CLUSTER NODES
// failed; its Err is cluster.ErrBadNodesReply when the reply made no
// sense), *NotNewError or *SameNodeError. On error every connection is
// closed.
func Probe(ctx context.Context, dial node.Dialer, addrs []Address) (Probed, error) {
	type probe struct {
		client            node.Client
		dialErr           error
		info, cinfo       string
		infoErr, nodesErr error
		cinfoErr          error
		own               *cluster.Line
	}
	res := make([]probe, len(addrs))
	node.Each(len(addrs), func(i int) {
		a, r := addrs[i], &res[i]
		r.client, r.dialErr = dial(ctx, a.Host, a.Port)
		if r.dialErr != nil {
			return
		}
		c := r.client
		r.info, r.infoErr = node.Str(c.Do(ctx, "INFO"))
		if r.infoErr != nil {
			return
		}
		r.own, r.nodesErr = inspect.OwnLine(ctx, c)
		if !strings.Contains(r.info, "db0:") {
			r.cinfo, r.cinfoErr = node.ClusterInfo(ctx, c)
		}
	})
	var p Probed
	for _, r := range res {
		if r.info != "" {
			p.Info = r.info
			break
		}
	}
	fail := func(err error) (Probed, error) {
		for _, r := range res {
			if r.client != nil {
				r.client.Close()
			}
		}
		return Probed{Info: p.Info}, err
	}
	nodes := make([]*inspect.Node, len(addrs))
	seen := map[string]*inspect.Node{}
	for i, a := range addrs {
		r := res[i]
		n := &inspect.Node{Node: &cluster.Node{Host: a.Host, Port: a.Port}, Client: r.client}
		nodes[i] = n
		switch {
		case r.dialErr != nil:
			return fail(&ConnectError{Addr: a, Err: r.dialErr})
		case r.infoErr != nil:
			return fail(&NotClusterNodeError{Node: n, Err: r.infoErr})
		}
		if v, _ := node.InfoField(r.info, "cluster_enabled"); cluster.Atoi(v) != 1 {
			return fail(&NotClusterNodeError{Node: n})
		}
		if r.nodesErr != nil {
			return fail(&NodeError{Node: n, Err: r.nodesErr})
		}
		if r.own != nil {
			n.Apply(r.own, true)
		}
		if strings.Contains(r.info, "db0:") {
			return fail(&NotNewError{Node: n})
		}
		if r.cinfoErr != nil {
			return fail(&NotNewError{Node: n, Err: r.cinfoErr})
		}
		if v, _ := node.InfoField(r.cinfo, "cluster_known_nodes"); cluster.Atoi(v) != 1 {
			return fail(&NotNewError{Node: n})
		}
	}
	// redis-cli accepts a node given twice and builds a broken cluster: refuse.
	for _, n := range nodes {
		if prev, dup := seen[n.ID]; dup {
			return fail(&SameNodeError{Addr: n.Addr(), Prev: prev.Addr(), ID: n.ID})
		}
		seen[n.ID] = n
	}
	p.Nodes = nodes
	return p, nil
}
