package manager

import (
	"context"
	"errors"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/failover"
)

// FailoverOptions are the settings of failover and evacuate: pkg/failover's
// and the dry run.
type FailoverOptions struct {
	failover.Options
	// DryRun plans and prints the plan, and fails nothing over.
	DryRun bool
}

// Failover promotes the entry node, a replica, to master of its master's
// slots with pkg/failover, once its replication shows it has its master's
// writes (unless forced), and waits until every node agrees on it.
func (m *Manager) Failover(ctx context.Context, o FailoverOptions) error {
	replica := m.Nodes[0]
	f, err := failover.Plan(ctx, &m.Cluster, replica.ID, o.Options)
	if f == nil {
		var notReplica *failover.NotReplicaError
		if errors.As(err, &notReplica) {
			m.P.FailoverNotReplica(replica.Addr())
			return ErrReported
		}
		return err
	}
	d := report.FailoverDocOf(f)
	m.Plan = d
	m.P.FailoverPlan(d)
	if err != nil {
		m.P.FailoverUnsafe(d) // an *UnsafeError, the one error with a plan
		return ErrReported
	}
	m.P.FailoverForced(d.Mode, d.Replication.Problem)
	if o.DryRun {
		return nil
	}
	err = failover.Run(ctx, &m.Cluster, f, failoverText{m})
	m.Plan = report.FailoverDocOf(f)
	return m.failoverFailed(err)
}

// Evacuate fails every master with slots on host over to a healthy
// replica on another host with pkg/failover, one at a time, each waited
// for until every node agrees. Masters without such a replica are named
// and left alone; the run then fails.
// An empty host is the entry node's.
func (m *Manager) Evacuate(ctx context.Context, host string, o FailoverOptions) error {
	ev := failover.PlanEvacuation(ctx, &m.Cluster, host, o.Options)
	d := report.EvacuateDocOf(ev)
	m.Plan = d
	defer func() { m.Plan = report.EvacuateDocOf(ev) }() // with the failovers done
	m.P.EvacuatePlan(d)
	if o.DryRun {
		for _, f := range ev.Failovers {
			m.P.FailoverPlan(report.FailoverDocOf(f))
		}
		if len(ev.Left) == 0 {
			return nil
		}
	} else if err := failover.Evacuate(ctx, &m.Cluster, ev, failoverText{m}); err != nil {
		var left *failover.LeftError
		if !errors.As(err, &left) {
			return m.failoverFailed(err)
		}
	}
	m.P.EvacuateDone(report.EvacuateDocOf(ev))
	if len(ev.Left) > 0 {
		return ErrReported
	}
	return nil
}

// failoverText is a failover's failover.Observer: rcluster's lines.
type failoverText struct{ m *Manager }

func (t failoverText) Starting(f *failover.Failover) { t.m.P.FailoverPlan(report.FailoverDocOf(f)) }

func (t failoverText) Sending(f *failover.Failover) {
	t.m.P.FailoverSending(f.Replica.Addr(), string(f.Options.Mode))
}

func (t failoverText) Done(f *failover.Failover) {
	t.m.warnOrphans(t.m.Orphans)
	t.m.P.FailoverDone(report.FailoverDocOf(f))
}

// failoverFailed prints what stopped a failover (failover.Run), and
// returns ErrReported; other errors (nil, the context's) it returns.
func (m *Manager) failoverFailed(err error) error {
	var refused *failover.NodeError
	var notAgreed *failover.NotAgreedError
	switch {
	case errors.As(err, &refused):
		m.P.ReplyError(refused.Node.Addr(), report.ReplyText(refused.Err))
	case errors.As(err, &notAgreed):
		m.P.FailoverNotAgreed(report.FailoverDocOf(notAgreed.Failover), report.Disagreements(notAgreed.Disagreements))
	default:
		if !(report.WaitText{P: m.P}).Failed(err) {
			return err
		}
	}
	return ErrReported
}
