package manager

import (
	"context"
	"fmt"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// moveOpts are redis-cli's clusterManagerMoveSlot options of reshard and
// rebalance (fix's moves are pkg/repair's).
type moveOpts struct {
	verbose bool // a dot per key
	update  bool // update the in-memory slot maps
	quiet   bool // no "Moving slot" line
}

// migNode is n as the slot mover knows it.
func migNode(n *Node) *migrate.Node {
	return &migrate.Node{ID: n.ID, Host: n.Host, Port: n.Port, Conn: n.Client}
}

// slotBatch is how many slots of one source and target one MoveSlots call
// moves: up to migrate.DefaultWindow of them are open at a time, sharing
// their round trips.
const slotBatch = 32

// moveSlots moves slots from src to dst, printing what redis-cli prints
// for each (a "Moving slot" line with its dots unless quiet), and calls
// each after every slot whose keys moved. When stop (checked after every
// slot) turns true it finishes the slot in flight, closes the others and
// returns how many moved and migrate.ErrStopped.
func (m *Manager) moveSlots(ctx context.Context, src, dst *Node, slots []int, o moveOpts, each func(slot int), stop func() bool) (moved int, err error) {
	release := func() {}
	defer func() { release() }()
	mover := &migrate.Mover{Opts: m.Opts.Migrate, Obs: newPrintObserver(m, o.verbose)}
	var others []*migrate.Node
	for _, n := range m.Masters() {
		others = append(others, migNode(n))
	}
	hooks := migrate.SlotHooks{
		Open: func(slots []int) {
			release()
			release = func() {}
			if len(slots) > 0 {
				release = m.InFlight.start(fmt.Sprintf("%s from %s to %s", report.SlotsText(slots), src.Addr(), dst.Addr()))
			}
		},
		Start: func(slot int) {
			if !o.quiet {
				m.P.MovingSlotLine(slot, src.Addr(), dst.Addr())
			}
		},
		Done: func(slot int) {
			if !o.quiet {
				m.P.Plain("\n")
			}
			m.Progress.Slot()
			if each != nil {
				each(slot)
			}
		},
		Stop: stop,
	}
	moved, err = mover.MoveSlots(ctx, migNode(src), migNode(dst), slots, others, migrate.MoveOptions{}, hooks)
	if o.update {
		for _, s := range slots[:moved] {
			src.Slots.Remove(s)
			dst.Slots.Add(s)
		}
	}
	return moved, err
}

// printObserver prints what a slot move does in redis-cli's words
// (report.MoveText) and counts its keys on the progress bar.
type printObserver struct {
	report.MoveText
	m *Manager
}

func newPrintObserver(m *Manager, dots bool) *printObserver {
	return &printObserver{MoveText: report.MoveText{P: m.P, Dots: dots}, m: m}
}

func (o *printObserver) KeysMoved(slot, n int) {
	o.m.Progress.Keys(n)
	o.MoveText.KeysMoved(slot, n)
}

// startProgress starts the progress bar for moves, counting their keys
// (one pipelined COUNTKEYSINSLOT per move).
func (m *Manager) startProgress(ctx context.Context, label string, moves []plan.Move) {
	if m.Progress == nil {
		return
	}
	var keys int64
	for _, mv := range moves {
		cmds := make([]node.Cmd, len(mv.Slots))
		for i, s := range mv.Slots {
			cmds[i] = node.CountKeysInSlotCmd(s)
		}
		for _, r := range m.NodeByID(mv.Source).Client.Pipeline(ctx, cmds) {
			if c, ok := r.Val.(int64); ok {
				keys += c
			}
		}
	}
	m.Progress.Start(label, plan.SlotCount(moves), keys)
}
