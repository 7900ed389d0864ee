package join

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Removal is a planned removal of a node from a loaded cluster.
type Removal struct {
	// ID is the node's full ID.
	ID string
	// Node is the node, or nil when it could not be loaded (down or
	// unreachable): then every reachable node only forgets it.
	Node *inspect.Node
	// Addr is its address (from the entry node's view when not loaded).
	Addr string
	// Abandoned are the slots of an unreachable master that nobody took
	// over, left uncovered by RemoveOptions.AbandonSlots.
	Abandoned cluster.SlotSet
	// Replicas are its replicas, each with the master it will replicate:
	// the master with the fewest replicas at that point, never the node
	// removed (redis-cli sends them all to one master, maybe that one).
	Replicas []ReplicaMove
}

// ReplicaMove is a replica of the removed node and its new master.
type ReplicaMove struct{ Replica, Master *inspect.Node }

// RemoveOptions are the choices of a removal.
type RemoveOptions struct {
	// AbandonSlots removes an unreachable master that still owns slots no
	// replica took over, leaving them uncovered.
	AbandonSlots bool
}

// NotEmptyError refuses to remove a master that owns slots.
type NotEmptyError struct{ Node *inspect.Node }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("node %s owns slots: reshard them away first", e.Node.Addr())
}

// OpenSlotsError refuses to remove a node while slots are open on it or
// towards it: forgetting it closes them, and the keys already moved would
// stay on a node that does not own their slot.
type OpenSlotsError struct {
	ID    string
	Slots cluster.SlotSet
}

func (e *OpenSlotsError) Error() string {
	return fmt.Sprintf("slots %s are being moved from or to node %s", e.Slots.String(), e.ID)
}

// UnreachableOwnerError refuses to remove an unreachable master that owns
// slots no replica took over: they would be left uncovered, and its
// replicas, sent to another master, would drop the only other copy of
// their keys. Replicas are those that could take over.
type UnreachableOwnerError struct {
	Addr     string
	Slots    cluster.SlotSet
	Replicas []string
}

func (e *UnreachableOwnerError) Error() string {
	return fmt.Sprintf("the unreachable master %s owns slots %s", e.Addr, e.Slots.String())
}

// NodeError is a command a node refused, or did not answer.
type NodeError struct {
	Node *inspect.Node
	Err  error
}

func (e *NodeError) Error() string { return e.Node.Addr() + ": " + e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// PlanRemove plans the removal of node id (a full ID of c's entry view) from
// c, or refuses it with a typed error; it writes nothing. An ID no node
// knows is a *NoSuchNodeError.
func PlanRemove(ctx context.Context, c *inspect.Cluster, id string, o RemoveOptions) (*Removal, error) {
	r := &Removal{ID: id, Node: c.NodeByID(id)}
	l := c.EntryLine(id)
	switch {
	case r.Node != nil:
		r.Addr = r.Node.Addr()
	case l == nil:
		return nil, &NoSuchNodeError{ID: id}
	default:
		r.Addr = l.Host + ":" + strconv.Itoa(l.Port)
	}
	if r.Node != nil && r.Node.Slots.Count() != 0 {
		return nil, &NotEmptyError{Node: r.Node}
	}
	if slots := openSlotsWith(c, id); slots.Count() > 0 {
		return nil, &OpenSlotsError{ID: id, Slots: slots}
	}
	if r.Node == nil {
		if l.Slots.Count() > 0 && !c.FailedOver(ctx, &l.Slots) {
			if !o.AbandonSlots {
				e := &UnreachableOwnerError{Addr: r.Addr, Slots: l.Slots}
				for _, n := range c.Nodes {
					if strings.EqualFold(n.MasterID, id) {
						e.Replicas = append(e.Replicas, n.Addr())
					}
				}
				return nil, e
			}
			r.Abandoned = l.Slots
		}
	}
	planned := map[*inspect.Node]int{} // replicas planned to move to each master
	for _, n := range c.Nodes {
		if n != r.Node && n.MasterID != "" && strings.EqualFold(n.MasterID, id) {
			master := LeastReplicas(c, r.Node, planned)
			r.Replicas = append(r.Replicas, ReplicaMove{Replica: n, Master: master})
			planned[master]++
		}
	}
	return r, nil
}

// NoSuchNodeError: no node of the cluster has the ID.
type NoSuchNodeError struct{ ID string }

func (e *NoSuchNodeError) Error() string { return "no such node ID " + e.ID }

// LeastReplicas is the master with the fewest replicas (its Replicas, as
// loaded, plus those planned for it), the first in c's order on ties
// (clusterManagerNodeWithLeastReplicas); skip is left out. planned may be
// nil.
func LeastReplicas(c *inspect.Cluster, skip *inspect.Node, planned map[*inspect.Node]int) *inspect.Node {
	var best *inspect.Node
	for _, n := range c.Nodes {
		if n.IsReplica() || n == skip {
			continue
		}
		if best == nil || n.Replicas+planned[n] < best.Replicas+planned[best] {
			best = n
		}
	}
	return best
}

// openSlotsWith are the slots open on node id or towards it.
func openSlotsWith(c *inspect.Cluster, id string) cluster.SlotSet {
	var slots cluster.SlotSet
	for _, n := range c.Nodes {
		for _, p := range append(append([]cluster.SlotPeer(nil), n.Migrating...), n.Importing...) {
			if n.ID == id || strings.EqualFold(p.NodeID, id) {
				slots.Add(p.Slot)
			}
		}
	}
	return slots
}

// RemoveObserver hears a removal's steps, as redis-cli prints them.
type RemoveObserver interface {
	// Forgetting: the other nodes are about to forget the node (the
	// replicas move first).
	Forgetting()
	ReplicaMoving(replica, master *inspect.Node)
	// Resetting: the node itself is about to be reset.
	Resetting()
}

// Remove carries out r on c: the replicas move, every other node forgets
// the node at once (a forgotten node is kept out for only 60 seconds), the
// node is reset and its connection closed, and c no longer lists it. The
// first command refused stops it with a *NodeError. Wait for the cluster
// to settle afterwards (pkg/settle).
func Remove(ctx context.Context, c *inspect.Cluster, r *Removal, obs RemoveObserver) error {
	obs.Forgetting()
	for _, mv := range r.Replicas {
		obs.ReplicaMoving(mv.Replica, mv.Master)
		if err := node.Replicate(ctx, mv.Replica.Client, mv.Master.ID); err != nil {
			return &NodeError{Node: mv.Replica, Err: err}
		}
		mv.Replica.MasterID = mv.Master.ID
		mv.Master.Replicas++
	}
	var rest []*inspect.Node
	for _, n := range c.Nodes {
		if n != r.Node {
			rest = append(rest, n)
		}
	}
	errs := make([]error, len(rest))
	node.Each(len(rest), func(i int) { errs[i] = node.Forget(ctx, rest[i].Client, r.ID) })
	for i, err := range errs {
		if err != nil {
			return &NodeError{Node: rest[i], Err: err}
		}
	}
	if r.Node != nil {
		obs.Resetting()
		if err := node.ResetSoft(ctx, r.Node.Client); err != nil {
			return &NodeError{Node: r.Node, Err: err}
		}
		r.Node.Client.Close()
		r.Node.Client = nil
	}
	c.Nodes = rest
	return nil
}
