package manager

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/settle"
)

// FailoverOptions are the settings of failover and evacuate.
type FailoverOptions struct {
	// Mode is "default" (CLUSTER FAILOVER: the master hands over once the
	// replica has all its writes), "force" or "takeover".
	Mode string
	// MaxLag is how many bytes of replication stream a replica may be
	// behind its master to be promoted without --force.
	MaxLag int64
	DryRun bool
	// Settle bounds the wait for every node to agree on the new master.
	Settle time.Duration
}

// Failover promotes the entry node, a replica, to master of its master's
// slots, once its replication shows it has its master's writes (unless
// forced), and waits until every node agrees on it.
func (m *Manager) Failover(ctx context.Context, o FailoverOptions) error {
	replica := m.Nodes[0]
	if replica.IsMaster() {
		m.P.FailoverNotReplica(replica.Addr())
		return ErrReported
	}
	master := m.NodeByID(replica.MasterID)
	d := m.failoverDoc(ctx, replica, master, o)
	m.Plan = d
	m.P.FailoverPlan(d)
	if d.Replication.Problem != "" && o.Mode == "default" {
		m.P.FailoverUnsafe(d)
		return ErrReported
	}
	m.P.FailoverForced(o.Mode, d.Replication.Problem)
	if o.DryRun {
		return nil
	}
	return m.failover(ctx, replica, master, d, time.Now().Add(o.Settle))
}

// failoverDoc describes the failover of master (nil when it could not be
// loaded) to replica, with the replica's replication state.
func (m *Manager) failoverDoc(ctx context.Context, replica, master *Node, o FailoverOptions) *report.FailoverDoc {
	d := &report.FailoverDoc{Master: replica.MasterID, Replica: replica.ID, ReplicaAddress: replica.Addr(), Mode: o.Mode}
	slots := m.slotsOf(master, replica.MasterID)
	d.Slots = report.Ranges(&slots)
	if master != nil {
		d.MasterAddress = master.Addr()
	} else if l := m.EntryLine(replica.MasterID); l != nil {
		d.MasterAddress = l.Host + ":" + strconv.Itoa(l.Port)
	}
	d.Replication = replicationOf(ctx, replica, master)
	d.Replication.Problem = report.ReplicationProblem(d.Replication, o.MaxLag)
	if d.Replication.Problem == "" && master != nil && (len(master.Migrating) > 0 || len(master.Importing) > 0) {
		// Open slots are not replicated: the new master would not know them.
		d.Replication.Problem = "its master has open slots (a move in progress); close them with 'rcluster fix' first"
	}
	return d
}

// slotsOf is a master's slots: its own view when it was loaded, the entry
// node's view of id otherwise.
func (m *Manager) slotsOf(master *Node, id string) cluster.SlotSet {
	if master != nil {
		return master.Slots
	}
	if l := m.EntryLine(id); l != nil {
		return l.Slots
	}
	return cluster.SlotSet{}
}

// replicationOf reads a replica's link to its master and how many bytes it
// is behind (INFO replication of both; master nil: unknown).
func replicationOf(ctx context.Context, replica, master *Node) report.ReplicationDoc {
	r := report.ReplicationDoc{Link: report.LinkUnknown, LagBytes: -1}
	if master == nil {
		return r
	}
	var replicaInfo, masterInfo string
	var replicaErr, masterErr error
	node.Each(2, func(i int) {
		if i == 0 {
			replicaInfo, replicaErr = node.Str(replica.Client.Do(ctx, "INFO", "replication"))
		} else {
			masterInfo, masterErr = node.Str(master.Client.Do(ctx, "INFO", "replication"))
		}
	})
	if replicaErr != nil || masterErr != nil {
		return r
	}
	r.Link = report.LinkDown
	if v, _ := node.InfoField(replicaInfo, "master_link_status"); v == "up" {
		r.Link = report.LinkUp
	}
	sync, _ := node.InfoField(replicaInfo, "master_sync_in_progress")
	r.Syncing = sync == "1"
	replicaOffset, err1 := infoInt(replicaInfo, "slave_repl_offset")
	masterOffset, err2 := infoInt(masterInfo, "master_repl_offset")
	if err1 == nil && err2 == nil {
		r.LagBytes = max(0, masterOffset-replicaOffset)
	}
	return r
}

func infoInt(info, field string) (int64, error) {
	v, _ := node.InfoField(info, field)
	return strconv.ParseInt(v, 10, 64)
}

// failover sends CLUSTER FAILOVER to replica and waits, until deadline,
// for every node to see it as the master of d's slots, then for the
// cluster to settle.
func (m *Manager) failover(ctx context.Context, replica, master *Node, d *report.FailoverDoc, deadline time.Time) error {
	args := []any{"CLUSTER", "FAILOVER"}
	if d.Mode != "default" {
		args = append(args, d.Mode)
	}
	m.P.FailoverSending(replica.Addr(), d.Mode)
	if _, err := replica.Client.Do(ctx, args...); !m.replied(replica, err) {
		return ErrReported
	}
	var slots cluster.SlotSet
	for _, r := range d.Slots {
		slots.AddRange(r.Start, r.End)
	}
	oldID := ""
	if master != nil {
		oldID = master.ID
	}
	left, err := m.pollUntilNone(ctx, deadline, func() []string { return m.newMasterProblems(ctx, replica.ID, oldID, &slots) })
	if err != nil {
		return err
	}
	if len(left) > 0 {
		m.P.FailoverNotAgreed(d, left)
		return ErrReported
	}
	if err := m.WaitSettled(ctx, deadline); err != nil {
		return err
	}
	replica.MasterID, replica.Slave, replica.Slots = "", false, slots
	if master != nil {
		master.MasterID, master.Slave, master.Slots = replica.ID, true, cluster.SlotSet{}
	}
	m.countReplicas()
	d.Done = true
	m.P.FailoverDone(d)
	return nil
}

// newMasterProblems lists the nodes that do not yet see node id as a
// master owning slots and, when oldID is set, the old master oldID as its
// replica. The settle wait that follows asks nothing of roles (at 150
// nodes and more they spread slowly), so the two nodes a failover changes
// are asked for here.
func (m *Manager) newMasterProblems(ctx context.Context, id, oldID string, slots *cluster.SlotSet) []string {
	var problems []string
	for i, text := range m.Views(ctx) {
		seen, err := cluster.LineOf(text, id)
		if text == "" || err != nil {
			problems = append(problems, m.Nodes[i].Addr()+": no CLUSTER NODES reply")
			continue
		}
		switch {
		case seen == nil:
			problems = append(problems, fmt.Sprintf("%s: does not know %s", m.Nodes[i].Addr(), id))
		case seen.MasterID != "" || !hasAll(&seen.Slots, slots):
			problems = append(problems, fmt.Sprintf("%s: sees %s as %s with slots %s", m.Nodes[i].Addr(), id, settle.RoleText(seen.MasterID), seen.Slots.String()))
		}
		if oldID != "" {
			problems = append(problems, replicaProblems(m.Nodes[i], text, map[string]string{oldID: id})...)
		}
	}
	return problems
}

// pollUntilNone asks problems until it reports none or deadline passes,
// and returns what it reported last (nil once none are left).
func (m *Manager) pollUntilNone(ctx context.Context, deadline time.Time, problems func() []string) ([]string, error) {
	for {
		left := problems()
		if len(left) == 0 || time.Now().After(deadline) {
			return left, nil
		}
		if err := sleep(ctx, m.clusterPoll()); err != nil {
			return left, err
		}
	}
}

// replicaProblems lists what n's CLUSTER NODES text shows other than each
// node of want (by ID) as a replica of want's master ID.
func replicaProblems(n *Node, text string, want map[string]string) []string {
	var problems []string
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if l, err := cluster.LineOf(text, id); err == nil && l != nil && !strings.EqualFold(l.MasterID, want[id]) {
			problems = append(problems, fmt.Sprintf("%s: sees %s as %s, not as a replica of %s", n.Addr(), id, settle.RoleText(l.MasterID), want[id]))
		}
	}
	return problems
}

// hasAll reports whether set holds every slot of sub.
func hasAll(set, sub *cluster.SlotSet) bool {
	for i := range sub {
		if sub[i]&^set[i] != 0 {
			return false
		}
	}
	return true
}

// Evacuate fails every master with slots on host over to a healthy
// replica on another host, one at a time, each waited for until every
// node agrees. Masters without such a replica are named and left alone;
// the run then fails.
// An empty host is the entry node's.
func (m *Manager) Evacuate(ctx context.Context, host string, o FailoverOptions) error {
	if host == "" {
		host = m.announcedHost(m.Nodes[0])
	}
	d := &report.EvacuateDoc{Host: host, Failovers: []*report.FailoverDoc{}, Left: []report.LeftDoc{}}
	m.Plan = d
	masters := m.mastersOn(host)
	sort.Slice(masters, func(i, j int) bool { return masters[i].Addr() < masters[j].Addr() })
	var steps []failoverStep
	for _, master := range masters {
		replica, doc, reason := m.evacuationReplica(ctx, master, host, o)
		if replica == nil {
			d.Left = append(d.Left, report.LeftDoc{Master: master.ID, Address: master.Addr(), Slots: report.Ranges(&master.Slots), Reason: reason})
			continue
		}
		d.Failovers = append(d.Failovers, doc)
		steps = append(steps, failoverStep{replica, master, doc})
	}
	m.P.EvacuatePlan(d)
	for _, s := range steps {
		m.P.FailoverPlan(s.doc)
		if o.DryRun {
			continue
		}
		if err := m.failover(ctx, s.replica, s.master, s.doc, time.Now().Add(o.Settle)); err != nil {
			return err
		}
	}
	if o.DryRun && len(d.Left) == 0 {
		return nil
	}
	m.P.EvacuateDone(d)
	if len(d.Left) > 0 {
		return ErrReported
	}
	return nil
}

// mastersOn lists the masters with slots on host (announcedHost), in
// node order.
func (m *Manager) mastersOn(host string) []*Node {
	var out []*Node
	for _, n := range m.Masters() {
		if m.announcedHost(n) == host && n.Slots.Count() > 0 {
			out = append(out, n)
		}
	}
	return out
}

// announcedHost is the host of n as the nodes know it: the entry node's
// own CLUSTER NODES line says it for the entry node, whose Host is as
// typed (a name, perhaps).
func (m *Manager) announcedHost(n *Node) string {
	if n == m.Nodes[0] {
		for _, l := range m.EntryView {
			if l.Myself() && l.Host != "" {
				return l.Host
			}
		}
	}
	return n.Host
}

// evacuationReplica picks the replica of master that takes over when host
// is evacuated: on another host, safe to promote, least behind (then by
// address). Without one, it says why.
func (m *Manager) evacuationReplica(ctx context.Context, master *Node, host string, o FailoverOptions) (*Node, *report.FailoverDoc, string) {
	var best *Node
	var bestDoc *report.FailoverDoc
	var unsafe []string
	for _, n := range m.Nodes {
		if n.MasterID == "" || !strings.EqualFold(n.MasterID, master.ID) || m.announcedHost(n) == host {
			continue
		}
		doc := m.failoverDoc(ctx, n, master, o)
		if doc.Replication.Problem != "" {
			unsafe = append(unsafe, n.Addr()+": "+doc.Replication.Problem)
			continue
		}
		if best == nil || doc.Replication.LagBytes < bestDoc.Replication.LagBytes ||
			doc.Replication.LagBytes == bestDoc.Replication.LagBytes && n.Addr() < best.Addr() {
			best, bestDoc = n, doc
		}
	}
	if best != nil {
		return best, bestDoc, ""
	}
	if len(unsafe) == 0 {
		return nil, nil, "no replica on another host"
	}
	return nil, nil, "no replica on another host is safe to promote (" + strings.Join(unsafe, "; ") + ")"
}
