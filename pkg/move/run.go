package move

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Options are how Run moves.
type Options struct {
	// Migrate configures the key migration (timeout, batches, replace, auth).
	Migrate migrate.Options
	// Parallel is how many moves may run at once (0 or 1: one at a time).
	Parallel int
}

// Observer hears a run: Move is called as move i of the plan starts, and
// what that move does is told to the MoveObserver it returns. Moves may run
// at once; the calls on one MoveObserver come from one goroutine.
type Observer interface {
	Move(i int, mv plan.Move) MoveObserver
}

// MoveObserver hears one move: the key migration's moments (migrate.Observer)
// and the moments of its slots, then End.
type MoveObserver interface {
	migrate.Observer
	// Open is told the slots open now (IMPORTING or MIGRATING), each time
	// that set changes; empty when none is.
	Open(slots []int)
	// SlotStart and SlotDone are called around the keys of each slot.
	SlotStart(slot int)
	SlotDone(slot int)
	// Moved is called after each batch: n more of the move's slots have
	// their new owner.
	Moved(n int)
	// End is the last call: err is nil, ErrInterrupted, an *Error, or
	// another failure.
	End(err error)
}

// NopObserver hears nothing; embed it to hear only some moments.
type NopObserver struct{ migrate.NopObserver }

func (NopObserver) Move(int, plan.Move) MoveObserver { return NopObserver{} }
func (NopObserver) Open([]int)                       {}
func (NopObserver) SlotStart(int)                    {}
func (NopObserver) SlotDone(int)                     {}
func (NopObserver) Moved(int)                        {}
func (NopObserver) End(error)                        {}

// ErrInterrupted ends a move, and the run, after the context was cancelled:
// the slot in flight was finished and no slot is left open.
var ErrInterrupted = errors.New("move: interrupted")

// Error is a failed move: the run stopped after it.
type Error struct {
	// Move is the failed move's index in the plan.
	Move           int
	Source, Target *inspect.Node
	// Slot is the slot the move failed in, or -1 when every slot of its
	// batch changed owner and only telling the other masters failed (the
	// cluster bus tells them).
	Slot int
	// Open are the slots that may be left open, their keys perhaps split
	// between Source and Target (Slot among them); empty with Slot -1.
	Open []int
	// Err is what failed (migrate.Text words it as redis-cli does).
	Err error
}

func (e *Error) Error() string {
	if e.Slot < 0 {
		return fmt.Sprintf("moving slots from %s to %s: %v", e.Source.Addr(), e.Target.Addr(), e.Err)
	}
	return fmt.Sprintf("moving slot %d from %s to %s failed", e.Slot, e.Source.Addr(), e.Target.Addr())
}

func (e *Error) Unwrap() error { return e.Err }

// Result is what a run moved.
type Result struct {
	// Left holds, per move of the plan, the slots that did not move, in
	// the order they would have: all empty after a complete run.
	Left [][]int
}

// batch is how many slots of one move one migrate.MoveSlots call moves:
// up to migrate.DefaultWindow of them are open at a time, sharing their
// round trips, and a cancel is noticed between batches.
const batch = 32

// Run carries out moves on c, whose nodes it moves between (every move's
// source and target must be among c's masters: checked before the first
// write), and keeps c's slot maps up to date. obs may be nil.
func Run(ctx context.Context, c *inspect.Cluster, moves []plan.Move, o Options, obs Observer) (Result, error) {
	r := &runner{o: o, obs: obs, res: Result{Left: make([][]int, len(moves))}}
	if r.obs == nil {
		r.obs = NopObserver{}
	}
	for _, m := range c.Masters() {
		r.others = append(r.others, migNode(m))
	}
	ends := make([][2]*inspect.Node, len(moves))
	for i, mv := range moves {
		src, dst := c.NodeByID(mv.Source), c.NodeByID(mv.Target)
		if src == nil || dst == nil || !src.IsMaster() || !dst.IsMaster() || src == dst {
			return r.res, fmt.Errorf("move: move %d (%s to %s) is not between two masters of the cluster", i, mv.Source, mv.Target)
		}
		ends[i] = [2]*inspect.Node{src, dst}
		r.res.Left[i] = mv.Slots
	}
	conflict := func(a, b int) bool {
		sa, ta, sb, tb := ends[a][0], ends[a][1], ends[b][0], ends[b][1]
		return sa == sb || sa == tb || ta == sb
	}
	err := runJobs(len(moves), conflict, o.Parallel, func(i int) error {
		mo := r.obs.Move(i, moves[i])
		err := r.move(ctx, i, ends[i][0], ends[i][1], mo)
		mo.End(err)
		return err
	})
	return r.res, err
}

// runner is one Run's state.
type runner struct {
	o      Options
	obs    Observer
	others []*migrate.Node
	mu     sync.Mutex // guards res and the slot maps, shared by moves to one target
	res    Result
}

// move carries out move i, from src to dst, batch by batch.
func (r *runner) move(ctx context.Context, i int, src, dst *inspect.Node, mo MoveObserver) error {
	stop := func() bool { return ctx.Err() != nil }
	mover := &migrate.Mover{Opts: r.o.Migrate, Obs: mo}
	hooks := migrate.SlotHooks{Open: mo.Open, Start: mo.SlotStart, Done: mo.SlotDone, Stop: stop}
	for {
		r.mu.Lock()
		slots := r.res.Left[i]
		r.mu.Unlock()
		if len(slots) == 0 {
			return nil
		}
		if stop() {
			return ErrInterrupted
		}
		n := min(len(slots), batch)
		// The mover's own context is not cancelled: a slot in flight is
		// finished (Stop ends the batch after it).
		moved, err := mover.MoveSlots(context.WithoutCancel(ctx), migNode(src), migNode(dst), slots[:n], r.others, migrate.MoveOptions{}, hooks)
		mo.Open(nil)
		r.mu.Lock()
		for _, s := range slots[:moved] {
			src.Slots.Remove(s)
			dst.Slots.Add(s)
		}
		r.res.Left[i] = slots[moved:]
		r.mu.Unlock()
		mo.Moved(moved)
		switch {
		case errors.Is(err, migrate.ErrStopped):
			return ErrInterrupted
		case err != nil:
			return failure(i, src, dst, slots[:n], moved, err)
		}
	}
}

// failure is the *Error of move i after MoveSlots failed with err having
// moved the first moved of slots.
func failure(i int, src, dst *inspect.Node, slots []int, moved int, err error) *Error {
	e := &Error{Move: i, Source: src, Target: dst, Err: err}
	var left *migrate.LeftOpen
	switch {
	case errors.As(err, &left) && moved < len(slots):
		e.Slot, e.Open = slots[moved], left.Slots
	case errors.As(err, &left): // every slot is the target's; the source may still migrate some
		e.Slot, e.Open = left.Slots[0], left.Slots
	case moved >= len(slots):
		e.Slot = -1
	default:
		e.Slot, e.Open = slots[moved], []int{slots[moved]}
	}
	return e
}

// migNode is n as the slot mover knows it.
func migNode(n *inspect.Node) *migrate.Node {
	return &migrate.Node{ID: n.ID, Host: n.Host, Port: n.Port, Conn: n.Client}
}

// KeysToMove counts the keys in the slots of moves now, one pipeline of
// COUNTKEYSINSLOT per move, for a progress bar's total.
func KeysToMove(ctx context.Context, c *inspect.Cluster, moves []plan.Move) int64 {
	var keys int64
	for _, mv := range moves {
		src := c.NodeByID(mv.Source)
		if src == nil {
			continue
		}
		cmds := make([]node.Cmd, len(mv.Slots))
		for i, s := range mv.Slots {
			cmds[i] = node.CountKeysInSlotCmd(s)
		}
		for _, r := range src.Client.Pipeline(ctx, cmds) {
			if n, ok := r.Val.(int64); ok {
				keys += n
			}
		}
	}
	return keys
}
