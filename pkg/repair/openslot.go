package repair

import (
	"context"
	"slices"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// OpenSlots repairs the open slots (inspect.OpenSlots), one after the
// other in the order given (redis-cli's: its dict's order), until one
// fails (clusterManagerFixOpenSlot). Each slot's keys end on one owner
// and the slot is closed everywhere. It refuses (*UnreachableError) when
// masters are unreachable. After ctx is done the slot in flight is
// repaired to the end and no other is started (*InterruptedError).
func OpenSlots(ctx context.Context, c *inspect.Cluster, slots []int, o Options, obs Observer) error {
	r := newRun(c, o, obs)
	return r.each(ctx, slots, func(ctx context.Context, slot int) error {
		if err := r.refuseUnreachable("open slots"); err != nil {
			return err
		}
		r.obs.FixingOpenSlot(slot)
		return r.repairSlot(ctx, slot)
	})
}

// StrandedKeys brings the keys of slots that masters hold without owning
// them (inspect.StrandedKeys) to the slots' owners, one slot after the
// other, as OpenSlots repairs a slot. redis-cli does not look for them.
func StrandedKeys(ctx context.Context, c *inspect.Cluster, slots []int, o Options, obs Observer) error {
	r := newRun(c, o, obs)
	if err := r.refuseUnreachable("stranded keys"); err != nil {
		return err
	}
	return r.each(ctx, slots, func(ctx context.Context, slot int) error {
		r.obs.FixingStrandedKeys(slot)
		return r.repairSlot(ctx, slot)
	})
}

// each repairs slots one after the other until one fails. After ctx is
// done the slot in flight is repaired to the end (its context is not
// cancelled) and no other is started.
func (r *run) each(ctx context.Context, slots []int, repair func(context.Context, int) error) error {
	for i, s := range slots {
		if ctx.Err() != nil {
			return &InterruptedError{Next: s, Left: cluster.SlotsOf(slots[i:]...)}
		}
		if err := repair(context.WithoutCancel(ctx), s); err != nil {
			return err
		}
	}
	return nil
}

// repairSlot brings every key of slot to one owner and closes the slot
// everywhere. It tells what redis-cli's open-slot fixer prints, in its
// order, but repairs so that no acknowledged write is lost
// (docs/reliability.md):
//   - the node clients are served by (servingMaster) stays the owner, or
//     the move it was making is finished; redis-cli picks the node with
//     the most keys, and a node that loses its slot that way deletes its
//     keys of the slot;
//   - a key on two nodes keeps the copy of the node clients were served
//     by, whatever Replace says; values are compared only when nobody
//     knows, and with DUMP where DEBUG is disabled;
//   - a node whose keys move out is first told who owns the slot, so
//     that a node left at cluster_state:fail by its importing state
//     serves MIGRATE again.
func (r *run) repairSlot(ctx context.Context, slot int) (err error) {
	defer func() { r.obs.SlotRepaired(slot, err) }()
	serving := servingMaster(r.c.Nodes, slot)
	var owners, migrating, importing []*Node
	for _, n := range r.c.Nodes {
		if n.IsReplica() {
			continue
		}
		if n.Slots.Has(slot) {
			owners = append(owners, n)
			continue
		}
		c, err := r.countKeys(ctx, n, slot)
		if err != nil {
			return err
		}
		if c > 0 {
			r.obs.KeysOnNonOwner(slot, n)
			owners = append(owners, n)
		}
	}
	var owner *Node
	if len(owners) == 1 {
		owner = owners[0]
	}
	for _, n := range r.c.Nodes {
		if n.IsReplica() {
			continue
		}
		switch {
		case n.IsMigrating(slot):
			migrating = append(migrating, n)
		case n.IsImporting(slot):
			importing = append(importing, n)
		case n != owner:
			c, err := r.countKeys(ctx, n, slot)
			if err != nil {
				return err
			}
			if c > 0 {
				r.obs.KeysOnNode(slot, n)
				importing = append(importing, n)
			}
		}
	}
	// As found: the lists below change as the repair goes.
	unhandled := &UnhandledError{Slot: slot, Migrating: slices.Clone(migrating), Importing: slices.Clone(importing)}
	r.obs.SlotStates(slot, migrating, importing)
	if owner == nil {
		r.obs.NoClearOwner(slot)
		if dst := unfinishedMove(slot, serving, owners, migrating, importing); dst != nil {
			return r.finishMove(ctx, slot, serving, dst)
		}
		owner = serving
		if owner == nil {
			if owner, err = r.nodeWithMostKeys(ctx, r.c.Nodes, slot); err != nil || owner == nil {
				return &NoOwnerError{Slot: slot, Err: err}
			}
		}
		r.obs.OwnerChosen(slot, owner)
		if err := r.clearSlot(ctx, owner, slot); err != nil {
			return err
		}
		if err := r.setSlotOwner(ctx, owner, slot, false); err != nil {
			return err
		}
		owner.Slots.Add(slot)
		migrating = without(migrating, owner)
		importing = without(importing, owner)
	}
	unhandled.Owner = owner
	if len(owners) > 1 {
		for _, n := range owners {
			if n == owner {
				continue
			}
			if err := r.delSlot(ctx, n, slot, true); err != nil {
				return err
			}
			n.Slots.Remove(slot)
			if err := r.setSlot(ctx, n, slot, node.Owner, owner.ID); err != nil {
				return err
			}
			if err := r.setSlot(ctx, n, slot, node.Importing, owner.ID); err != nil {
				return err
			}
			importing = append(without(importing, n), n)
			migrating = without(migrating, n)
		}
	}
	switch {
	case len(migrating) == 1 && len(importing) == 1:
		src, dst := migrating[0], importing[0]
		r.obs.MovingSlot(slot, src, dst)
		return r.move(ctx, src, dst, slot, false, true, keepFor(serving, src, dst))
	case len(migrating) == 0 && len(importing) > 0:
		r.obs.MovingKeysToOwner(slot, owner)
		for _, n := range importing {
			if n == owner {
				continue
			}
			if err := r.bindTo(ctx, n, slot, owner); err != nil {
				return err
			}
			if err := r.move(ctx, n, owner, slot, true, false, keepFor(serving, n, owner)); err != nil {
				return err
			}
			r.obs.SettingStable(slot, n)
			if err := r.clearSlot(ctx, n, slot); err != nil {
				return err
			}
		}
		return r.tellOwner(ctx, slot, owner)
	case len(migrating) == 1 && len(importing) > 1:
		return r.closeImporters(ctx, slot, serving, migrating[0], importing, unhandled)
	}
	closable := len(importing) == 0 && len(migrating) == 1
	if closable && owner != migrating[0] {
		keys, err := node.GetKeysInSlot(ctx, migrating[0].Client, slot, 10)
		if err != nil {
			return failed(migrating[0], err)
		}
		closable = len(keys) == 0
	}
	if !closable {
		return unhandled
	}
	n := migrating[0]
	r.obs.ClosingSlot(slot, n)
	return r.clearSlot(ctx, n, slot)
}

// closeImporters repairs a slot migrating on src and importing on several
// masters, none of which may hold keys of it (redis-cli's Case 3): the
// slot moves to the one src migrates it to and is closed on the others,
// or, when src migrates it to none of them, closed everywhere.
func (r *run) closeImporters(ctx context.Context, slot int, serving, src *Node, importing []*Node, unhandled *UnhandledError) error {
	targetID := ""
	for _, p := range src.Migrating {
		if p.Slot == slot {
			targetID = p.NodeID
			break
		}
	}
	var dst *Node
	for _, n := range importing {
		c, err := r.countKeys(ctx, n, slot)
		if err != nil {
			return err
		}
		if c > 0 {
			return unhandled
		}
		if n.ID == targetID {
			dst = n
		}
	}
	if dst != nil {
		r.obs.MovingSlotClosingImporters(slot, src, dst)
		if err := r.move(ctx, src, dst, slot, false, false, keepFor(serving, src, dst)); err != nil {
			return err
		}
		for _, n := range importing {
			if n == dst {
				continue
			}
			if err := r.clearSlot(ctx, n, slot); err != nil {
				return err
			}
		}
		return nil
	}
	r.obs.ClosingEverywhere(slot)
	for _, n := range append([]*Node{src}, importing...) {
		if err := r.clearSlot(ctx, n, slot); err != nil {
			return err
		}
	}
	return nil
}

// servingMaster is the master among nodes that clients are sent to for
// slot: the one that claims it in its own view, or, when two claim it,
// the one whose claim has the higher config epoch and wins. nil when
// nobody claims it, or two with the same epoch do.
func servingMaster(nodes []*Node, slot int) *Node {
	var best *Node
	tie := false
	for _, n := range nodes {
		if n.IsReplica() || !n.Slots.Has(slot) {
			continue
		}
		switch {
		case best == nil || n.ConfigEpoch > best.ConfigEpoch:
			best, tie = n, false
		case n.ConfigEpoch == best.ConfigEpoch:
			tie = true
		}
	}
	if tie {
		return nil
	}
	return best
}

// unfinishedMove returns the target of the move that serving was making
// when it stopped, if the slot is in that state and no other node has
// keys or a state for it: the move can then simply go on.
func unfinishedMove(slot int, serving *Node, owners, migrating, importing []*Node) *Node {
	if serving == nil || len(migrating) != 1 || migrating[0] != serving || len(importing) != 1 {
		return nil
	}
	dst := importing[0]
	for _, p := range serving.Migrating {
		if p.Slot == slot && p.NodeID != dst.ID {
			return nil
		}
	}
	for _, n := range owners {
		if n != serving && n != dst {
			return nil
		}
	}
	return dst
}

// finishMove ends an unfinished move by moving the rest of the slot from
// src to dst with the full protocol: clients keep being redirected to dst
// for the keys that already moved, and src's copy of a key on both wins.
// It tells what redis-cli tells when it picks dst as the owner (Case 2).
func (r *run) finishMove(ctx context.Context, slot int, src, dst *Node) error {
	r.obs.OwnerChosen(slot, dst)
	r.obs.MovingKeysToOwner(slot, dst)
	if err := r.move(ctx, src, dst, slot, false, true, migrate.KeepSource); err != nil {
		return err
	}
	r.obs.SettingStable(slot, src)
	return r.clearSlot(ctx, src, slot)
}

// keepFor says whose copy of a key on both nodes wins when keys move from
// src to dst: the copy on the node clients were served by.
func keepFor(serving, src, dst *Node) migrate.Keep {
	switch serving {
	case src:
		return migrate.KeepSource
	case dst:
		return migrate.KeepTarget
	}
	return migrate.KeepUnknown // nobody served the slot, or a third node did
}

// bindTo prepares n, which holds keys of slot without owning it, to send
// them to owner: n learns that owner owns the slot (a node that imports a
// slot ignores the owner's claims, and if it still thinks a failed node
// owns it, it answers CLUSTERDOWN to everything, MIGRATE included), and it
// is set importing, the state in which a node runs MIGRATE for a slot it
// does not own.
//
// A move of several slots cut short leaves n importing the others from
// the same gone node: n stays at cluster_state:fail until it learns their
// owners too, so each of them is bound to its serving master as well (its
// keys move when its turn comes).
func (r *run) bindTo(ctx context.Context, n *Node, slot int, owner *Node) error {
	if err := r.setSlot(ctx, n, slot, node.Owner, owner.ID); err != nil {
		return err
	}
	if err := r.setSlot(ctx, n, slot, node.Importing, owner.ID); err != nil {
		return err
	}
	for _, p := range n.Importing {
		if peer := r.c.NodeByID(p.NodeID); p.Slot == slot || (peer != nil && peer.IsMaster()) {
			continue
		}
		serving := servingMaster(r.c.Nodes, p.Slot)
		if serving == nil || serving == n {
			continue
		}
		if err := r.setSlot(ctx, n, p.Slot, node.Owner, serving.ID); err != nil {
			return err
		}
		if err := r.setSlot(ctx, n, p.Slot, node.Importing, serving.ID); err != nil {
			return err
		}
	}
	return nil
}

// tellOwner tells every master but owner that owner owns slot.
func (r *run) tellOwner(ctx context.Context, slot int, owner *Node) error {
	for _, n := range r.c.Nodes {
		if n == owner || n.IsReplica() {
			continue
		}
		if err := r.setSlot(ctx, n, slot, node.Owner, owner.ID); err != nil {
			return err
		}
	}
	return nil
}

func without(l []*Node, n *Node) []*Node {
	out := l[:0:0]
	for _, x := range l {
		if x != n {
			out = append(out, x)
		}
	}
	return out
}
