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
			m.P.Err("*** No such master node %s\n", name)
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
	p, err := plan.Rebalance(in, o.Threshold)
	switch {
	case errors.Is(err, plan.ErrReshardTable):
		m.P.Err("*** Assertion failed: Reshard table != number of slots")
		return ErrReported
	case err != nil:
		m.P.Err("*** Cannot rebalance: %s\n", strings.TrimPrefix(err.Error(), "plan: "))
		return ErrReported
	}
	if p.Balanced {
		m.P.Warn("*** No rebalancing needed! All nodes are within the %.2f%% threshold.\n", o.Threshold)
		return nil
	}
	m.P.Info(">>> Rebalancing across %d nodes. Total weight = %.2f\n", len(involved), float64(p.TotalWeight))
	if o.Verbose {
		for _, i := range p.Order {
			m.P.Plain("%s balance is %d slots\n", involved[i].Addr(), p.Balances[i])
		}
	}
	m.Plan = report.MovePlan(p.Moves)
	if !o.Simulate {
		m.startProgress(ctx, "rebalance", p.Moves)
		defer m.Progress.Done()
	}
	// Moves between disjoint pairs run at once; the output stays in plan order.
	jobs := make([]job, len(p.Moves))
	left := &unmoved{}
	for i, mv := range p.Moves {
		src, dst := m.NodeByID(mv.Source), m.NodeByID(mv.Target)
		k := left.plan("from "+src.Addr()+" to "+dst.Addr(), mv.Slots)
		jobs[i] = job{nodes: []*Node{src, dst}, run: func(w *Manager) error {
			return w.rebalanceMove(ctx, src, dst, mv.Slots, o.Simulate, func(n int) { left.moved(k, n) })
		}}
	}
	return m.interruptReport(m.runJobs(jobs, m.Opts.Parallel), left)
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
		moved, err := m.moveSlots(context.WithoutCancel(ctx), src, dst, slots[:n], moveOpts{quiet: true, update: true, sink: true},
			func(int) { m.P.Plain("#") }, stop)
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
			return ErrReported
		}
	}
	m.P.Plain("\n")
	return nil
}
