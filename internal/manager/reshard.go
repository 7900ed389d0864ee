package manager

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/plan"
)

// ReshardOptions are reshard's settings. Zero Slots, empty To and nil From
// mean "ask", as in redis-cli.
type ReshardOptions struct {
	Slots int
	To    string
	From  []string // node IDs or "all"
	Yes   bool
	// Exact, when set, lists the slots to move (ascending) from whichever
	// masters own them, instead of Slots and From.
	Exact []int
	// DryRun stops after the plan: nothing is moved.
	DryRun bool
	// Ask prints a question and reads the answer; it fails at end of input.
	Ask func(q string) (string, error)
}

// Reshard moves slots to one node (clusterManagerCommandReshard). The
// cluster must already be loaded and checked without errors.
func (m *Manager) Reshard(ctx context.Context, o ReshardOptions) error {
	if o.Exact != nil {
		return m.reshardExact(ctx, o)
	}
	slots := o.Slots
	for slots == 0 {
		a, err := o.Ask(report.AskSlots)
		if err != nil {
			return m.noAnswer()
		}
		if n := atoiStrict(a); n >= 1 && n <= 16384 {
			slots = n
		}
	}
	target, err := m.reshardTarget(o)
	if err != nil {
		return err
	}
	var sources []*Node
	all := false
	if o.From == nil {
		report.ReshardText{P: m.P}.SourcesHelp()
		for {
			a, err := o.Ask(report.AskSource(len(sources) + 1))
			if err != nil {
				return m.noAnswer()
			}
			if a == "done" {
				break
			}
			if a == "all" {
				all = true
				break
			}
			src, fatal := m.reshardSource(a, target)
			if fatal {
				return ErrReported
			}
			if src != nil {
				sources = append(sources, src)
			}
		}
	} else {
		for _, id := range o.From {
			if id == "all" {
				all = true
				break
			}
			src, fatal := m.reshardSource(id, target)
			if fatal {
				return ErrReported
			}
			if src != nil && !contains(sources, src) {
				sources = append(sources, src)
			}
		}
	}
	if all {
		sources = nil
		for _, n := range m.Nodes {
			if n.IsMaster() && n.ID != target.ID {
				sources = append(sources, n)
			}
		}
	}
	if len(sources) == 0 {
		report.ReshardText{P: m.P}.NoSources()
		return ErrReported
	}
	moves := plan.ReshardTable(reshardSources(sources), slots, target.ID)
	return m.runReshardPlan(ctx, o, slots, sources, target, moves)
}

// reshardTarget resolves the receiving node, asking for it when not given.
func (m *Manager) reshardTarget(o ReshardOptions) (*Node, error) {
	to := o.To
	for to == "" {
		a, err := o.Ask(report.AskTarget)
		if err != nil {
			return nil, m.noAnswer()
		}
		to = a
	}
	target := m.reshardNode(to, nil)
	if target == nil {
		return nil, ErrReported
	}
	return target, nil
}

// reshardSources are the planners' view of source nodes: IDs and slots.
func reshardSources(nodes []*Node) []plan.ReshardSource {
	in := make([]plan.ReshardSource, len(nodes))
	for i, s := range nodes {
		in[i] = plan.ReshardSource{ID: s.ID, Slots: s.Slots.Slots()}
	}
	return in
}

// runReshardPlan prints a reshard's plan in redis-cli's lines ("Ready to
// move <slots> slots.", the nodes, a line per slot), asks to proceed unless
// told yes, and carries out the moves.
func (m *Manager) runReshardPlan(ctx context.Context, o ReshardOptions, slots int, sources []*Node, target *Node, moves []plan.Move) error {
	byID := map[string]*Node{}
	shown := make([]*cluster.Node, len(sources))
	for i, s := range sources {
		byID[s.ID] = s
		shown[i] = s.Node
	}
	report.ReshardText{P: m.P}.Plan(slots, shown, target.Node, moves)
	m.Plan = report.MovePlan(moves)
	if o.DryRun {
		return nil
	}
	if !o.Yes {
		a, err := o.Ask(report.AskReshard)
		if err != nil || !strings.HasPrefix(a, "yes") {
			return ErrReported
		}
	}
	// One job per source: sources move their slots to the target at once,
	// the output stays in plan order.
	left := &unmoved{}
	m.startProgress(ctx, "reshard", moves)
	defer m.Progress.Done()
	jobs := make([]job, len(moves))
	for i, mv := range moves {
		src := byID[mv.Source]
		k := left.plan("from "+src.Addr(), mv.Slots)
		jobs[i] = job{nodes: []*Node{src}, run: func(w *Manager) error {
			return w.reshardFrom(ctx, src, target, mv.Slots, func(n int) { left.moved(k, n); m.afterBatch(i, n) })
		}}
	}
	return m.interruptReport(m.runJobs(jobs, m.Opts.Parallel), left)
}

// reshardFrom moves slots from src to target in batches, printing
// redis-cli's lines and telling done how many moved after each batch.
// After Ctrl-C the slot in flight is finished and no other is started, so
// none is left open.
func (m *Manager) reshardFrom(ctx context.Context, src, target *Node, slots []int, done func(n int)) error {
	stop := func() bool { return ctx.Err() != nil }
	for len(slots) > 0 {
		if stop() {
			return errInterrupted
		}
		n := min(len(slots), slotBatch)
		moved, err := m.moveSlots(context.WithoutCancel(ctx), src, target, slots[:n], moveOpts{verbose: true}, nil, stop)
		failed := failedMove(src, target, slots[:n], moved, err)
		slots = slots[moved:]
		done(moved)
		if errors.Is(err, migrate.ErrStopped) {
			return errInterrupted
		}
		if err != nil {
			report.ReshardText{P: m.P}.MoveFailed(migrate.Text(err))
			return failed
		}
	}
	return nil
}

// afterBatch tells batchDone, when set, that move i of the plan being
// carried out moved n more slots.
func (m *Manager) afterBatch(i, n int) {
	if m.batchDone != nil && n > 0 {
		m.batchDone(i, n)
	}
}

// errInterrupted ends a job that stopped after Ctrl-C with no slot open.
var errInterrupted = errors.New("interrupted")

// moveFailed ends a job whose move failed in slot while the slots open
// (slot among them) were open: they may be left open, their keys split
// between src and dst.
type moveFailed struct {
	slot     int
	open     []int
	src, dst *Node
}

func (e *moveFailed) Error() string {
	return fmt.Sprintf("moving slot %d from %s to %s failed", e.slot, e.src.Addr(), e.dst.Addr())
}

// failedMove is the error that ends a job after moveSlots returned err
// having moved the first moved of slots: *moveFailed naming the slot it
// failed in and those open with it, or ErrReported when every slot changed
// owner and only telling the other masters failed (gossip tells them).
func failedMove(src, dst *Node, slots []int, moved int, err error) error {
	var left *migrate.LeftOpen
	switch {
	case errors.As(err, &left) && moved < len(slots):
		return &moveFailed{slot: slots[moved], open: left.Slots, src: src, dst: dst}
	case errors.As(err, &left): // every slot is the target's; the source may still migrate some
		return &moveFailed{slot: left.Slots[0], open: left.Slots, src: src, dst: dst}
	case err == nil || moved >= len(slots):
		return ErrReported
	}
	return &moveFailed{slot: slots[moved], open: []int{slots[moved]}, src: src, dst: dst}
}

// unmoved keeps the slots of each move of a plan (one per source, or per
// source and target) that have not moved yet, for the report of a run
// stopped by Ctrl-C: every move is listed, also those that never started.
type unmoved struct {
	mu     sync.Mutex
	labels []string
	left   [][]int
}

// plan records a move's slots, in the order they move, and returns its index.
func (u *unmoved) plan(label string, slots []int) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.labels = append(u.labels, label)
	u.left = append(u.left, slots)
	return len(u.left) - 1
}

// moved records that the next n slots of move i moved.
func (u *unmoved) moved(i, n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.left[i] = u.left[i][n:]
}

// interruptReport turns a run stopped by Ctrl-C or by a failed move into
// its report on stderr (the progress bar cleared first): after Ctrl-C the
// slot in flight was completed and none is left open; after a failure,
// the slot it failed in and the command that repairs it. Then, a line per
// move, the slots not moved. Other errors pass through.
func (m *Manager) interruptReport(err error, u *unmoved) error {
	var failed *moveFailed
	if !errors.Is(err, errInterrupted) && !errors.As(err, &failed) {
		return err
	}
	m.Progress.Done()
	text := report.ReshardText{P: m.P}
	if failed != nil {
		text.MoveLeftOpen(failed.slot, failed.open, failed.src.Addr(), failed.dst.Addr(), m.Nodes[0].Addr())
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	first := failed == nil
	for i, left := range u.left {
		if len(left) == 0 {
			continue
		}
		if first {
			text.Interrupted(left[0])
			first = false
		}
		text.NotMoved(u.labels[i], left)
	}
	return ErrReported
}

// noAnswer reports that standard input ended before a question was
// answered (redis-cli asks forever).
func (m *Manager) noAnswer() error {
	report.ReshardText{P: m.P}.NoAnswer()
	return ErrReported
}

// reshardNode resolves a node ID (or unique prefix): it must be a known
// master.
func (m *Manager) reshardNode(id string, _ *Node) *Node {
	n, ok := m.resolveNode(id)
	if !ok {
		return nil
	}
	if n == nil || n.IsReplica() {
		m.P.Err(m.P.Words().NotAPrimary, id)
		return nil
	}
	return n
}

// reshardSource resolves a source node ID; the target itself is refused
// with a message but is not fatal (redis-cli asks again).
func (m *Manager) reshardSource(id string, target *Node) (n *Node, fatal bool) {
	n = m.reshardNode(id, target)
	if n == nil {
		return nil, true
	}
	if n.ID == target.ID {
		report.ReshardText{P: m.P}.TargetAsSource()
		return nil, false
	}
	return n, false
}

func contains(l []*Node, n *Node) bool {
	for _, x := range l {
		if x == n {
			return true
		}
	}
	return false
}

// atoiStrict parses a whole decimal number, or returns 0.
func atoiStrict(s string) int {
	n := 0
	if s == "" || len(s) > 6 {
		return 0
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
