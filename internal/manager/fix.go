package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/repair"
)

// fixer runs fix's repairs (pkg/repair) between the check's phases, at the
// points redis-cli runs its fixers, and tells what they do in redis-cli's
// words (report.FixText). Only Fix makes one: Check cannot repair.
type fixer struct {
	m *Manager
	report.FixText
	movePrinter
	// repairing and moving remove from the run's InFlight the slot being
	// repaired and the slots of the move in flight.
	repairing, moving func()
}

func (m *Manager) newFixer() *fixer {
	return &fixer{m: m, FixText: report.FixText{P: m.P}, movePrinter: movePrinter{MoveText: report.MoveText{P: m.P, Dots: true}, progress: m.Progress},
		repairing: func() {}, moving: func() {}}
}

// options are the repairs' options from the run's.
func (f *fixer) options() repair.Options {
	o := repair.Options{Migrate: f.m.Opts.Migrate, WithUnreachable: f.m.Opts.FixWithUnreachable}
	if f.m.Confirm != nil {
		// redis-cli asks these even with --cluster-yes; rcluster's --yes
		// answers them too (a documented difference).
		o.Confirm = func(on repair.KeysOn) bool { return f.m.Confirm(report.CoverQuestion(on)) }
	}
	return o
}

// done reports whether a repair succeeded, writing why not. A refusal and
// an interruption stop the run, as redis-cli's exit(1).
func (f *fixer) done(err error) bool {
	if err == nil {
		return true
	}
	f.Failed(err, f.m.Nodes[0].Addr())
	var ur *repair.UnreachableError
	var ie *repair.InterruptedError
	if errors.As(err, &ur) || errors.As(err, &ie) {
		f.m.Aborted = true
	}
	return false
}

// openSlots repairs the open slots, in the order given.
func (f *fixer) openSlots(ctx context.Context, slots []int) bool {
	return f.done(repair.OpenSlots(ctx, &f.m.Cluster, slots, f.options(), f))
}

// strandedKeys brings the keys of slots held by masters that do not own
// them to the owners.
func (f *fixer) strandedKeys(ctx context.Context, slots []int) bool {
	return f.done(repair.StrandedKeys(ctx, &f.m.Cluster, slots, f.options(), f))
}

// uncovered covers the uncovered slots and reports whether it covered
// some and failed nowhere.
func (f *fixer) uncovered(ctx context.Context, slots *cluster.SlotSet) bool {
	n, err := repair.Uncovered(ctx, &f.m.Cluster, f.m.P.Dialect.SlotOrder(slots.Slots()), f.options(), f)
	return f.done(err) && n > 0
}

// multipleOwners leaves one owner for the slot of o.
func (f *fixer) multipleOwners(ctx context.Context, o inspect.MultipleOwners) bool {
	if !f.done(repair.MultipleOwners(ctx, &f.m.Cluster, o, f.options(), f)) {
		f.OwnersNotFixed(o.Slot)
		return false
	}
	return true
}

// The run's side of the repairs' moments: what they have open (InFlight)
// and the progress bar.

func (f *fixer) FixingOpenSlot(slot int) {
	f.FixText.FixingOpenSlot(slot)
	f.startRepair(slot)
}

func (f *fixer) FixingStrandedKeys(slot int) {
	f.FixText.FixingStrandedKeys(slot)
	f.startRepair(slot)
}

func (f *fixer) startRepair(slot int) {
	f.repairing = f.m.InFlight.start(fmt.Sprintf("slot %d (being repaired)", slot))
}

func (f *fixer) SlotRepaired(int, error) { f.repairing() }

func (f *fixer) MoveOpen(src, dst *Node, slots []int) {
	f.moving()
	f.moving = func() {}
	if len(slots) > 0 {
		f.moving = f.m.InFlight.startMove(slots, src.Addr(), dst.Addr())
	}
}

func (f *fixer) MoveDone(slot int) {
	f.FixText.MoveDone(slot)
	f.m.Progress.Slot()
}
