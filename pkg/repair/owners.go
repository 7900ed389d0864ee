package repair

import (
	"context"
	"errors"
	"slices"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// MultipleOwners leaves one owner for the slot of f and moves the other
// masters' keys of it to that owner (clusterManagerFixMultipleSlotOwners).
// The owner is the master clients are served by when it is one of
// f.Owners, else, as in redis-cli, the one with the most keys; a key on
// two nodes keeps the serving master's copy (see OpenSlots).
func MultipleOwners(ctx context.Context, c *inspect.Cluster, f inspect.MultipleOwners, o Options, obs Observer) error {
	r := newRun(c, o, obs)
	slot := f.Slot
	r.obs.FixingMultipleOwners(slot)
	serving := servingMaster(c.Nodes, slot)
	owner := serving
	if !slices.Contains(f.Owners, owner) {
		var err error
		var ne *NodeError
		if owner, err = r.nodeWithMostKeys(ctx, f.Owners, slot); errors.As(err, &ne) {
			r.obs.NodeFailed(ne)
		}
	}
	if owner == nil {
		owner = f.Owners[0]
	}
	r.obs.SettingOwner(slot, owner)
	if err := r.setSlotOwner(ctx, owner, slot, false); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		if n == owner || n.IsReplica() {
			continue
		}
		keys, err := r.countKeys(ctx, n, slot)
		if err != nil {
			return err
		}
		if err := r.delSlot(ctx, n, slot, true); err != nil {
			return err
		}
		if err := r.setSlot(ctx, n, slot, node.Owner, owner.ID); err != nil {
			return err
		}
		n.Slots.Remove(slot)
		if keys == 0 {
			continue
		}
		if err := r.bindTo(ctx, n, slot, owner); err != nil {
			return err
		}
		if err := r.move(ctx, n, owner, slot, true, false, keepFor(serving, n, owner)); err != nil {
			return err
		}
		if err := r.clearSlot(ctx, n, slot); err != nil {
			return err
		}
	}
	return nil
}
