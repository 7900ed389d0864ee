package manager

import (
	"context"
	"fmt"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

// ApplyOptions are apply's settings.
type ApplyOptions struct {
	Plan report.PlanFile
	// Resume continues an interrupted apply: the planned slots already on
	// their target are done. Moved, what the earlier run recorded as
	// moved, must be on its target.
	Resume bool
	Moved  cluster.SlotSet
	// Record, when set, is told the planned slots that are on their target:
	// before the first move, and after every batch of slots moved.
	Record func(moved cluster.SlotSet)
	// FailoversDone are the masters (IDs) of an evacuation plan whose
	// failover an earlier apply recorded as done; RecordFailovers, when
	// set, is told them before the first failover and after each.
	FailoversDone   []string
	RecordFailovers func(done []string)
}

// PlanMoves reads the moves of a plan file, refusing one this build cannot
// carry out: another version or command, a move between nodes the plan
// does not list, a bad or repeated slot, a reshard with several targets.
func PlanMoves(pf report.PlanFile) ([]plan.Move, error) {
	if err := checkPlanVersion(pf); err != nil {
		return nil, err
	}
	if pf.Command != "reshard" && pf.Command != "rebalance" {
		return nil, fmt.Errorf("command %q, not reshard or rebalance", pf.Command)
	}
	nodes := map[string]bool{}
	for _, n := range pf.Nodes {
		nodes[n.ID] = true
	}
	var all cluster.SlotSet
	moves := make([]plan.Move, 0, len(pf.Plan.Moves))
	for i, mv := range pf.Plan.Moves {
		set, err := report.SlotsOfRanges(mv.Slots)
		switch {
		case err != nil:
			return nil, fmt.Errorf("move %d: %v", i+1, err)
		case !nodes[mv.From] || !nodes[mv.To] || mv.From == mv.To:
			return nil, fmt.Errorf("move %d: from %q to %q, not two nodes of the plan", i+1, mv.From, mv.To)
		case set.Count() != mv.Count:
			return nil, fmt.Errorf("move %d: count %d, but its ranges hold %d slots", i+1, mv.Count, set.Count())
		case pf.Command == "reshard" && mv.To != pf.Plan.Moves[0].To:
			return nil, fmt.Errorf("move %d: a reshard plan moves slots to one node", i+1)
		}
		for _, s := range set.Slots() {
			if all.Has(s) {
				return nil, fmt.Errorf("move %d: slot %d is in two moves", i+1, s)
			}
			all.Add(s)
		}
		moves = append(moves, plan.Move{Source: mv.From, Target: mv.To, Slots: set.Slots()})
	}
	return moves, nil
}

// Apply carries out a plan file's moves (PlanMoves), with the output of
// the command that made it, once the loaded cluster is checked and matches
// the plan: the same nodes, and every planned slot still owned by the node
// the plan moves it from (or, resuming, already by its target). A mismatch
// is refused, naming the first one, before anything is written.
func (m *Manager) Apply(ctx context.Context, o ApplyOptions) error {
	moves, err := PlanMoves(o.Plan)
	if err != nil {
		report.ApplyText{P: m.P}.CannotApply(err)
		return ErrReported
	}
	m.Check(ctx, false)
	if len(m.Errors) > 0 {
		report.ApplyText{P: m.P}.FixFirst()
		return ErrReported
	}
	if msg := m.planMismatch(o, moves); msg != "" {
		report.ApplyText{P: m.P}.Mismatch(msg)
		return ErrReported
	}
	var moved cluster.SlotSet
	var left []plan.Move
	for _, mv := range moves {
		var slots []int
		for _, s := range mv.Slots {
			if m.NodeByID(mv.Target).Slots.Has(s) {
				moved.Add(s)
			} else {
				slots = append(slots, s)
			}
		}
		if len(slots) > 0 {
			left = append(left, plan.Move{Source: mv.Source, Target: mv.Target, Slots: slots})
		}
	}
	record := func() {
		if o.Record != nil {
			o.Record(moved)
		}
	}
	record()
	m.Plan = report.MovePlan(left)
	if len(left) == 0 {
		report.ApplyText{P: m.P}.SlotsDone()
		return nil
	}
	var mu sync.Mutex
	next := make([]int, len(left))
	m.batchDone = func(i, n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range left[i].Slots[next[i] : next[i]+n] {
			moved.Add(s)
		}
		next[i] += n
		record()
	}
	defer func() { m.batchDone = nil }()
	if o.Plan.Command == "reshard" {
		var sources []*Node
		for _, mv := range left {
			sources = append(sources, m.NodeByID(mv.Source))
		}
		return m.runReshardPlan(ctx, ReshardOptions{Yes: true}, plan.SlotCount(left), sources, m.NodeByID(left[0].Target), left)
	}
	report.ApplyText{P: m.P}.ApplyingRebalance(plan.SlotCount(left), len(left))
	return m.runRebalanceMoves(ctx, left, false)
}

// checkPlanVersion refuses a plan file of another version.
func checkPlanVersion(pf report.PlanFile) error {
	if pf.Version != report.PlanFileVersion {
		return fmt.Errorf("version %d, this rcluster reads version %d", pf.Version, report.PlanFileVersion)
	}
	return nil
}

// planMismatch names the first difference between the loaded cluster and
// the plan that forbids applying it, or returns "".
func (m *Manager) planMismatch(o ApplyOptions, moves []plan.Move) string {
	if msg := m.planNodesMismatch(o.Plan); msg != "" {
		return msg
	}
	for _, mv := range moves {
		src, dst := m.NodeByID(mv.Source), m.NodeByID(mv.Target)
		if !dst.IsMaster() {
			return fmt.Sprintf("node %s (%s), a target of the plan, is not a master", dst.ID, dst.Addr())
		}
		for _, s := range mv.Slots {
			switch {
			case dst.Slots.Has(s) && !o.Resume:
				return fmt.Sprintf("slot %d is already on its target %s (%s): continue an interrupted apply with --resume", s, dst.ID, dst.Addr())
			case dst.Slots.Has(s):
			case o.Moved.Has(s):
				return fmt.Sprintf("slot %d, recorded as moved to %s (%s), is owned by %s", s, dst.ID, dst.Addr(), m.ownerName(s))
			case !src.Slots.Has(s):
				return fmt.Sprintf("slot %d is owned by %s, the plan moves it from %s (%s)", s, m.ownerName(s), src.ID, src.Addr())
			}
		}
	}
	return ""
}

// planNodesMismatch names a node of the plan that is not in the loaded
// cluster, or a node of the cluster that is not in the plan, or returns "".
func (m *Manager) planNodesMismatch(pf report.PlanFile) string {
	inPlan := map[string]bool{}
	for _, pn := range pf.Nodes {
		inPlan[pn.ID] = true
		if m.NodeByID(pn.ID) == nil {
			return fmt.Sprintf("node %s (%s) of the plan is not in the cluster", pn.ID, pn.Address)
		}
	}
	for _, n := range m.Nodes {
		if !inPlan[n.ID] {
			return fmt.Sprintf("node %s (%s) is not in the plan", n.ID, n.Addr())
		}
	}
	return ""
}

// ownerName names the master that owns slot ("ID (HOST:PORT)"), or says
// that none does.
func (m *Manager) ownerName(slot int) string {
	for _, n := range m.Masters() {
		if n.Slots.Has(slot) {
			return n.ID + " (" + n.Addr() + ")"
		}
	}
	return "no master"
}
