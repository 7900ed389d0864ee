package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/reset"
)

// ErrNotEmpty is create's (and add-node's) refusal of a node that is not
// empty, already reported; it is an ErrReported.
var ErrNotEmpty = fmt.Errorf("%w: a node is not empty", ErrReported)

// ResetTarget is a node given to reset, as it was before anything changed.
type ResetTarget = reset.Target

// InspectForReset connects to every node at once and inspects it with
// pkg/reset. Every target is returned, with Err set on those that failed;
// the first failure in argument order is reported in redis-cli's words,
// and then the error is ErrReported. A node given twice (under two names)
// is refused too. Targets keep their connection: the caller closes them
// (reset.Close).
func (m *Manager) InspectForReset(ctx context.Context, addrs []Address) ([]*ResetTarget, error) {
	targets := make([]*ResetTarget, len(addrs))
	for i, a := range addrs {
		targets[i] = &ResetTarget{Host: a.Host, Port: a.Port}
	}
	err := reset.InspectAll(ctx, m.Dial, targets)
	var failed *reset.TargetError
	var same *reset.SameNodeError
	switch {
	case errors.As(err, &failed):
		m.reportInspect(failed.Target)
	case errors.As(err, &same):
		m.P.SameNode(same.Target.Addr(), same.Prev.Addr(), same.Target.ID)
	default:
		return targets, err
	}
	return targets, ErrReported
}

// reportInspect prints why t could not be inspected.
func (m *Manager) reportInspect(t *ResetTarget) {
	addr := t.Addr()
	var de *reset.DialError
	var ie *reset.InspectError
	switch {
	case errors.As(t.Err, &de):
		m.reportConnect(addr, de.Err)
	case !errors.As(t.Err, &ie):
		m.reportConnect(addr, t.Err)
	case ie.NotCluster && ie.Err != nil:
		m.P.NotClusterNode(addr, report.ReplyText(ie.Err))
	case ie.NotCluster:
		m.P.NotClusterNode(addr, "")
	case errors.Is(ie.Err, cluster.ErrBadNodesReply):
		m.P.BadNodesReply()
	default:
		m.P.ReplyError(addr, report.ReplyText(ie.Err))
	}
}

// ResetAll resets every target that is not empty with pkg/reset, replicas
// first, then the masters, printing redis-cli style lines in target
// order. It returns each target's result.
func (m *Manager) ResetAll(ctx context.Context, targets []*ResetTarget, o reset.Options) ([]reset.Result, error) {
	return reset.ResetAll(ctx, targets, o, resetText{m.P})
}

// resetText is reset's reset.Observer: rcluster's lines.
type resetText struct{ p *report.Printer }

func (t resetText) Resetting(target *ResetTarget, flush bool) { t.p.Resetting(target.Addr(), flush) }
func (t resetText) Failed(target *ResetTarget, err error) {
	t.p.ReplyError(target.Addr(), report.ReplyText(err))
}
