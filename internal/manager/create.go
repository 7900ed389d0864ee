package manager

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
)

// Address is a node given on the command line.
type Address struct {
	Host string
	Port int
}

func (a Address) String() string { return a.Host + ":" + fmt.Sprint(a.Port) }

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

// zonePrefix keeps a zone apart from a host of the same name.
const zonePrefix = "zone "

// zonesOf is where each node is for the layout: its zone when zones are
// given (by "host:port", else by host), else its host. A node without a
// zone, or a zone given for no node, is refused (before anything is
// written). Without zones given, the nodes' own availability-zone setting
// (Valkey 8) is used when every node has one.
func (m *Manager) zonesOf(ctx context.Context, nodes []*Node, zones map[string]string) ([]string, error) {
	places := make([]string, len(nodes))
	if len(zones) == 0 {
		for i, n := range nodes {
			places[i] = n.Host
		}
		if own := m.availabilityZones(ctx, nodes); own != nil {
			for i, z := range own {
				places[i] = zonePrefix + z
			}
		}
		return places, nil
	}
	used := map[string]bool{}
	var missing []string
	for i, n := range nodes {
		port := strconv.Itoa(n.Port)
		found := false
		for _, key := range []string{net.JoinHostPort(n.Host, port), n.Host + ":" + port, n.Host} {
			if z, ok := zones[key]; ok {
				places[i], used[key], found = zonePrefix+z, true, true
				break
			}
		}
		if !found {
			missing = append(missing, n.Addr())
		}
	}
	if len(missing) > 0 {
		report.CreateText{P: m.P}.NoZone(missing)
		return nil, ErrReported
	}
	for _, key := range slices.Sorted(maps.Keys(zones)) {
		if !used[key] {
			report.CreateText{P: m.P}.UnusedZone(key, zones[key])
			return nil, ErrReported
		}
	}
	return places, nil
}

// availabilityZones is every node's availability-zone setting (Valkey 8),
// or nil unless all of them have one; when only some do, stderr says that
// the layout is by host.
func (m *Manager) availabilityZones(ctx context.Context, nodes []*Node) []string {
	zones := make([]string, len(nodes))
	node.Each(len(nodes), func(i int) {
		if v, err := nodes[i].Client.Do(ctx, "CONFIG", "GET", "availability-zone"); err == nil {
			if kv, ok := v.([]any); ok && len(kv) == 2 {
				zones[i], _ = kv[1].(string)
			}
		}
	})
	set := 0
	for _, z := range zones {
		if z != "" {
			set++
		}
	}
	switch set {
	case len(nodes):
		return zones
	case 0:
		return nil
	}
	report.CreateText{P: m.P}.PartialZones(set, len(nodes))
	return nil
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
	if err := m.applyCreate(ctx, p, o); err != nil {
		return err
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

// printCreatePlan prints the allocation and the node listing of the plan,
// and sets the planned slots and masters on the nodes.
func (m *Manager) printCreatePlan(p *plan.CreatePlan) {
	text := report.CreateText{P: m.P}
	for i, mi := range p.Masters {
		r := p.Ranges[i]
		text.MasterSlots(i, r.Start, r.End)
		m.Nodes[mi].Slots = cluster.SlotSet{}
		m.Nodes[mi].Slots.AddRange(r.Start, r.End)
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
			n.MasterID = m.Nodes[mi].ID
			doc.Replicas = append(doc.Replicas, report.CreateReplica{Address: n.Addr(), Master: m.Nodes[mi].Addr()})
		} else if n.Slots.Count() > 0 {
			doc.Masters = append(doc.Masters, report.CreateMaster{Address: n.Addr(), Slots: report.Ranges(&n.Slots)})
		}
		m.P.ListNode(n.Node, true)
	}
	m.Plan = doc
}

// validateNew connects to every node and checks, before anything is
// written, that each is a reachable, empty cluster node given only once.
// Failures are reported for the first failing node in argument order, in
// redis-cli's words; cantConnect, if set, adds to the connection message.
func (m *Manager) validateNew(ctx context.Context, addrs []Address, cantConnect func(Address)) ([]*Node, error) {
	nodes := make([]*Node, len(addrs))
	type probe struct {
		client            node.Client
		dialErr           error
		info, cinfo       string
		infoErr, nodesErr error
		cinfoErr          error
		own               *cluster.Line
	}
	res := make([]probe, len(addrs))
	node.Each(len(addrs), func(i int) {
		a, r := addrs[i], &res[i]
		r.client, r.dialErr = m.Dial(ctx, a.Host, a.Port)
		if r.dialErr != nil {
			return
		}
		c := r.client
		r.info, r.infoErr = node.Str(c.Do(ctx, "INFO"))
		if r.infoErr != nil {
			return
		}
		r.own, r.nodesErr = inspect.OwnLine(ctx, c)
		if !strings.Contains(r.info, "db0:") {
			r.cinfo, r.cinfoErr = node.ClusterInfo(ctx, c)
		}
	})
	closeAll := func() {
		for _, r := range res {
			if r.client != nil {
				r.client.Close()
			}
		}
	}
	for _, r := range res {
		if r.info != "" { // the first node that answered is the entry node
			m.P.FollowServer(r.info)
			break
		}
	}
	for i, a := range addrs {
		r := res[i]
		n := &Node{Node: &cluster.Node{Host: a.Host, Port: a.Port}, Client: r.client}
		nodes[i] = n
		if !m.reportConnect(a.String(), r.dialErr) {
			if cantConnect != nil {
				cantConnect(a)
			}
			closeAll()
			return nil, ErrReported
		}
		if r.infoErr != nil {
			m.P.NotClusterNode(n.Addr(), report.ReplyText(r.infoErr))
			closeAll()
			return nil, ErrReported
		}
		if v, _ := node.InfoField(r.info, "cluster_enabled"); cluster.Atoi(v) != 1 {
			m.P.NotClusterNode(n.Addr(), "")
			closeAll()
			return nil, ErrReported
		}
		if r.nodesErr != nil {
			if r.nodesErr == cluster.ErrBadNodesReply {
				m.P.BadNodesReply()
			} else {
				m.P.ReplyError(n.Addr(), report.ReplyText(r.nodesErr))
			}
			closeAll()
			return nil, ErrReported
		}
		if r.own != nil {
			n.Apply(r.own, true)
		}
		empty := !strings.Contains(r.info, "db0:")
		if empty {
			if r.cinfoErr != nil {
				m.P.NotEmpty(n.Addr(), report.ReplyText(r.cinfoErr))
				closeAll()
				return nil, ErrReported
			}
			v, _ := node.InfoField(r.cinfo, "cluster_known_nodes")
			empty = cluster.Atoi(v) == 1
		}
		if !empty {
			m.P.NotEmpty(n.Addr(), "")
			closeAll()
			return nil, ErrNotEmpty
		}
	}
	// redis-cli accepts a node given twice and builds a broken cluster: refuse.
	seen := map[string]*Node{}
	for _, n := range nodes {
		if prev, dup := seen[n.ID]; dup {
			m.P.SameNode(n.Addr(), prev.Addr(), n.ID)
			closeAll()
			return nil, ErrReported
		}
		seen[n.ID] = n
	}
	return nodes, nil
}

// applyCreate writes the plan to the nodes, joins them and waits until the
// cluster has settled.
func (m *Manager) applyCreate(ctx context.Context, p *plan.CreatePlan, o CreateOptions) error {
	// Slots, all masters at once. redis-cli silently ignores an ADDSLOTS
	// failure; we stop, since nothing is joined yet.
	errs := make([]error, len(m.Nodes))
	node.Each(len(m.Nodes), func(i int) {
		n := m.Nodes[i]
		if n.IsReplica() || n.Slots.Count() == 0 {
			return
		}
		errs[i] = node.AddSlots(ctx, n.Client, n.Slots.Slots()...)
	})
	if err := m.firstError(errs); err != nil {
		return err
	}
	fresh := &newMasters{since: time.Now()}
	for _, n := range m.Nodes {
		if n.IsMaster() && n.Slots.Count() > 0 {
			fresh.nodes = append(fresh.nodes, n)
		}
	}
	text := report.CreateText{P: m.P}
	text.Configured()
	text.AssigningEpochs()
	node.Each(len(m.Nodes), func(i int) {
		_ = node.SetConfigEpoch(ctx, m.Nodes[i].Client, i+1) // errors ignored, as redis-cli does
	})
	text.SendingMeets()
	meet, err := m.meetArgs(ctx, m.Nodes[0])
	if err != nil {
		return err
	}
	errs = make([]error, len(m.Nodes))
	node.Each(len(m.Nodes)-1, func(i int) { _, errs[i+1] = node.Run(ctx, m.Nodes[i+1].Client, meet) })
	if err := m.firstError(errs); err != nil {
		return err
	}

	deadline := time.Now().Add(o.JoinTimeout)
	m.intro, m.fresh = newIntroducer(ctx, m.Nodes), fresh
	defer func() { m.intro, m.fresh = nil, nil }()
	if err := m.waitForJoin(ctx, deadline); err != nil {
		return err
	}
	errs = make([]error, len(m.Nodes))
	node.Each(len(m.Nodes), func(i int) {
		if n := m.Nodes[i]; n.IsReplica() {
			errs[i] = node.Replicate(ctx, n.Client, n.MasterID)
		}
	})
	if err := m.firstError(errs); err != nil {
		return err
	}
	return m.waitSettled(ctx, deadline, true)
}

// firstError prints the first error reply in node order, as redis-cli's
// "Node ... replied with error", and returns ErrReported; nil if none.
func (m *Manager) firstError(errs []error) error {
	for i, err := range errs {
		if err != nil {
			m.P.ReplyError(m.Nodes[i].Addr(), report.ReplyText(err))
			return ErrReported
		}
	}
	return nil
}

// meetArgs is the CLUSTER MEET that introduces n to another node; it
// prints redis-cli's message when n's host does not resolve.
func (m *Manager) meetArgs(ctx context.Context, n *Node) (node.Cmd, error) {
	args, err := meetCommand(ctx, n)
	if err != nil {
		m.P.InvalidHost(n.Host)
		return nil, ErrReported
	}
	return args, nil
}

func meetCommand(ctx context.Context, n *Node) (node.Cmd, error) {
	ip, err := resolveIP(ctx, n.Host)
	if err != nil {
		return nil, err
	}
	return node.MeetCmd(ip, n.Port, n.BusPort), nil
}

// resolveIP turns a host into the IP that CLUSTER MEET needs.
func resolveIP(ctx context.Context, host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("cannot resolve %s", host)
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String(), nil
		}
	}
	return ips[0].String(), nil
}
