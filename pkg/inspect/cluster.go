package inspect

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// Node is a loaded node and its connection.
type Node struct {
	*cluster.Node
	Client node.Client
	// slotMap is the signature (SlotMapSignature) of the slot map the node
	// reported while loading, for the first Disagreement.
	slotMap string
}

// Cluster is a loaded cluster: the nodes that could be loaded, each with
// its connection, and what the entry node said.
type Cluster struct {
	// Nodes are the loaded nodes, the entry node first, then the others in
	// the entry node's CLUSTER NODES order.
	Nodes []*Node
	// EntryInfo is the entry node's INFO reply.
	EntryInfo string
	// EntryView is the entry node's CLUSTER NODES, including the nodes that
	// could not be loaded.
	EntryView []*cluster.Line
	// Unloaded are the nodes of the entry node's view that could not be
	// loaded, in its order.
	Unloaded []Unloaded
	// UnreachableMasters counts the masters the entry node knows of that
	// could not be loaded and that own a slot no loaded master claims. A
	// failed master whose replica took its slots over counts not:
	// repairing without it assumes nothing about data it holds.
	UnreachableMasters int
	// Orphans are the loaded replicas whose master is not loaded.
	Orphans []*Node
	// slotMapsFresh is true from loading until the first Disagreement,
	// which then compares the slot maps the nodes reported while loading.
	slotMapsFresh bool
}

// Unloaded is a node the entry node knows of that was left out.
type Unloaded struct {
	// Node is the node as the entry node sees it, or as it sees itself
	// when it answered; it has no connection.
	Node *Node
	// Err is why: a *DialError (no connection) or a *NodesError (no view
	// of its own). Nil when the node has no address or is flagged fail,
	// noaddr or disconnected (Node.Flags say which).
	Err error
}

// DialError is a failed connection to a node; Err is the dialer's error
// (node.ConnectError, node.AuthError, node.TLSError or another).
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return e.Addr + ": " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

// NotClusterError is an entry node that is not a cluster node, or whose
// INFO failed (Err).
type NotClusterError struct {
	Addr string
	Err  error
}

func (e *NotClusterError) Error() string {
	if e.Err != nil {
		return e.Addr + " is not a cluster node: " + e.Err.Error()
	}
	return e.Addr + " is not configured as a cluster node"
}
func (e *NotClusterError) Unwrap() error { return e.Err }

// NodesError is a CLUSTER NODES that failed: an error reply, an I/O error
// or a reply that cannot be parsed (cluster.ErrBadNodesReply).
type NodesError struct {
	Addr string
	Err  error
}

func (e *NodesError) Error() string { return e.Addr + ": CLUSTER NODES: " + e.Err.Error() }
func (e *NodesError) Unwrap() error { return e.Err }

// Load connects to the entry node host:port with dial and loads the
// cluster from it (see LoadFrom). A failed connection is a *DialError.
func Load(ctx context.Context, dial node.Dialer, host string, port int) (*Cluster, error) {
	entry := &Node{Node: &cluster.Node{Host: host, Port: port, BusPort: port + 10000}}
	c, err := dial(ctx, host, port)
	if err != nil {
		return nil, &DialError{Addr: entry.Addr(), Err: err}
	}
	entry.Client = c
	return LoadFrom(ctx, dial, entry)
}

// LoadFrom loads the cluster through a connected entry node, as redis-cli's
// clusterManagerLoadInfoFromNode does: the entry node first, then every
// node it knows, in its CLUSTER NODES order, leaving out (Unloaded) nodes
// without an address, unreachable ones and those flagged fail, noaddr or
// disconnected. An entry node that is not a cluster node is a
// *NotClusterError, a failed CLUSTER NODES a *NodesError; the entry's
// connection is closed then.
func LoadFrom(ctx context.Context, dial node.Dialer, entry *Node) (*Cluster, error) {
	info, err := node.Str(entry.Client.Do(ctx, "INFO"))
	c := &Cluster{EntryInfo: info}
	if err != nil {
		entry.Client.Close()
		return c, &NotClusterError{Addr: entry.Addr(), Err: err}
	}
	if v, _ := node.InfoField(info, "cluster_enabled"); cluster.Atoi(v) != 1 {
		entry.Client.Close()
		return c, &NotClusterError{Addr: entry.Addr()}
	}
	text, err := node.ClusterNodes(ctx, entry.Client)
	var lines []*cluster.Line
	if err == nil {
		lines, err = cluster.ParseNodes(text)
	}
	if err != nil {
		entry.Client.Close()
		return c, &NodesError{Addr: entry.Addr(), Err: err}
	}
	c.Nodes = []*Node{entry}
	c.EntryView = lines
	entry.slotMap, _ = SlotMapSignature(text)
	var friends []*Node
	var friendLines []*cluster.Line
	for _, l := range lines {
		if l.Myself() {
			entry.Apply(l, true)
			continue
		}
		f := &Node{Node: &cluster.Node{Host: l.Host, Port: l.Port, BusPort: l.BusPort}}
		f.Apply(l, false)
		friends = append(friends, f)
		friendLines = append(friendLines, l)
	}

	// Connect to and query every friend at once; judge them in order.
	type loaded struct {
		own *cluster.Line
		err error
	}
	res := make([]loaded, len(friends))
	node.Each(len(friends), func(i int) {
		f := friends[i]
		if f.Port == 0 {
			return
		}
		r := &res[i]
		client, err := dial(ctx, f.Host, f.Port)
		if err != nil {
			r.err = &DialError{Addr: f.Addr(), Err: err}
			return
		}
		f.Client = client
		var text string
		if text, r.own, err = ownView(ctx, client); err != nil {
			r.err = &NodesError{Addr: f.Addr(), Err: err}
			return
		}
		f.slotMap, _ = SlotMapSignature(text)
	})
	var unreachable []*cluster.SlotSet
	for i, f := range friends {
		r := res[i]
		if f.Port != 0 && r.err == nil {
			if r.own != nil {
				f.Apply(r.own, true)
			}
			if !(f.NoAddr || f.Disconnected || f.Fail) {
				c.Nodes = append(c.Nodes, f)
				continue
			}
		}
		if f.IsMaster() {
			unreachable = append(unreachable, &friendLines[i].Slots) // slots in the entry's view
		}
		if f.Client != nil {
			f.Client.Close()
			f.Client = nil
		}
		c.Unloaded = append(c.Unloaded, Unloaded{Node: f, Err: r.err})
	}
	c.countUnreachable(ctx, unreachable)
	c.Orphans = c.CountReplicas()
	c.slotMapsFresh = true
	return c, nil
}

// Reload loads the cluster again through c's entry node, as LoadFrom
// does, over c's open connections: only the nodes c has no connection to
// are dialed, and the connections of nodes no longer loaded are closed. A
// program that changed the cluster reads it back this way without
// connecting again. c's connections belong to the returned Cluster
// afterwards (c's nodes are left without).
func (c *Cluster) Reload(ctx context.Context, dial node.Dialer) (*Cluster, error) {
	if len(c.Nodes) == 0 || c.Nodes[0].Client == nil {
		return nil, errors.New("no entry node to reload the cluster through")
	}
	key := func(host string, port int) string { return host + "\x00" + strconv.Itoa(port) }
	open := map[string]node.Client{}
	for _, n := range c.Nodes[1:] {
		if n.Client != nil {
			open[key(n.Host, n.Port)] = n.Client
			n.Client = nil
		}
	}
	first := c.Nodes[0]
	entry := &Node{Node: &cluster.Node{Host: first.Host, Port: first.Port, BusPort: first.BusPort}, Client: first.Client}
	first.Client = nil
	var mu sync.Mutex // LoadFrom dials the nodes at once
	reuse := func(ctx context.Context, host string, port int) (node.Client, error) {
		mu.Lock()
		client, ok := open[key(host, port)]
		delete(open, key(host, port))
		mu.Unlock()
		if ok {
			return client, nil
		}
		return dial(ctx, host, port)
	}
	loaded, err := LoadFrom(ctx, reuse, entry)
	for _, client := range open {
		client.Close()
	}
	return loaded, err
}

// OwnLine sends CLUSTER NODES to c and parses only the node's own line
// (nil when there is none), checking the other lines' syntax.
func OwnLine(ctx context.Context, c node.Client) (*cluster.Line, error) {
	_, own, err := ownView(ctx, c)
	return own, err
}

// ownView is OwnLine with the whole CLUSTER NODES reply it parsed.
func ownView(ctx context.Context, c node.Client) (text string, own *cluster.Line, err error) {
	if text, err = node.ClusterNodes(ctx, c); err != nil {
		return "", nil, err
	}
	own, err = cluster.OwnLine(text)
	return text, own, err
}

// countUnreachable sets UnreachableMasters from the slots, in the entry
// node's view, of the masters that could not be loaded. The entry node's
// view can be stale for a slot it imports (it ignores owner changes of it).
func (c *Cluster) countUnreachable(ctx context.Context, slots []*cluster.SlotSet) {
	c.UnreachableMasters = 0
	for _, set := range slots {
		if set.Count() > 0 && !c.FailedOver(ctx, set) {
			c.UnreachableMasters++
		}
	}
}

// FailedOver reports whether an unreachable master that owns slots (in the
// entry node's view) was failed over: its promoted replica, a loaded
// master, claims one of them, or holds keys in one it does not import.
// The keys are the evidence left when every slot the replica knew of has
// already passed to it in the other nodes' views and what remains is a
// slot moved to the dead master just before it died, which its replica
// had not yet heard it owned. fix then covers that slot with the node
// holding its keys.
func (c *Cluster) FailedOver(ctx context.Context, slots *cluster.SlotSet) bool {
	masters := c.Masters()
	for _, n := range masters {
		for _, s := range slots.Slots() {
			if n.Slots.Has(s) {
				return true
			}
		}
	}
	held := make([]bool, len(masters))
	node.Each(len(masters), func(i int) {
		n := masters[i]
		var probe []int
		for _, s := range slots.Slots() {
			if !n.IsImporting(s) {
				probe = append(probe, s)
			}
		}
		found := slotsWithKeys(ctx, n, probe)
		held[i] = found.Count() > 0
	})
	return slices.Contains(held, true)
}

// CountReplicas sets every loaded master's replica count and returns the
// replicas whose master is not loaded.
func (c *Cluster) CountReplicas() []*Node {
	for _, n := range c.Nodes {
		n.Replicas = 0
	}
	var orphans []*Node
	for _, n := range c.Nodes {
		if n.MasterID == "" {
			continue
		}
		if master := c.NodeByID(strings.ToLower(n.MasterID)); master != nil {
			master.Replicas++
		} else {
			orphans = append(orphans, n)
		}
	}
	return orphans
}

// Masters returns the loaded masters, in list order.
func (c *Cluster) Masters() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.IsMaster() {
			out = append(out, n)
		}
	}
	return out
}

// NodeByID finds a loaded node by its full ID (case-insensitive).
func (c *Cluster) NodeByID(id string) *Node {
	for _, n := range c.Nodes {
		if strings.EqualFold(n.ID, id) {
			return n
		}
	}
	return nil
}

// EntryLine is the entry node's CLUSTER NODES line of node id
// (case-insensitive), or nil.
func (c *Cluster) EntryLine(id string) *cluster.Line {
	for _, l := range c.EntryView {
		if strings.EqualFold(l.ID, id) {
			return l
		}
	}
	return nil
}

// Covered is the set of slots some loaded node owns.
func (c *Cluster) Covered() cluster.SlotSet {
	var covered cluster.SlotSet
	for _, n := range c.Nodes {
		covered.Union(&n.Slots)
	}
	return covered
}

// Close closes every connection.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		if n.Client != nil {
			n.Client.Close()
			n.Client = nil
		}
	}
}
