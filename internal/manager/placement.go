package manager

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/node"
	"github.com/rcluster/rcluster/pkg/plan"
	"github.com/rcluster/rcluster/pkg/settle"
)

// PlacementOptions are the settings of placement.
type PlacementOptions struct {
	// Zones, when set, are the places instead of the hosts (as create's).
	Zones map[string]string
	// Apply moves replicas (CLUSTER REPLICATE) to a better layout.
	Apply  bool
	DryRun bool
	// Settle bounds the wait for every node to agree after the moves.
	Settle time.Duration
}

// Placement reports the shards whose replicas share their master's host
// (or zone) and, with Apply, gives replicas other masters of the same
// replica count so that as few as the places allow do, without moving a
// slot or a key; it then waits until every node agrees. It fails
// (ErrReported) when a replica still shares its master's place.
func (m *Manager) Placement(ctx context.Context, o PlacementOptions) error {
	places, err := m.zonesOf(ctx, m.Nodes, o.Zones)
	if err != nil {
		return err
	}
	// What the text shows: the zone or host, without zonesOf's prefix.
	shown := func(i int) string { return strings.TrimPrefix(places[i], join.ZonePrefix) }
	d := &report.PlacementDoc{By: "host", Shards: []report.ShardDoc{}, Moves: []report.ReplicaMoveDoc{}, Shared: []report.SharedDoc{}}
	if strings.HasPrefix(places[0], join.ZonePrefix) {
		d.By = "zone"
	}
	m.Plan = d
	in := make([]plan.CreateNode, len(m.Nodes))
	masterOf := make([]int, len(m.Nodes))
	index := map[*Node]int{}
	for i, n := range m.Nodes {
		in[i] = plan.CreateNode{Host: places[i], Port: n.Port}
		index[n] = i
	}
	for i, n := range m.Nodes {
		masterOf[i] = -1
		if master := m.NodeByID(n.MasterID); n.IsReplica() && master != nil {
			masterOf[i] = index[master]
		}
	}
	for i, n := range m.Nodes {
		if masterOf[i] >= 0 || !n.IsMaster() {
			continue
		}
		s := report.ShardDoc{Master: n.ID, Address: n.Addr(), Place: shown(i), Replicas: []report.ReplicaDoc{}}
		for j, r := range m.Nodes {
			if masterOf[j] != i {
				continue
			}
			s.Replicas = append(s.Replicas, report.ReplicaDoc{ID: r.ID, Address: r.Addr(), Place: shown(j)})
			if places[j] == places[i] {
				d.Shared = append(d.Shared, report.SharedDoc{Replica: r.Addr(), Master: n.Addr(), Place: shown(i)})
			}
		}
		d.Shards = append(d.Shards, s)
	}
	m.P.Placement(d)
	if !o.Apply {
		if len(d.Shared) > 0 {
			return ErrReported
		}
		return nil
	}
	if len(d.Shared) == 0 {
		return nil
	}
	improved, _, _ := plan.Placement(in, masterOf)
	var moves []int
	for i := range m.Nodes {
		if improved[i] != masterOf[i] {
			moves = append(moves, i)
			to := m.Nodes[improved[i]]
			d.Moves = append(d.Moves, report.ReplicaMoveDoc{Replica: m.Nodes[i].Addr(), ID: m.Nodes[i].ID,
				From: m.Nodes[masterOf[i]].Addr(), To: to.Addr(), ToID: to.ID})
		}
	}
	m.P.PlacementMoves(d)
	shared := 0
	for i := range m.Nodes {
		if improved[i] >= 0 && places[i] == places[improved[i]] {
			shared++
		}
	}
	if o.DryRun || len(moves) == 0 {
		return placementVerdict(shared)
	}
	if m.Confirm != nil && !m.Confirm(report.AskMoveReplicas) {
		return nil
	}
	want := map[string]string{}
	for _, i := range moves {
		if !m.replied(m.Nodes[i], node.Replicate(ctx, m.Nodes[i].Client, m.Nodes[improved[i]].ID)) {
			return ErrReported
		}
		want[m.Nodes[i].ID] = m.Nodes[improved[i]].ID
	}
	// Every node sees each moved replica under its new master, then the
	// cluster settles (the settle wait asks nothing of roles).
	deadline := time.Now().Add(o.Settle)
	left, err := settle.Until(ctx, len(m.Nodes), deadline, func() []string {
		var problems []string
		for i, text := range m.Views(ctx) {
			problems = append(problems, replicaProblems(m.Nodes[i], text, want)...)
		}
		return problems
	})
	if err != nil {
		return err
	}
	if len(left) > 0 {
		m.P.PlacementNotAgreed(o.Settle, left)
		return ErrReported
	}
	if err := m.WaitSettled(ctx, deadline); err != nil {
		return err
	}
	m.P.PlacementDone(d.By, shared)
	return placementVerdict(shared)
}

func placementVerdict(shared int) error {
	if shared > 0 {
		return ErrReported
	}
	return nil
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
