package repair

import (
	"context"
	"time"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// Uncovered covers the uncovered slots (inspect.Uncovered), given in the
// order to cover them (redis-cli's: its dict's order), as redis-cli's
// clusterManagerFixSlotsCoverage does: the slots without keys go to the
// masters with the fewest slots, those with keys on one master to it,
// those with keys on several to the one with the most, the others' keys
// moved to it. Each of the three groups is covered only if Options.Confirm
// agrees. It returns how many slots it covered; on an error it stops
// there. It refuses (*UnreachableError) when masters are unreachable.
func Uncovered(ctx context.Context, c *inspect.Cluster, slots []int, o Options, obs Observer) (covered int, err error) {
	r := newRun(c, o, obs)
	if err := r.refuseUnreachable("slots coverage"); err != nil {
		return 0, err
	}
	r.obs.FixingCoverage()
	masters := c.Masters()
	withKeys := map[int][]*Node{}
	for _, slot := range slots {
		for _, n := range masters {
			keys, err := node.GetKeysInSlot(ctx, n.Client, slot, 1)
			if err != nil {
				return 0, &ScanError{Node: n, Slot: slot, Err: err}
			}
			if len(keys) > 0 {
				withKeys[slot] = append(withKeys[slot], n)
			}
		}
	}
	groups := groupByKeys(slots, withKeys)
	// cover gives each slot to the master pick chooses.
	cover := func(slots []int, pick func(slot int) *Node) error {
		for _, s := range slots {
			n := pick(s)
			r.obs.Covering(s, n)
			if err := r.setSlotOwner(ctx, n, s, false); err != nil {
				return err
			}
			n.Slots.Add(s)
			covered++
		}
		return nil
	}
	if none := groups[KeysNowhere]; len(none) > 0 {
		r.obs.UncoveredSlots(KeysNowhere, none)
		if r.confirm(KeysNowhere) {
			if err := cover(none, func(int) *Node { return leastSlotsMaster(c.Masters()) }); err != nil {
				return covered, err
			}
		}
	}
	if single := groups[KeysOnOne]; len(single) > 0 {
		r.obs.UncoveredSlots(KeysOnOne, single)
		if r.confirm(KeysOnOne) {
			if err := cover(single, func(s int) *Node { return withKeys[s][0] }); err != nil {
				return covered, err
			}
		}
	}
	if multi := groups[KeysOnSeveral]; len(multi) > 0 {
		r.obs.UncoveredSlots(KeysOnSeveral, multi)
		if r.confirm(KeysOnSeveral) {
			for _, s := range multi {
				if err := r.gather(ctx, s, withKeys[s]); err != nil {
					return covered, err
				}
				covered++
			}
		}
	}
	return covered, nil
}

// groupByKeys splits slots, keeping their order, by how many masters hold
// keys of each (withKeys).
func groupByKeys(slots []int, withKeys map[int][]*Node) map[KeysOn][]int {
	groups := map[KeysOn][]int{}
	for _, s := range slots {
		on := KeysOnSeveral
		switch len(withKeys[s]) {
		case 0:
			on = KeysNowhere
		case 1:
			on = KeysOnOne
		}
		groups[on] = append(groups[on], s)
	}
	return groups
}

// gather covers slot with the master of holders with the most keys of it
// and moves the other holders' keys to it.
func (r *run) gather(ctx context.Context, slot int, holders []*Node) error {
	target, err := r.nodeWithMostKeys(ctx, holders, slot)
	if err != nil {
		return err
	}
	r.obs.CoveringMovingKeys(slot, target)
	if err := r.setSlotOwner(ctx, target, slot, true); err != nil {
		return err
	}
	target.Slots.Add(slot)
	// The target refuses the keys (CLUSTERDOWN) until it has heard who
	// covers the slots covered just before; redis-cli races here.
	waitStateOK(ctx, target, 10*time.Second)
	for _, src := range holders {
		if src == target {
			continue
		}
		if err := r.setSlot(ctx, src, slot, node.Owner, target.ID); err != nil {
			return err
		}
		if err := r.setSlot(ctx, src, slot, node.Importing, target.ID); err != nil {
			return err
		}
		if err := r.move(ctx, src, target, slot, true, false, migrate.KeepUnknown); err != nil {
			return err
		}
		if err := r.clearSlot(ctx, src, slot); err != nil {
			return err
		}
	}
	return nil
}

// leastSlotsMaster picks the master that covers an uncovered slot without
// keys. redis-cli picks at random (re-seeded every second, so all slots of
// one second go to one master); rcluster spreads them over the masters with
// the fewest slots, deterministically: the first of them.
func leastSlotsMaster(masters []*Node) *Node {
	var best *Node
	for _, n := range masters {
		if best == nil || n.Slots.Count() < best.Slots.Count() {
			best = n
		}
	}
	return best
}
