package manager

import (
	"context"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

// reshardExact moves exactly the slots o.Exact to the target, each from the
// master that owns it, with reshard's output. Slots the target already
// owns, or that no master owns, are refused before anything is written.
func (m *Manager) reshardExact(ctx context.Context, o ReshardOptions) error {
	target, err := m.reshardTarget(o)
	if err != nil {
		return err
	}
	var others []*Node
	for _, n := range m.Masters() {
		if n != target {
			others = append(others, n)
		}
	}
	var onTarget cluster.SlotSet
	for _, s := range o.Exact {
		if target.Slots.Has(s) {
			onTarget.Add(s)
		}
	}
	moves, unowned := plan.ExactMoves(reshardSources(others), o.Exact, target.ID)
	refused := false
	if onTarget.Count() > 0 {
		report.ReshardText{P: m.P}.AlreadyOnTarget(onTarget.String(), target.Addr())
		refused = true
	}
	// The target's own slots are not among the sources': they are not
	// "unowned".
	var noOwner cluster.SlotSet
	for _, s := range unowned {
		if !onTarget.Has(s) {
			noOwner.Add(s)
		}
	}
	if noOwner.Count() > 0 {
		report.ReshardText{P: m.P}.NotServed(noOwner.String())
		refused = true
	}
	if refused {
		return ErrReported
	}
	var sources []*Node
	for _, mv := range moves {
		sources = append(sources, m.NodeByID(mv.Source))
	}
	return m.runReshardPlan(ctx, o, len(o.Exact), sources, target, moves)
}
