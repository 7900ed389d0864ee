package manager

import (
	"context"
	"errors"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/repair"
)

// replied prints redis-cli's message for n's error reply, if there was
// one, and reports whether the command succeeded.
func (m *Manager) replied(n *Node, err error) bool {
	if err != nil {
		m.P.ReplyError(n.Addr(), report.ReplyText(err))
		return false
	}
	return true
}

// Load loads the cluster through the entry node host:port (inspect.Load),
// printing what redis-cli prints on the way.
func (m *Manager) Load(ctx context.Context, host string, port int) error {
	c, err := inspect.Load(ctx, m.Dial, host, port)
	return m.loaded(c, err)
}

// LoadFrom is Load with an entry node that is already connected.
func (m *Manager) LoadFrom(ctx context.Context, entry *Node) error {
	c, err := inspect.LoadFrom(ctx, m.Dial, entry)
	return m.loaded(c, err)
}

// Reload loads the cluster again over the run's own connections
// (inspect.Cluster.Reload), dropping what the last load and check found:
// the cluster as a change left it, for -o json.
func (m *Manager) Reload(ctx context.Context) error {
	c, err := m.Cluster.Reload(ctx, m.Dial)
	m.Errors, m.Problems, m.Repairs, m.Keys = nil, nil, repair.Plan{}, nil
	return m.loaded(c, err)
}

// loaded prints, in redis-cli's words and order, what loading c met, and
// keeps c as the run's cluster.
func (m *Manager) loaded(c *inspect.Cluster, err error) error {
	if c != nil {
		m.P.FollowServer(c.EntryInfo)
	}
	if err != nil {
		m.reportEntryError(err)
		return ErrReported
	}
	m.Close()
	m.Cluster = *c
	for _, u := range c.Unloaded {
		var de *inspect.DialError
		var ne *inspect.NodesError
		switch {
		case errors.As(u.Err, &de):
			m.reportConnect(de.Addr, de.Err)
		case errors.As(u.Err, &ne):
			if errors.Is(ne.Err, cluster.ErrBadNodesReply) {
				m.P.BadNodesReply()
			}
			report.LoadText{P: m.P}.Unloadable(ne.Addr)
		}
		f := u.Node
		m.Problems = append(m.Problems, report.Problem{Kind: "unreachable_node", Node: f.Addr(),
			Message: "node " + f.Addr() + " (" + f.ID + ") could not be loaded: " + strings.Join(f.Flags, ",")})
	}
	m.warnOrphans(c.Orphans)
	return nil
}

// reportEntryError prints why the entry node could not be loaded.
func (m *Manager) reportEntryError(err error) {
	var de *inspect.DialError
	var nc *inspect.NotClusterError
	var ne *inspect.NodesError
	switch {
	case errors.As(err, &de):
		m.reportConnect(de.Addr, de.Err)
	case errors.As(err, &nc) && nc.Err != nil:
		m.P.NotClusterNode(nc.Addr, report.ReplyText(nc.Err))
	case errors.As(err, &nc):
		m.P.NotClusterNode(nc.Addr, "")
	case errors.As(err, &ne) && errors.Is(ne.Err, cluster.ErrBadNodesReply):
		m.P.BadNodesReply()
	case errors.As(err, &ne):
		m.P.ReplyError(ne.Addr, report.ReplyText(ne.Err))
	}
}

// warnOrphans warns about replicas of unknown masters.
func (m *Manager) warnOrphans(replicas []*Node) {
	for _, n := range replicas {
		report.LoadText{P: m.P}.UnknownMaster(n.Addr(), n.MasterID)
	}
}
