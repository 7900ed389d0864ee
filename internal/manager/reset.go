package manager

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// ErrNotEmpty is create's (and add-node's) refusal of a node that is not
// empty, already reported; it is an ErrReported.
var ErrNotEmpty = fmt.Errorf("%w: a node is not empty", ErrReported)

// ResetTarget is a node given to reset, as it was before anything changed.
type ResetTarget struct {
	Addr   Address
	Client node.Client
	// Err is why the node could not be inspected; the other fields are
	// then unset.
	Err error
	ID  string
	// MasterID is set for a replica; Master is that master's address when
	// the node knows it.
	MasterID, Master string
	OtherNodes       int // nodes it knows besides itself
	Keys             int64
	Slots            cluster.SlotSet
	// Cluster is set when the node serves a healthy cluster: it reports
	// cluster_state:ok and owns slots or replicates a master that does.
	// It lists that cluster's masters with slots (by address, in slot
	// order), which is how the cluster is named to the user.
	Cluster []string
}

// Empty reports whether create would take the node as it is, and its
// slots could not get in the way: no other node known, no key, no slot.
func (t *ResetTarget) Empty() bool {
	return t.OtherNodes == 0 && t.Keys == 0 && t.Slots.Count() == 0
}

// NeedsFlush reports whether resetting the node drops keys, which only
// --flush allows (a master with keys refuses CLUSTER RESET; a replica drops
// its copy).
func (t *ResetTarget) NeedsFlush() bool { return t.Keys > 0 }

// NeedsForce reports whether the node serves a healthy cluster, which only
// --force allows to take away.
func (t *ResetTarget) NeedsForce() bool { return len(t.Cluster) > 0 }

// InspectNode reads what makes the node behind c not empty. An error
// reply of INFO, or cluster_enabled not 1, is an *InspectError of kind
// NotCluster.
func InspectNode(ctx context.Context, c node.Client, t *ResetTarget) error {
	info, err := node.Str(c.Do(ctx, "INFO"))
	if err != nil {
		return &InspectError{NotCluster: true, Err: err}
	}
	if v, _ := node.InfoField(info, "cluster_enabled"); cluster.Atoi(v) != 1 {
		return &InspectError{NotCluster: true}
	}
	if t.Keys, err = node.Int(c.Do(ctx, "DBSIZE")); err != nil {
		return &InspectError{Err: err}
	}
	cinfo, err := node.Str(c.Do(ctx, "CLUSTER", "INFO"))
	if err != nil {
		return &InspectError{Err: err}
	}
	text, err := node.Str(c.Do(ctx, "CLUSTER", "NODES"))
	if err != nil {
		return &InspectError{Err: err}
	}
	lines, err := cluster.ParseNodes(text)
	if err != nil {
		return &InspectError{Err: err}
	}
	byID := map[string]*cluster.Line{}
	var me *cluster.Line
	for _, l := range lines {
		byID[l.ID] = l
		if l.Myself() && me == nil {
			me = l
		}
	}
	if me == nil {
		return &InspectError{Err: errors.New("no myself line in CLUSTER NODES")}
	}
	t.ID, t.MasterID, t.Slots = me.ID, me.MasterID, me.Slots
	t.OtherNodes = len(lines) - 1
	master := me
	if t.MasterID != "" {
		master = byID[t.MasterID]
		if master != nil {
			t.Master = master.Host + ":" + fmt.Sprint(master.Port)
		}
	}
	state, _ := node.InfoField(cinfo, "cluster_state")
	if state == "ok" && master != nil && master.Slots.Count() > 0 && !hasFlag(master, "fail") {
		t.Cluster = slotMasters(lines)
	}
	return nil
}

// slotMasters lists the addresses of the masters that own slots, in the
// order of their first slot.
func slotMasters(lines []*cluster.Line) []string {
	var owners []*cluster.Line
	for _, l := range lines {
		if l.MasterID == "" && l.Slots.Count() > 0 {
			owners = append(owners, l)
		}
	}
	sort.Slice(owners, func(i, j int) bool { return owners[i].Slots.Ranges()[0].Start < owners[j].Slots.Ranges()[0].Start })
	out := make([]string, len(owners))
	for i, l := range owners {
		out[i] = l.Host + ":" + fmt.Sprint(l.Port)
	}
	return out
}

func hasFlag(l *cluster.Line, flag string) bool {
	for _, f := range l.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// InspectError is why a node could not be inspected.
type InspectError struct {
	NotCluster bool  // INFO failed, or the node is not in cluster mode
	Err        error // the reply or I/O error, if any
}

func (e *InspectError) Error() string {
	if e.Err == nil {
		return "not a cluster node"
	}
	return e.Err.Error()
}

func (e *InspectError) Unwrap() error { return e.Err }

// InspectForReset connects to every node at once and inspects it. Every
// target is returned, with Err set on those that failed; the first failure
// in argument order is reported in redis-cli's words, and then the error
// is ErrReported. A node given twice (under two names) is refused too.
// Targets keep their connection: the caller closes them (CloseTargets).
func (m *Manager) InspectForReset(ctx context.Context, addrs []Address) ([]*ResetTarget, error) {
	targets := make([]*ResetTarget, len(addrs))
	node.Each(len(addrs), func(i int) {
		t := &ResetTarget{Addr: addrs[i]}
		targets[i] = t
		c, err := m.Dial(ctx, t.Addr.Host, t.Addr.Port)
		if err != nil {
			t.Err = err
			return
		}
		t.Client = c
		t.Err = InspectNode(ctx, t.Client, t)
	})
	for _, t := range targets {
		if t.Err == nil {
			continue
		}
		addr := t.Addr.String()
		var ie *InspectError
		switch {
		case !errors.As(t.Err, &ie):
			m.reportConnect(addr, t.Err)
		case ie.NotCluster && ie.Err != nil:
			m.P.NotClusterNode(addr, report.ReplyText(ie.Err))
		case ie.NotCluster:
			m.P.NotClusterNode(addr, "")
		case errors.Is(ie.Err, cluster.ErrBadNodesReply):
			m.P.BadNodesReply()
		default:
			m.P.ReplyError(addr, report.ReplyText(ie.Err))
		}
		return targets, ErrReported
	}
	seen := map[string]*ResetTarget{}
	for _, t := range targets {
		if prev, dup := seen[t.ID]; dup {
			m.P.SameNode(t.Addr.String(), prev.Addr.String(), t.ID)
			return targets, ErrReported
		}
		seen[t.ID] = t
	}
	return targets, nil
}

// CloseTargets closes the targets' connections.
func CloseTargets(targets []*ResetTarget) {
	for _, t := range targets {
		if t != nil && t.Client != nil {
			t.Client.Close()
			t.Client = nil
		}
	}
}

// ResetNode empties the node behind c: FLUSHALL first when flush is set (a
// master with keys refuses CLUSTER RESET), then CLUSTER RESET HARD, after
// which the node knows no other node, owns no slot, has epochs 0 and a new
// ID, which it returns. Nothing needs a restart: create takes it at once.
func ResetNode(ctx context.Context, c node.Client, flush bool) (string, error) {
	if flush {
		if _, err := c.Do(ctx, "FLUSHALL"); err != nil {
			return "", err
		}
	}
	if _, err := c.Do(ctx, "CLUSTER", "RESET", "HARD"); err != nil {
		return "", err
	}
	return node.Str(c.Do(ctx, "CLUSTER", "MYID"))
}

// ResetAll resets every target that is not empty, replicas first (so that
// none is left replicating a node that forgot it, and none sees its master
// go away), then the masters; nodes of one kind all at once. It prints
// redis-cli style lines in target order and returns each target's new ID
// and error ("" and nil for an empty target, which is left alone).
func (m *Manager) ResetAll(ctx context.Context, targets []*ResetTarget, flush bool) ([]string, []error) {
	ids, errs := make([]string, len(targets)), make([]error, len(targets))
	for _, replicas := range []bool{true, false} {
		var batch []int
		for i, t := range targets {
			if !t.Empty() && (t.MasterID != "") == replicas {
				batch = append(batch, i)
			}
		}
		// A replica refuses FLUSHALL; CLUSTER RESET drops its copy anyway.
		flushes := flush && !replicas
		for _, i := range batch {
			m.P.Resetting(targets[i].Addr.String(), flushes && targets[i].NeedsFlush())
		}
		node.Each(len(batch), func(j int) {
			i := batch[j]
			ids[i], errs[i] = ResetNode(ctx, targets[i].Client, flushes && targets[i].NeedsFlush())
		})
		for _, i := range batch {
			if errs[i] != nil {
				m.P.ReplyError(targets[i].Addr.String(), report.ReplyText(errs[i]))
			}
		}
	}
	return ids, errs
}
