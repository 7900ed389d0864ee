package manager

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/move"
	"github.com/rcluster/rcluster/pkg/plan"
)

// RebalanceOptions are rebalance's settings.
type RebalanceOptions struct {
	Weights         []string // "idprefix=weight"
	Threshold       float64
	UseEmptyMasters bool
	Simulate        bool
	Verbose         bool
	// By is what to even out: "" or "slots" (redis-cli's rebalance),
	// "keys" or "memory" (see slotLoads).
	By string
}

// Rebalance moves slots so that every master holds its weighted share
// (clusterManagerCommandRebalance). The cluster must be loaded.
func (m *Manager) Rebalance(ctx context.Context, o RebalanceOptions) error {
	text := report.RebalanceText{P: m.P}
	weights := map[*Node]float32{}
	for _, w := range o.Weights {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			text.InvalidWeight(w)
			return ErrReported
		}
		n, ok := m.resolveNode(name)
		f, _ := strconv.ParseFloat(strings.TrimSpace(value), 32)
		switch {
		case !ok:
			return ErrReported
		case n == nil:
			text.NoSuchMaster(name)
			return ErrReported
		case n.IsReplica() && f != 0:
			// redis-cli takes a replica's weight and ignores it. Weight 0
			// is taken: a master drained by weight 0 turns into a replica,
			// so the same command run again has nothing to do.
			text.ReplicaWeight(name, n.Addr())
			return ErrReported
		}
		weights[n] = float32(f)
	}
	involved, in := move.RebalanceNodes(&m.Cluster, move.RebalanceOptions{Weights: weights, UseEmptyMasters: o.UseEmptyMasters})
	m.Check(ctx, true)
	if len(m.Errors) > 0 {
		text.FixFirst()
		return ErrReported
	}
	if o.By == "keys" || o.By == "memory" {
		return m.rebalanceByLoad(ctx, o, involved, in)
	}
	p, err := plan.Rebalance(in, o.Threshold)
	switch {
	case errors.Is(err, plan.ErrReshardTable):
		text.TableMismatch()
		return ErrReported
	case err != nil:
		return m.cannotRebalance(err)
	}
	if !m.rebalanceIntro(o, p.Balanced, p.TotalWeight, involved, p.Order, func(i int) int64 { return int64(p.Balances[i]) }, "slots") {
		return nil
	}
	m.Plan = report.MovePlan(p.Moves)
	return m.runRebalanceMoves(ctx, p.Moves, o.Simulate)
}

// rebalanceIntro prints redis-cli's lines before the moves: that none is
// needed (then it returns false), or how many nodes share the total weight
// and, with --verbose, the balance of each in order, in unit.
func (m *Manager) rebalanceIntro(o RebalanceOptions, balanced bool, weight float32, involved []*Node, order []int, balance func(i int) int64, unit string) bool {
	text := report.RebalanceText{P: m.P}
	if balanced {
		text.NotNeeded(o.Threshold)
		return false
	}
	text.Across(len(involved), float64(weight))
	if o.Verbose {
		for _, i := range order {
			text.Balance(involved[i].Addr(), balance(i), unit)
		}
	}
	return true
}

// runRebalanceMoves carries out (or, simulating, prints) a rebalance's
// moves with redis-cli's lines.
func (m *Manager) runRebalanceMoves(ctx context.Context, moves []plan.Move, simulate bool) error {
	if !simulate {
		return m.runMoves(ctx, "rebalance", moves, true)
	}
	text := report.RebalanceText{P: m.P}
	for _, mv := range moves {
		text.Moving(mv.Count(), m.NodeByID(mv.Source).Addr(), m.NodeByID(mv.Target).Addr())
		text.Simulated(mv.Count())
	}
	return nil
}

// cannotRebalance reports a plan's refusal.
func (m *Manager) cannotRebalance(err error) error {
	report.RebalanceText{P: m.P}.Cannot(strings.TrimPrefix(err.Error(), "plan: "))
	return ErrReported
}
