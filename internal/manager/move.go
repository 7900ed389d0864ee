package manager

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
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

// slotsText is "slot N" or "slots N-M,K".
func slotsText(slots []int) string {
	if len(slots) == 1 {
		return "slot " + strconv.Itoa(slots[0])
	}
	set := cluster.SlotsOf(slots...)
	return "slots " + set.String()
}

// moveSlots moves slots from src to dst, printing what redis-cli prints
// for each (a "Moving slot" line with its dots unless quiet), and calls
// each after every slot whose keys moved. When stop (checked after every
// slot) turns true it finishes the slot in flight, closes the others and
// returns how many moved and migrate.ErrStopped.
func (m *Manager) moveSlots(ctx context.Context, src, dst *Node, slots []int, o moveOpts, each func(slot int), stop func() bool) (moved int, err error) {
	release := func() {}
	defer func() { release() }()
	mover := &migrate.Mover{Opts: m.Opts.Migrate, Obs: &printObserver{m: m, dots: o.verbose}}
	var others []*migrate.Node
	for _, n := range m.Masters() {
		others = append(others, migNode(n))
	}
	hooks := migrate.SlotHooks{
		Open: func(slots []int) {
			release()
			release = func() {}
			if len(slots) > 0 {
				release = m.InFlight.start(fmt.Sprintf("%s from %s to %s", slotsText(slots), src.Addr(), dst.Addr()))
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

// printObserver prints what a slot move does in redis-cli's words.
type printObserver struct {
	m    *Manager
	dots bool
}

func (o *printObserver) KeysMoved(_, n int) {
	o.m.Progress.Keys(n)
	if o.dots {
		for i := 0; i < n; i++ {
			o.m.P.Plain(".")
		}
	}
}

func (o *printObserver) TargetKeyExists() { o.m.P.Warn("\n*** Target key exists\n") }

func (o *printObserver) CheckingValues() { o.m.P.Warn("*** Checking key values on both nodes...\n") }

func (o *printObserver) ValueCheckFailed(n *migrate.Node, msg string) {
	o.m.P.ReplyError(n.Addr(), msg)
	o.m.P.Err("*** Value check failed!\n")
	// valkey-cli says what to do next (redis-cli has no such hint: "").
	hint := o.m.P.Words().DigestUnsupported
	if strings.HasPrefix(msg, "ERR DEBUG command not allowed.") {
		hint = o.m.P.Words().DebugNotAllowed
	}
	if hint != "" {
		o.m.P.Err("%s", hint)
	}
}

func (o *printObserver) ValuesDiffer(src, dst *migrate.Node, keys []string) {
	o.m.P.Err("*** Found %d key(s) in both source node and target node having different values.\n"+
		"    Source node: %s\n    Target node: %s\n    Keys(s):\n", len(keys), src.Addr(), dst.Addr())
	for _, k := range keys {
		o.m.P.Err("    - %s\n", k)
	}
	o.m.P.Err("Please fix the above key(s) manually and try again or relaunch the command \n" +
		"with --cluster-replace option to force key overriding.\n")
}

// KeptCopies says which copy of keys found on both nodes survived: an
// rcluster line (redis-cli stops at the value check instead).
func (o *printObserver) KeptCopies(kept, dropped *migrate.Node, keys []string) {
	o.m.P.Warn("*** Kept the copy on %s, the node clients were served by, of %d key(s) also on %s, and deleted the other copy:\n",
		kept.Addr(), len(keys), dropped.Addr())
	for _, k := range keys {
		o.m.P.Warn("    - %s\n", k)
	}
}

func (o *printObserver) ReplacingKeys() { o.m.P.Warn("*** Replacing target keys...\n") }

func (o *printObserver) SlotNotServed(dst *migrate.Node) {
	o.m.P.Warn("*** Slot was not served, setting owner to node %s.\n", dst.Addr())
}

func (o *printObserver) ReplyError(n *migrate.Node, msg string) { o.m.P.ReplyError(n.Addr(), msg) }

func (o *printObserver) MigrateFailed(src *migrate.Node, msg string) {
	o.m.P.Plain("\n")
	o.m.P.ReplyError(src.Addr(), msg)
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
