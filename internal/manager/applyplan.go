package manager

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/failover"
	"github.com/rcluster/rcluster/pkg/settle"
)

// Plans of evacuate and fix, carried out by apply.

// CheckPlan refuses a plan file this build cannot carry out, whatever its
// command: another version, an unknown command, or a plan whose content
// does not hold together (see PlanMoves for moves).
func CheckPlan(pf report.PlanFile) error {
	switch pf.Command {
	case "evacuate":
		return checkEvacuationPlan(pf)
	case "fix":
		if err := checkPlanVersion(pf); err != nil {
			return err
		}
		if pf.Fix == nil {
			return fmt.Errorf("a fix plan without its problems (\"fix\")")
		}
		return nil
	default:
		_, err := PlanMoves(pf)
		return err
	}
}

// checkEvacuationPlan refuses an evacuate plan whose failovers are not
// between two distinct nodes of the plan, name a node twice, are not
// plain failovers, or hold bad slot ranges.
func checkEvacuationPlan(pf report.PlanFile) error {
	if err := checkPlanVersion(pf); err != nil {
		return err
	}
	if pf.Evacuation == nil {
		return fmt.Errorf("an evacuate plan without its failovers (\"evacuation\")")
	}
	nodes := map[string]bool{}
	for _, n := range pf.Nodes {
		nodes[n.ID] = true
	}
	seen := map[string]bool{}
	for i, d := range pf.Evacuation.Failovers {
		if d == nil {
			return fmt.Errorf("failover %d is empty", i+1)
		}
		if _, err := report.SlotsOfRanges(d.Slots); err != nil {
			return fmt.Errorf("failover %d: %v", i+1, err)
		}
		switch {
		case !nodes[d.Master] || !nodes[d.Replica] || d.Master == d.Replica:
			return fmt.Errorf("failover %d: master %q and replica %q, not two nodes of the plan", i+1, d.Master, d.Replica)
		case seen[d.Master] || seen[d.Replica]:
			return fmt.Errorf("failover %d: a node of it is in another failover", i+1)
		case d.Mode != "default":
			return fmt.Errorf("failover %d: mode %q, an evacuation fails over with its masters' agreement (default)", i+1, d.Mode)
		}
		seen[d.Master], seen[d.Replica] = true, true
	}
	return nil
}

// ApplyEvacuation carries out an evacuate plan's failovers still to do,
// one at a time, each waited for as evacuate waits (at most settle), once
// the loaded cluster matches the plan: the same nodes, each planned master
// still a master on the host with the planned slots, its planned replica
// still its replica elsewhere and safe to promote. A failover already made
// is refused without o.Resume and skipped with it. A mismatch is refused,
// naming the first one, before any failover.
func (m *Manager) ApplyEvacuation(ctx context.Context, o ApplyOptions, settle time.Duration) error {
	if err := CheckPlan(o.Plan); err != nil {
		report.ApplyText{P: m.P}.CannotApply(err)
		return ErrReported
	}
	ev := o.Plan.Evacuation
	fo := failover.Options{Mode: failover.Default, MaxLag: ev.MaxLag, Settle: settle}
	var steps []*failover.Failover
	var done []string
	msg := m.planNodesMismatch(o.Plan)
	if msg == "" {
		steps, done, msg = m.evacuationSteps(ctx, o, fo)
	}
	if msg != "" {
		report.ApplyText{P: m.P}.Mismatch(msg)
		return ErrReported
	}
	d := &report.EvacuateDoc{Host: ev.Host, Failovers: []*report.FailoverDoc{}, Left: []report.LeftDoc{}}
	m.Plan = d
	for _, f := range steps {
		d.Failovers = append(d.Failovers, report.FailoverDocOf(f))
	}
	record := func() {
		if o.RecordFailovers != nil {
			o.RecordFailovers(done)
		}
	}
	record()
	if len(steps) == 0 {
		report.ApplyText{P: m.P}.FailoversDone()
	} else {
		m.P.EvacuatePlan(d)
	}
	obs := failoverText{m}
	for i, f := range steps {
		obs.Starting(f)
		err := failover.Run(ctx, &m.Cluster, f, obs)
		d.Failovers[i].Done = f.Done
		if err != nil {
			return m.failoverFailed(err)
		}
		done = append(done, f.Master.ID)
		record()
	}
	// A master that came to the host since the plan was made stays.
	for _, n := range failover.MastersOn(&m.Cluster, ev.Host) {
		d.Left = append(d.Left, report.LeftDoc{Master: n.ID, Address: n.Addr(), Slots: report.Ranges(&n.Slots), Reason: "not in the plan"})
	}
	m.P.EvacuateDone(d)
	if len(d.Left) > 0 {
		return ErrReported
	}
	return nil
}

// evacuationSteps matches an evacuate plan's failovers with the loaded
// cluster: the failovers still to make, the masters whose failover is
// done, or the first difference that forbids applying the plan.
func (m *Manager) evacuationSteps(ctx context.Context, o ApplyOptions, fo failover.Options) (steps []*failover.Failover, done []string, mismatch string) {
	ev := o.Plan.Evacuation
	recorded := map[string]bool{}
	for _, id := range o.FailoversDone {
		recorded[id] = true
	}
	name := func(n *Node) string { return n.ID + " (" + n.Addr() + ")" }
	host := func(n *Node) string { return failover.AnnouncedHost(&m.Cluster, n) }
	for _, p := range ev.Failovers {
		master, replica := m.NodeByID(p.Master), m.NodeByID(p.Replica) // both there: planNodesMismatch
		slots, _ := report.SlotsOfRanges(p.Slots)
		if replica.IsMaster() && replica.Slots == slots {
			if !o.Resume {
				return nil, nil, fmt.Sprintf("master %s was already failed over to %s: continue an interrupted apply with --resume", name(master), name(replica))
			}
			done = append(done, master.ID)
			continue
		}
		switch {
		case recorded[master.ID]:
			return nil, nil, fmt.Sprintf("the failover of %s to %s is recorded as done, but %s is %s with slots %s", name(master), name(replica), name(replica), settle.RoleText(replica.MasterID), replica.Slots.String())
		case master.IsReplica():
			return nil, nil, fmt.Sprintf("master %s of the plan is now %s", name(master), settle.RoleText(master.MasterID))
		case host(master) != ev.Host:
			return nil, nil, fmt.Sprintf("master %s is on host %s, not on %s", name(master), host(master), ev.Host)
		case master.Slots != slots:
			return nil, nil, fmt.Sprintf("master %s owns slots %s, the plan fails over slots %s", name(master), master.Slots.String(), slots.String())
		case !strings.EqualFold(replica.MasterID, master.ID):
			return nil, nil, fmt.Sprintf("node %s, the replica the plan promotes in place of %s, is %s", name(replica), name(master), settle.RoleText(replica.MasterID))
		case host(replica) == ev.Host:
			return nil, nil, fmt.Sprintf("replica %s is on the host evacuated, %s", name(replica), ev.Host)
		}
		// replica's master is master: Plan fails over master.
		f, err := failover.Plan(ctx, &m.Cluster, replica.ID, fo)
		if err != nil {
			return nil, nil, fmt.Sprintf("replica %s is not safe to promote: %s", name(replica), report.FailoverProblem(f))
		}
		steps = append(steps, f)
	}
	return steps, done, ""
}

// FixPlanMismatch checks the loaded cluster as fix --plan-out did, with
// nothing printed or repaired, and names the first difference between the
// problems it finds and the plan's, or a node not in both; "" when they
// match.
func (m *Manager) FixPlanMismatch(ctx context.Context, pf report.PlanFile) string {
	if msg := m.planNodesMismatch(pf); msg != "" {
		return msg
	}
	printer, problems, errs := m.P, m.Problems, m.Errors
	m.P = m.P.WithOut(io.Discard, io.Discard)
	m.Check(ctx, true)
	found := m.Problems
	m.P, m.Problems, m.Errors = printer, problems, errs
	return problemsDiff(pf.Fix.Problems, found)
}

// problemsDiff names a problem found that is not planned, or one planned
// that is not found (compared by kind, node, slots and nodes), or "".
func problemsDiff(planned, found []report.Problem) string {
	key := func(p report.Problem) string { return fmt.Sprint(p.Kind, p.Node, p.Slots, p.Ranges, p.Nodes) }
	left := map[string]int{}
	for _, p := range planned {
		left[key(p)]++
	}
	for _, p := range found {
		if left[key(p)] == 0 {
			return "the check finds a problem the plan does not list: " + problemText(p)
		}
		left[key(p)]--
	}
	for _, p := range planned {
		if left[key(p)] > 0 {
			return "the plan lists a problem the check no longer finds: " + problemText(p)
		}
	}
	return ""
}

// problemText is a problem's message with its slots.
func problemText(p report.Problem) string {
	set := cluster.SlotsOf(p.Slots...)
	if ranges, err := report.SlotsOfRanges(p.Ranges); err == nil {
		set.Union(&ranges)
	}
	if set.Count() == 0 {
		return p.Message
	}
	return p.Message + " (slots " + set.String() + ")"
}
