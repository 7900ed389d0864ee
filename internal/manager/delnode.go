package manager

import (
	"context"
	"errors"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/join"
)

// DelNode removes a node from the loaded cluster (clusterManagerCommandDeleteNode)
// with pkg/join: its replicas move to other masters, every other node
// forgets it, and the node itself is reset. Unlike redis-cli, a node that
// is down or unreachable can be removed too: every reachable node forgets
// it.
func (m *Manager) DelNode(ctx context.Context, id string, settle time.Duration, dryRun, abandonSlots bool) error {
	text := report.JoinText{P: m.P}
	full, ok := m.resolveID(id)
	if !ok {
		return ErrReported
	}
	if full == "" {
		text.NoSuchNodeID(id)
		return ErrReported
	}
	r, err := join.PlanRemove(ctx, &m.Cluster, full, join.RemoveOptions{AbandonSlots: abandonSlots})
	if err != nil {
		text.RemoveRefused(err, id, m.Nodes[0].Addr())
		return ErrReported
	}
	if r.Node == nil {
		if r.Abandoned.Count() > 0 {
			text.AbandoningSlots(r.Addr, r.Abandoned.String())
		}
		text.OnlyForgotten(full)
	}
	m.Plan = map[string]string{"node_id": full}
	if dryRun {
		return nil
	}
	if err := join.Remove(ctx, &m.Cluster, r, removeText{text}); err != nil {
		var ne *join.NodeError
		if errors.As(err, &ne) {
			m.P.ReplyError(ne.Node.Addr(), report.ReplyText(ne.Err))
			return ErrReported
		}
		return err
	}
	return m.WaitSettled(ctx, time.Now().Add(settle))
}

// removeText is a removal's join.RemoveObserver: redis-cli's lines.
type removeText struct{ report.JoinText }

func (t removeText) Forgetting() { t.SendingForget() }
func (t removeText) Resetting()  { t.SendingReset() }
func (t removeText) ReplicaMoving(replica, master *Node) {
	t.ReplicaMoved(replica.Addr(), master.Addr())
}
