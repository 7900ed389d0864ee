package manager

import (
	"context"
	"strings"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/move"
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
		sources = move.OtherMasters(&m.Cluster, target)
	}
	if len(sources) == 0 {
		report.ReshardText{P: m.P}.NoSources()
		return ErrReported
	}
	moves, err := move.PlanReshard(&m.Cluster, slots, target, sources)
	if err != nil {
		return err
	}
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
	shown := make([]*cluster.Node, len(sources))
	for i, s := range sources {
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
	return m.runMoves(ctx, "reshard", moves, false)
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
		report.ReshardText{P: m.P}.NotAMaster(id)
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
