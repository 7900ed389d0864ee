package manager

import (
	"context"
	"errors"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Address is a node given on the command line.
type Address = join.Address

// CreateOptions are the settings of create.
type CreateOptions struct {
	Replicas int
	// Confirm asks report.AskCreate; nil means --yes.
	Confirm func(msg string) bool
	// JoinTimeout bounds the wait for the nodes to join and settle.
	JoinTimeout time.Duration
	// DryRun stops after the plan: nothing is written.
	DryRun bool
	// Zones, when set, lays replicas out by zone instead of by host: the
	// zone of each node by "host:port", else by host. Every node needs one.
	Zones map[string]string
}

// zonesOf is where each node is for the layout (join.PlacesOf), refusals
// printed.
func (m *Manager) zonesOf(ctx context.Context, nodes []*Node, zones map[string]string) ([]string, error) {
	p, err := join.PlacesOf(ctx, nodes, zones)
	if err != nil {
		return nil, m.joinFailed(err)
	}
	if p.PartialZones > 0 {
		report.CreateText{P: m.P}.PartialZones(p.PartialZones, len(nodes))
	}
	return p.Of, nil
}

// Create builds a new cluster out of empty nodes, as redis-cli's create
// does, and returns when the cluster is ready for the next command.
func (m *Manager) Create(ctx context.Context, addrs []Address, o CreateOptions) error {
	nodes, err := m.validateNew(ctx, addrs, nil)
	if err != nil {
		return err
	}
	m.Nodes = nodes
	defer m.Close()

	text := report.CreateText{P: m.P}
	if masters := plan.MasterCount(len(nodes), o.Replicas); masters < 3 || o.Replicas < 0 {
		text.TooFewMasters(len(nodes), o.Replicas)
		return ErrReported
	}

	places, err := m.zonesOf(ctx, nodes, o.Zones)
	if err != nil {
		return err
	}
	text.Allocating(len(nodes))
	in := make([]plan.CreateNode, len(nodes))
	for i, n := range nodes {
		// The planner keeps replicas off their master's "host": with
		// zones, that is the zone.
		in[i] = plan.CreateNode{Host: places[i], Port: n.Port}
	}
	p, err := plan.Create(in, o.Replicas)
	if err != nil {
		return err
	}
	m.printCreatePlan(p)
	if o.DryRun {
		return nil
	}
	if o.Confirm != nil && !o.Confirm(report.AskCreate) {
		return nil // redis-cli exits 0 when the plan is declined
	}
	if err := join.Create(ctx, m.Nodes, join.CreateOptions{Timeout: o.JoinTimeout}, joinText{m.P}); err != nil {
		return m.joinFailed(err)
	}
	first := m.Nodes[0]
	for _, n := range m.Nodes[1:] {
		n.Client.Close()
	}
	m.Nodes = nil
	entry := &Node{Node: &cluster.Node{Host: first.Host, Port: first.Port, BusPort: first.BusPort}, Client: first.Client}
	if err := m.LoadFrom(ctx, entry); err != nil {
		return err
	}
	m.Check(ctx, false) // redis-cli ignores the result; the settle wait made it clean
	return nil
}

// printCreatePlan sets the plan's layout on the nodes, and prints the
// allocation and the node listing.
func (m *Manager) printCreatePlan(p *plan.CreatePlan) {
	join.Assign(m.Nodes, p)
	text := report.CreateText{P: m.P}
	for i := range p.Masters {
		r := p.Ranges[i]
		text.MasterSlots(i, r.Start, r.End)
	}
	for i, a := range p.Assignments {
		if i == p.ExtraFrom {
			text.ExtraReplicas()
		}
		text.AddingReplica(m.Nodes[a.Replica].Addr(), m.Nodes[a.Master].Addr())
	}
	if p.Optimized {
		text.Optimizing()
		switch {
		case p.Score == 0:
			text.PerfectAntiAffinity()
		case p.Score >= 10000:
			text.ReplicasWithMaster()
		default:
			text.ReplicasTogether()
		}
	}
	doc := report.CreatePlanDoc{Masters: []report.CreateMaster{}, Replicas: []report.CreateReplica{}}
	for i, n := range m.Nodes {
		if mi := p.MasterOf[i]; mi >= 0 {
			doc.Replicas = append(doc.Replicas, report.CreateReplica{Address: n.Addr(), Master: m.Nodes[mi].Addr()})
		} else if n.Slots.Count() > 0 {
			doc.Masters = append(doc.Masters, report.CreateMaster{Address: n.Addr(), Slots: report.Ranges(&n.Slots)})
		}
		m.P.ListNode(n.Node, true)
	}
	m.Plan = doc
}

// validateNew probes the nodes (join.Probe) before anything is written,
// and prints the first refusal in redis-cli's words; cantConnect, if set,
// adds to the connection message.
func (m *Manager) validateNew(ctx context.Context, addrs []Address, cantConnect func(Address)) ([]*Node, error) {
	p, err := join.Probe(ctx, m.Dial, addrs)
	m.P.FollowServer(p.Info)
	if err == nil {
		return p.Nodes, nil
	}
	if unknown := m.joinFailed(err); unknown != ErrReported {
		return nil, unknown
	}
	var ce *join.ConnectError
	var notNew *join.NotNewError
	switch {
	case errors.As(err, &ce) && cantConnect != nil:
		cantConnect(ce.Addr)
	case errors.As(err, &notNew) && notNew.Err == nil:
		return nil, ErrNotEmpty
	}
	return nil, ErrReported
}

// joinFailed prints why a join stopped (report.JoinText.JoinFailed) and
// returns ErrReported; an error it does not know (an interrupt) is
// returned as is.
func (m *Manager) joinFailed(err error) error {
	if (report.JoinText{P: m.P}).JoinFailed(err) {
		return ErrReported
	}
	return err
}

// joinText is create's and add-node's join.CreateObserver and
// join.AddObserver: redis-cli's lines.
type joinText struct{ P *report.Printer }

func (t joinText) Configured()      { report.CreateText(t).Configured() }
func (t joinText) AssigningEpochs() { report.CreateText(t).AssigningEpochs() }
func (t joinText) SendingMeets()    { report.CreateText(t).SendingMeets() }
func (t joinText) Joining()         { report.WaitText(t).Joining() }
func (t joinText) JoinSecond()      { report.WaitText(t).Dot() }
func (t joinText) Joined()          { report.WaitText(t).EndLine() }
func (t joinText) Unreachable(nodes []join.UnreachableNode) {
	report.WaitText(t).Unreachable(nodes)
}
func (t joinText) TimeoutNotRestored(n *Node, err error) {
	report.WaitText(t).TimeoutNotRestored(n.Addr(), err)
}
func (t joinText) GettingFunctions()         { report.JoinText(t).GettingFunctions() }
func (t joinText) NoFunctions(err error)     { report.JoinText(t).NoFunctions(report.ReplyText(err)) }
func (t joinText) CheckingFunctions(n *Node) { report.JoinText(t).CheckingFunctions(n.Addr()) }
func (t joinText) RestoringFunctions(n *Node) {
	report.JoinText(t).RestoringFunctions(n.Addr())
}
func (t joinText) SendingMeet(n *Node) { report.JoinText(t).SendingMeet(n.Addr()) }
func (t joinText) ConfiguringReplica(master *Node) {
	report.JoinText(t).ConfiguringReplica(master.Addr())
}
