package manager

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/migrate"
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
	weights := map[*Node]float32{}
	for _, w := range o.Weights {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			m.P.Err("*** invalid input %s\n", w)
			return ErrReported
		}
		n, ok := m.resolveNode(name)
		f, _ := strconv.ParseFloat(strings.TrimSpace(value), 32)
		switch {
		case !ok:
			return ErrReported
		case n == nil:
			m.P.Err(m.P.Words().NoSuchPrimaryNode, name)
			return ErrReported
		case n.IsReplica() && f != 0:
			// redis-cli takes a replica's weight and ignores it. Weight 0
			// is taken: a master drained by weight 0 turns into a replica,
			// so the same command run again has nothing to do.
			m.P.Err("*** Node %s (%s) is a replica: only masters take a weight.\n", name, n.Addr())
			return ErrReported
		}
		weights[n] = float32(f)
	}
	var involved []*Node
	var in []plan.RebalanceNode
	for _, n := range m.Nodes {
		if n.IsReplica() {
			continue
		}
		if !o.UseEmptyMasters && n.Slots.Count() == 0 {
			continue
		}
		w, ok := weights[n]
		if !ok {
			w = 1
		}
		involved = append(involved, n)
		in = append(in, plan.RebalanceNode{ID: n.ID, Slots: n.Slots.Slots(), Weight: w})
	}
	m.Check(ctx, true)
	if len(m.Errors) > 0 {
		m.P.Err("*** Please fix your cluster problems before rebalancing\n")
		return ErrReported
	}
	if o.By == "keys" || o.By == "memory" {
		return m.rebalanceByLoad(ctx, o, involved, in)
	}
	p, err := plan.Rebalance(in, o.Threshold)
	switch {
	case errors.Is(err, plan.ErrReshardTable):
		m.P.Err("*** Assertion failed: Reshard table != number of slots")
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
	if balanced {
		m.P.Warn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.\n", o.Threshold)
		return false
	}
	m.P.Info(">>> Rebalancing across %d nodes. Total weight = %.2f\n", len(involved), float64(weight))
	if o.Verbose {
		for _, i := range order {
			m.P.Plain("%s balance is %d %s\n", involved[i].Addr(), balance(i), unit)
		}
	}
	return true
}

// runRebalanceMoves carries out (or, simulating, prints) a rebalance's
// moves with redis-cli's lines.
func (m *Manager) runRebalanceMoves(ctx context.Context, moves []plan.Move, simulate bool) error {
	if !simulate {
		m.startProgress(ctx, "rebalance", moves)
		defer m.Progress.Done()
	}
	// Moves between disjoint pairs run at once; the output stays in plan order.
	jobs := make([]job, len(moves))
	left := &unmoved{}
	for i, mv := range moves {
		src, dst := m.NodeByID(mv.Source), m.NodeByID(mv.Target)
		k := left.plan("from "+src.Addr()+" to "+dst.Addr(), mv.Slots)
		jobs[i] = job{nodes: []*Node{src, dst}, run: func(w *Manager) error {
			return w.rebalanceMove(ctx, src, dst, mv.Slots, simulate, func(n int) { left.moved(k, n); m.afterBatch(i, n) })
		}}
	}
	return m.interruptReport(m.runJobs(jobs, m.Opts.Parallel), left)
}

// cannotRebalance reports a plan's refusal.
func (m *Manager) cannotRebalance(err error) error {
	m.P.Err("*** Cannot rebalance: %s\n", strings.TrimPrefix(err.Error(), "plan: "))
	return ErrReported
}

// rebalanceMove moves slots from src to dst with a "#" per slot, telling
// done how many moved after each batch.
func (m *Manager) rebalanceMove(ctx context.Context, src, dst *Node, slots []int, simulate bool, done func(n int)) error {
	m.P.Plain("Moving %d slots from %s to %s\n", len(slots), src.Addr(), dst.Addr())
	if simulate {
		m.P.Plain("%s\n", strings.Repeat("#", len(slots)))
		return nil
	}
	stop := func() bool { return ctx.Err() != nil }
	for len(slots) > 0 {
		if stop() {
			m.P.Plain("\n")
			return errInterrupted
		}
		n := min(len(slots), slotBatch)
		moved, err := m.moveSlots(context.WithoutCancel(ctx), src, dst, slots[:n], moveOpts{quiet: true, update: true},
			func(int) { m.P.Plain("#") }, stop)
		failed := failedMove(src, dst, slots[:n], moved, err)
		slots = slots[moved:]
		done(moved)
		if errors.Is(err, migrate.ErrStopped) {
			m.P.Plain("\n")
			return errInterrupted
		}
		if err != nil {
			text := migrate.Text(err)
			if text == "" {
				text = "(null)"
			}
			m.P.Err("*** clusterManagerMoveSlot: %s\n", text)
			return failed
		}
	}
	m.P.Plain("\n")
	return nil
}
