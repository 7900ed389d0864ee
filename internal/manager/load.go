package manager

import (
	"context"
	"errors"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// CheckIsCluster sends INFO and prints redis-cli's message when the node is
// not a cluster node (or INFO fails).
func (m *Manager) CheckIsCluster(ctx context.Context, n *Node) bool {
	info, err := node.Str(n.Client.Do(ctx, "INFO"))
	if err != nil {
		m.P.NotClusterNode(n.Addr(), replyText(err))
		return false
	}
	if v, _ := node.InfoField(info, "cluster_enabled"); cluster.Atoi(v) != 1 {
		m.P.NotClusterNode(n.Addr(), "")
		return false
	}
	return true
}

// replyText is the text redis-cli has for a failed command: the error reply,
// or the I/O error.
func replyText(err error) string {
	var re *node.ReplyError
	if errors.As(err, &re) {
		return re.Msg
	}
	return err.Error()
}

// fetchNodes sends CLUSTER NODES and parses it. A reply error is returned as
// is; an unparsable reply is ErrBadNodesReply.
func fetchNodes(ctx context.Context, n *Node) ([]*cluster.Line, error) {
	text, err := node.ClusterNodes(ctx, n.Client)
	if err != nil {
		return nil, err
	}
	return cluster.ParseNodes(text)
}

// LoadOwn applies the node's own CLUSTER NODES line to it (redis-cli's
// clusterManagerNodeLoadInfo without friends). Lines after the myself line
// are ignored, as redis-cli stops there.
func LoadOwn(n *Node, lines []*cluster.Line) {
	for _, l := range lines {
		if l.Myself() {
			n.Apply(l, true)
			return
		}
	}
}

// Load loads the cluster through the entry node host:port, as
// clusterManagerLoadInfoFromNode does: the entry node first, then every node
// it knows, in its CLUSTER NODES order, leaving out nodes without an address,
// unreachable ones and those flagged fail, noaddr or disconnected.
func (m *Manager) Load(ctx context.Context, host string, port int) error {
	entry := &Node{Node: &cluster.Node{Host: host, Port: port, BusPort: port + 10000}}
	if !m.Connect(ctx, entry) {
		return ErrReported
	}
	return m.LoadFrom(ctx, entry)
}

// LoadFrom is Load with an entry node that is already connected.
func (m *Manager) LoadFrom(ctx context.Context, entry *Node) error {
	if !m.CheckIsCluster(ctx, entry) {
		entry.Client.Close()
		return ErrReported
	}
	lines, err := fetchNodes(ctx, entry)
	if err != nil {
		if errors.Is(err, cluster.ErrBadNodesReply) {
			m.P.Stderr("Error: invalid CLUSTER NODES reply\n")
		} else {
			m.P.ReplyError(entry.Addr(), replyText(err))
		}
		entry.Client.Close()
		return ErrReported
	}
	m.Close()
	m.Nodes = []*Node{entry}
	m.EntryView = lines
	m.UnreachableMasters = 0
	var friends []*Node
	for _, l := range lines {
		if l.Myself() {
			entry.Apply(l, true)
			continue
		}
		f := &Node{Node: &cluster.Node{Host: l.Host, Port: l.Port, BusPort: l.BusPort}}
		f.Apply(l, false)
		friends = append(friends, f)
	}

	// Connect to and query every friend at once; judge them in order.
	type loaded struct {
		conn  connectResult
		lines []*cluster.Line
		err   error
	}
	res := make([]loaded, len(friends))
	each(len(friends), func(i int) {
		f := friends[i]
		if f.Port == 0 {
			return
		}
		r := &res[i]
		r.conn = m.dial(ctx, f.Host, f.Port)
		if r.conn.err == nil {
			f.Client = r.conn.client
			r.lines, r.err = fetchNodes(ctx, f)
		}
	})
	for i, f := range friends {
		r := res[i]
		ok := f.Port != 0 && m.reportConnect(f.Addr(), r.conn)
		if ok && r.err != nil {
			if errors.Is(r.err, cluster.ErrBadNodesReply) {
				m.P.Stderr("Error: invalid CLUSTER NODES reply\n")
			}
			m.P.Err("[ERR] Unable to load info for node %s\n", f.Addr())
			ok = false
		}
		if ok {
			LoadOwn(f, r.lines)
			ok = !(f.NoAddr || f.Disconnected || f.Fail)
		}
		if !ok {
			if f.IsMaster() {
				m.UnreachableMasters++
			}
			m.Problems = append(m.Problems, report.Problem{Kind: "unreachable_node", Node: f.Addr(),
				Message: "node " + f.Addr() + " (" + f.ID + ") could not be loaded: " + strings.Join(f.Flags, ",")})
			if f.Client != nil {
				f.Client.Close()
			}
			continue
		}
		m.Nodes = append(m.Nodes, f)
	}
	m.countReplicas()
	return nil
}

// countReplicas sets every master's replica count and warns about replicas
// of unknown masters.
func (m *Manager) countReplicas() {
	for _, n := range m.Nodes {
		n.Replicas = 0
	}
	for _, n := range m.Nodes {
		if n.MasterID == "" {
			continue
		}
		if master := m.NodeByID(strings.ToLower(n.MasterID)); master != nil {
			master.Replicas++
		} else {
			m.P.Warn("*** WARNING: %s claims to be slave of unknown node ID %s.\n", n.Addr(), n.MasterID)
		}
	}
}
