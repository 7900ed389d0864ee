package manager

import (
	"context"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/node"
)

// DelNode removes a node from the loaded cluster (clusterManagerCommandDeleteNode):
// its replicas move to other masters, every other node forgets it, and the
// node itself is reset. Unlike redis-cli, a node that is down or unreachable
// can be removed too: every reachable node forgets it.
func (m *Manager) DelNode(ctx context.Context, id string, settle time.Duration, dryRun bool) error {
	full, ok := m.resolveID(id)
	if !ok {
		return ErrReported
	}
	if full == "" {
		m.P.Err("[ERR] No such node ID %s\n", id)
		return ErrReported
	}
	id = full
	target := m.NodeByID(id)
	if target == nil {
		m.P.Warn("*** Node %s cannot be reached: it will only be forgotten by the other nodes.\n", id)
	} else if target.Slots.Count() != 0 {
		m.P.Err("[ERR] Node %s is not empty! Reshard data away and try again.\n", target.Addr())
		return ErrReported
	}
	m.Plan = map[string]string{"node_id": id}
	if dryRun {
		return nil
	}
	m.P.Info(">>> Sending CLUSTER FORGET messages to the cluster...\n")
	var rest []*Node
	for _, n := range m.Nodes {
		if n == target {
			continue
		}
		rest = append(rest, n)
		if n.MasterID != "" && strings.EqualFold(n.MasterID, id) {
			// redis-cli sends every orphan to the same master, possibly the
			// node being deleted; rcluster spreads them and never picks it.
			master := m.leastReplicasMaster(target)
			m.P.Info(">>> %s as replica of %s\n", n.Addr(), master.Addr())
			if !m.replied(n, node.Replicate(ctx, n.Client, master.ID)) {
				return ErrReported
			}
			n.MasterID = master.ID
			master.Replicas++
		}
	}
	// All at once: a forgotten node is only kept out for 60 seconds, so
	// every node must forget it well within that time.
	errs := make([]error, len(rest))
	each(len(rest), func(i int) { errs[i] = node.Forget(ctx, rest[i].Client, id) })
	for i, err := range errs {
		if err != nil {
			m.P.ReplyError(rest[i].Addr(), replyText(err))
			return ErrReported
		}
	}
	if target != nil {
		m.P.Info(">>> Sending CLUSTER RESET SOFT to the deleted node.\n")
		if !m.replied(target, node.ResetSoft(ctx, target.Client)) {
			return ErrReported
		}
	}
	if target != nil {
		target.Client.Close()
		target.Client = nil
	}
	m.Nodes = rest
	return m.waitSettled(ctx, time.Now().Add(settle), false)
}
