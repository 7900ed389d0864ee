package manager

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/move"
	"github.com/rcluster/rcluster/pkg/plan"
)

// runMoves carries out moves with pkg/move, printing each move's lines in
// redis-cli's words (reshard's, or rebalance's with rebalance set) in plan
// order, as the moves done one after the other would print them, however
// many run at once. A run stopped by Ctrl-C or by a failed move ends with
// its report (moveReport).
func (m *Manager) runMoves(ctx context.Context, label string, moves []plan.Move, rebalance bool) error {
	if m.Progress != nil {
		m.Progress.Start(label, plan.SlotCount(moves), move.KeysToMove(ctx, &m.Cluster, moves))
		defer m.Progress.Done()
	}
	out := &moveOutput{m: m, rebalance: rebalance, stdout: newOrderedWriter(m.P.Out, len(moves)), stderr: report.NewLines(m.P.ErrOut)}
	res, err := move.Run(ctx, &m.Cluster, moves, move.Options{Migrate: m.Opts.Migrate, Parallel: m.Opts.Parallel}, out)
	if err == nil {
		err = out.flushErr()
	}
	return m.moveReport(err, moves, res.Left, rebalance)
}

// moveOutput is a run's move.Observer: every move gets a moveText writing
// to its own part of stdout and a line at a time to stderr.
type moveOutput struct {
	m         *Manager
	rebalance bool
	stdout    *orderedWriter
	stderr    *report.Lines
	mu        sync.Mutex
	errs      []error // failed flushes of stderr
}

func (o *moveOutput) Move(i int, mv plan.Move) move.MoveObserver {
	stderr := o.stderr.Writer()
	p := o.m.P.WithOut(o.stdout.writer(i), stderr)
	t := &moveText{movePrinter: movePrinter{MoveText: report.MoveText{P: p, Dots: !o.rebalance}, progress: o.m.Progress}, out: o, i: i, stderr: stderr, release: func() {},
		src: o.m.NodeByID(mv.Source).Addr(), dst: o.m.NodeByID(mv.Target).Addr()}
	if o.rebalance {
		report.RebalanceText{P: p}.Moving(mv.Count(), t.src, t.dst)
	}
	return t
}

func (o *moveOutput) flushErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return errors.Join(o.errs...)
}

// moveText writes one move's lines: reshard's "Moving slot" line per slot
// with a dot per key, or rebalance's "#" per slot; and keeps the progress
// bar, the slots in flight and apply's record.
type moveText struct {
	movePrinter
	out      *moveOutput
	i        int
	src, dst string
	stderr   *report.LineWriter
	release  func() // ends the InFlight entry of the slots open now
}

// movePrinter writes what a slot move does in redis-cli's words
// (report.MoveText) and counts its keys on the progress bar.
type movePrinter struct {
	report.MoveText
	progress *report.Progress
}

func (t movePrinter) KeysMoved(slot, n int) {
	t.progress.Keys(n)
	t.MoveText.KeysMoved(slot, n)
}

func (t *moveText) Open(slots []int) {
	t.release()
	t.release = func() {}
	if len(slots) > 0 {
		t.release = t.out.m.InFlight.startMove(slots, t.src, t.dst)
	}
}

func (t *moveText) SlotStart(slot int) {
	if !t.out.rebalance {
		t.P.MovingSlotLine(slot, t.src, t.dst)
	}
}

func (t *moveText) SlotDone(int) {
	if t.out.rebalance {
		report.RebalanceText{P: t.P}.SlotMoved()
	} else {
		report.ReshardText{P: t.P}.SlotMoved()
	}
	t.out.m.Progress.Slot()
}

func (t *moveText) Moved(n int) { t.out.m.afterBatch(t.i, n) }

func (t *moveText) End(err error) {
	t.release()
	var failed *move.Error
	switch {
	case errors.As(err, &failed) && t.out.rebalance:
		report.RebalanceText{P: t.P}.MoveFailed(migrate.Text(failed.Err))
	case errors.As(err, &failed):
		report.ReshardText{P: t.P}.MoveFailed(migrate.Text(failed.Err))
	case t.out.rebalance:
		report.RebalanceText{P: t.P}.EndMove()
	}
	if err := t.stderr.Flush(); err != nil {
		t.out.mu.Lock()
		t.out.errs = append(t.out.errs, err)
		t.out.mu.Unlock()
	}
	t.out.stdout.finish(t.i)
}

// afterBatch tells batchDone, when set, that move i of the plan being
// carried out moved n more slots.
func (m *Manager) afterBatch(i, n int) {
	if m.batchDone != nil && n > 0 {
		m.batchDone(i, n)
	}
}

// moveReport turns a run stopped by Ctrl-C or by a failed move into its
// report on stderr (the progress bar cleared first): after Ctrl-C the slot
// in flight was completed and none is left open; after a failure, the slot
// it failed in and the command that repairs it. Then, a line per move, the
// slots not moved (left). A failure that left nothing open only exits 1;
// other errors pass through.
func (m *Manager) moveReport(err error, moves []plan.Move, left [][]int, rebalance bool) error {
	var failed *move.Error
	switch {
	case errors.As(err, &failed) && failed.Slot < 0:
		return ErrReported
	case !errors.Is(err, move.ErrInterrupted) && failed == nil:
		return err
	}
	m.Progress.Done()
	text := report.ReshardText{P: m.P}
	if failed != nil {
		text.MoveLeftOpen(failed.Slot, failed.Open, failed.Source.Addr(), failed.Target.Addr(), m.Nodes[0].Addr())
	}
	first := failed == nil
	for i, slots := range left {
		if len(slots) == 0 {
			continue
		}
		if first {
			text.Interrupted(slots[0])
			first = false
		}
		label := "from " + m.NodeByID(moves[i].Source).Addr()
		if rebalance {
			label += " to " + m.NodeByID(moves[i].Target).Addr()
		}
		text.NotMoved(label, slots)
	}
	return ErrReported
}

// orderedWriter lets n writers write concurrently while the output reads as
// if writer 0 wrote everything, then writer 1, and so on: the current writer
// writes through, later ones are buffered until their turn.
type orderedWriter struct {
	mu   sync.Mutex
	out  io.Writer
	cur  int
	bufs []bytes.Buffer
	done []bool
}

func newOrderedWriter(out io.Writer, n int) *orderedWriter {
	return &orderedWriter{out: out, bufs: make([]bytes.Buffer, n), done: make([]bool, n)}
}

type orderedPart struct {
	o *orderedWriter
	i int
}

func (o *orderedWriter) writer(i int) io.Writer { return orderedPart{o, i} }

func (p orderedPart) Write(b []byte) (int, error) {
	p.o.mu.Lock()
	defer p.o.mu.Unlock()
	if p.i == p.o.cur {
		return p.o.out.Write(b)
	}
	return p.o.bufs[p.i].Write(b)
}

// finish marks writer i done and hands the output over to the next ones.
func (o *orderedWriter) finish(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[i] = true
	for o.cur < len(o.done) && o.done[o.cur] {
		o.cur++
		if o.cur < len(o.bufs) {
			_, _ = o.out.Write(o.bufs[o.cur].Bytes()) // stdout is a CheckedWriter: a failed write fails the run
			o.bufs[o.cur].Reset()
		}
	}
}
