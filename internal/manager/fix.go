package manager

import (
	"context"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// The fixers of redis-cli's fix command. They run only when Opts.Fix is set,
// which only the fix command does.

// FixOpenSlot repairs one open slot (clusterManagerFixOpenSlot).
func (m *Manager) FixOpenSlot(ctx context.Context, slot int) bool {
	return false
}

// FixSlotsCoverage assigns uncovered slots (clusterManagerFixSlotsCoverage)
// and returns how many it fixed.
func (m *Manager) FixSlotsCoverage(ctx context.Context, covered *cluster.SlotSet) int {
	return 0
}

// FixMultipleSlotOwners leaves one owner for slot (clusterManagerFixMultipleSlotOwners).
func (m *Manager) FixMultipleSlotOwners(ctx context.Context, slot int, owners []*Node) bool {
	return false
}
