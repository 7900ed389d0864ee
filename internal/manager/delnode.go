package manager

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// DelNode removes a node from the loaded cluster (clusterManagerCommandDeleteNode):
// its replicas move to other masters, every other node forgets it, and the
// node itself is reset. Unlike redis-cli, a node that is down or unreachable
// can be removed too: every reachable node forgets it.
func (m *Manager) DelNode(ctx context.Context, id string, settle time.Duration, dryRun, abandonSlots bool) error {
	full, ok := m.resolveID(id)
	if !ok {
		return ErrReported
	}
	if full == "" {
		report.JoinText{P: m.P}.NoSuchNodeID(id)
		return ErrReported
	}
	id = full
	target := m.NodeByID(id)
	if target != nil && target.Slots.Count() != 0 {
		report.JoinText{P: m.P}.NotEmpty(target.Addr())
		return ErrReported
	}
	if m.openSlotsWith(id) {
		return ErrReported
	}
	if target == nil {
		if m.unreachableOwner(ctx, id, abandonSlots) {
			return ErrReported
		}
		report.JoinText{P: m.P}.OnlyForgotten(id)
	}
	m.Plan = map[string]string{"node_id": id}
	if dryRun {
		return nil
	}
	text := report.JoinText{P: m.P}
	text.SendingForget()
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
			text.ReplicaMoved(n.Addr(), master.Addr())
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
	node.Each(len(rest), func(i int) { errs[i] = node.Forget(ctx, rest[i].Client, id) })
	for i, err := range errs {
		if err != nil {
			m.P.ReplyError(rest[i].Addr(), report.ReplyText(err))
			return ErrReported
		}
	}
	if target != nil {
		text.SendingReset()
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

// openSlotsWith refuses the removal of node id while a slot is open on it
// or towards it: forgetting a node closes every slot that points at it,
// and the keys already moved would stay on a node that does not own their
// slot.
func (m *Manager) openSlotsWith(id string) bool {
	var slots cluster.SlotSet
	for _, n := range m.Nodes {
		for _, p := range append(append([]cluster.SlotPeer(nil), n.Migrating...), n.Importing...) {
			if n.ID == id || strings.EqualFold(p.NodeID, id) {
				slots.Add(p.Slot)
			}
		}
	}
	if slots.Count() == 0 {
		return false
	}
	report.JoinText{P: m.P}.SlotsInFlight(slots.String(), id, m.Nodes[0].Addr())
	return true
}

// unreachableOwner refuses, unless abandon, the removal of an unreachable
// master that still owns slots and was not failed over: its slots would be
// left uncovered and its replicas, re-pointed to another master, would
// drop the only other copy of their keys. It names the replicas that can
// take over.
func (m *Manager) unreachableOwner(ctx context.Context, id string, abandon bool) bool {
	l := m.EntryLine(id)
	if l == nil || l.Slots.Count() == 0 || m.FailedOver(ctx, &l.Slots) {
		return false
	}
	slots, addr := l.Slots, l.Host+":"+strconv.Itoa(l.Port)
	if abandon {
		report.JoinText{P: m.P}.AbandoningSlots(addr, slots.String())
		return false
	}
	var replicas []string
	for _, n := range m.Nodes {
		if strings.EqualFold(n.MasterID, id) {
			replicas = append(replicas, n.Addr())
		}
	}
	report.JoinText{P: m.P}.UnreachableOwner(addr, slots.String(), replicas)
	return true
}
