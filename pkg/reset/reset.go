package reset

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// Target is a node given to reset, as it was before anything changed.
type Target struct {
	Host string
	Port int
	// Client is its connection (nil when it could not be made).
	Client node.Client
	// Err is why the node could not be inspected: a *DialError or an
	// *InspectError; the fields below are then unset.
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

// Addr is the target's address as given, "host:port".
func (t *Target) Addr() string { return t.Host + ":" + fmt.Sprint(t.Port) }

// Empty reports whether create would take the node as it is, and its
// slots could not get in the way: no other node known, no key, no slot.
func (t *Target) Empty() bool {
	return t.OtherNodes == 0 && t.Keys == 0 && t.Slots.Count() == 0
}

// NeedsFlush reports whether resetting the node drops keys, which only
// Options.Flush allows (a master with keys refuses CLUSTER RESET; a
// replica drops its copy).
func (t *Target) NeedsFlush() bool { return t.Keys > 0 }

// NeedsForce reports whether the node serves a healthy cluster, which only
// Options.Force allows to take away.
func (t *Target) NeedsForce() bool { return len(t.Cluster) > 0 }

// Options are what a reset may do.
type Options struct {
	// Flush deletes the keys (FLUSHALL) of nodes that have some; without
	// it such nodes are refused.
	Flush bool
	// Force also resets nodes that serve a healthy cluster.
	Force bool
}

// Lacks says what o lacks to reset t: Flush, Force, or both (neither for
// an empty node, which is left alone).
func (t *Target) Lacks(o Options) (flush, force bool) {
	if t.Empty() {
		return false, false
	}
	return t.NeedsFlush() && !o.Flush, t.NeedsForce() && !o.Force
}

// DialError is a failed connection to a target; Err is the dialer's error
// (node.ConnectError, node.AuthError, node.TLSError or another).
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return e.Addr + ": " + e.Err.Error() }
func (e *DialError) Unwrap() error { return e.Err }

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

// TargetError is InspectAll's error for the first target that could not
// be inspected; it unwraps to the target's Err.
type TargetError struct{ Target *Target }

func (e *TargetError) Error() string { return e.Target.Addr() + ": " + e.Target.Err.Error() }
func (e *TargetError) Unwrap() error { return e.Target.Err }

// SameNodeError refuses a node given twice, under two addresses.
type SameNodeError struct{ Target, Prev *Target }

func (e *SameNodeError) Error() string {
	return fmt.Sprintf("node %s is the same node as %s (ID %s)", e.Target.Addr(), e.Prev.Addr(), e.Target.ID)
}

// RefusedError refuses a reset that Options do not allow: the first target
// that needs Flush or Force.
type RefusedError struct {
	Target                 *Target
	LacksFlush, LacksForce bool
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("node %s is not empty and cannot be reset without flush or force", e.Target.Addr())
}

// Inspect reads what makes the node behind c not empty into t. An error
// reply of INFO, or cluster_enabled not 1, is an *InspectError of kind
// NotCluster; another failure an *InspectError.
func Inspect(ctx context.Context, c node.Client, t *Target) error {
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

// InspectAll connects with dial to every target (Host and Port set) at
// once and inspects it, setting Err on those that fail. The first failure
// in the targets' order is then a *TargetError, and a node given twice
// (under two addresses) a *SameNodeError. Targets keep their connection:
// the caller closes them (Close), whatever the error.
func InspectAll(ctx context.Context, dial node.Dialer, targets []*Target) error {
	node.Each(len(targets), func(i int) {
		t := targets[i]
		c, err := dial(ctx, t.Host, t.Port)
		if err != nil {
			t.Err = &DialError{Addr: t.Addr(), Err: err}
			return
		}
		t.Client = c
		if err := Inspect(ctx, c, t); err != nil {
			t.Err = err
		}
	})
	for _, t := range targets {
		if t.Err != nil {
			return &TargetError{Target: t}
		}
	}
	seen := map[string]*Target{}
	for _, t := range targets {
		if prev, dup := seen[t.ID]; dup {
			return &SameNodeError{Target: t, Prev: prev}
		}
		seen[t.ID] = t
	}
	return nil
}

// Close closes the targets' connections.
func Close(targets []*Target) {
	for _, t := range targets {
		if t != nil && t.Client != nil {
			t.Client.Close()
			t.Client = nil
		}
	}
}

// Node empties the node behind c: FLUSHALL first when flush is set (a
// master with keys refuses CLUSTER RESET), then CLUSTER RESET HARD, after
// which the node knows no other node, owns no slot, has epochs 0 and a new
// ID, which it returns. Nothing needs a restart: create takes it at once.
func Node(ctx context.Context, c node.Client, flush bool) (string, error) {
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

// Result is one target's reset.
type Result struct {
	// Reset is set when the node was sent the reset (not empty).
	Reset bool
	// NewID is the ID the node took; Err is set instead when it refused
	// a command or did not answer.
	NewID string
	Err   error
}

// Observer hears the resets.
type Observer interface {
	// Resetting: t is about to be sent CLUSTER RESET HARD, after FLUSHALL
	// when flush. The nodes of a batch (replicas, then masters) are all
	// announced before any is sent.
	Resetting(t *Target, flush bool)
	// Failed: t's reset failed with err (after its batch).
	Failed(t *Target, err error)
}

// NopObserver ignores the resets.
type NopObserver struct{}

func (NopObserver) Resetting(*Target, bool) {}
func (NopObserver) Failed(*Target, error)   {}

// ResetAll resets every inspected target that is not empty, replicas first
// (so that none is left replicating a node that forgot it, and none sees
// its master go away), then the masters; nodes of one kind all at once.
// A master with keys is flushed first (o.Flush); a replica refuses
// FLUSHALL, and CLUSTER RESET drops its copy anyway. When o does not allow
// a target's reset (Target.Lacks) nothing is sent and the first such
// target is a *RefusedError. It returns each target's Result, in the
// targets' order; one target's failure does not stop the others.
func ResetAll(ctx context.Context, targets []*Target, o Options, obs Observer) ([]Result, error) {
	for _, t := range targets {
		if flush, force := t.Lacks(o); flush || force {
			return nil, &RefusedError{Target: t, LacksFlush: flush, LacksForce: force}
		}
	}
	res := make([]Result, len(targets))
	for _, replicas := range []bool{true, false} {
		var batch []int
		for i, t := range targets {
			if !t.Empty() && (t.MasterID != "") == replicas {
				batch = append(batch, i)
			}
		}
		flushes := o.Flush && !replicas
		for _, i := range batch {
			obs.Resetting(targets[i], flushes && targets[i].NeedsFlush())
		}
		node.Each(len(batch), func(j int) {
			i := batch[j]
			res[i].Reset = true
			res[i].NewID, res[i].Err = Node(ctx, targets[i].Client, flushes && targets[i].NeedsFlush())
		})
		for _, i := range batch {
			if res[i].Err != nil {
				obs.Failed(targets[i], res[i].Err)
			}
		}
	}
	return res, nil
}
