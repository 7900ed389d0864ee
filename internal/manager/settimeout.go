package manager

import (
	"context"
	"errors"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/admin"
	"github.com/rcluster/rcluster/pkg/node"
)

// SetTimeout sets cluster-node-timeout on every loaded node and saves it in
// the node's config file (clusterManagerCommandSetTimeout): CONFIG SET then
// CONFIG REWRITE, on all nodes at once, reported in node order. A node that
// fails is reported; it does not stop the others. It returns each node's
// error (nil when it was set), in node order.
func (m *Manager) SetTimeout(ctx context.Context, ms int64, dryRun bool) []error {
	errs := make([]error, len(m.Nodes))
	text := report.SetTimeoutText{P: m.P}
	if dryRun {
		for _, n := range m.Nodes {
			text.WouldSet(ms, n.Addr())
		}
		return errs
	}
	text.Reconfiguring()
	errs = admin.SetTimeout(ctx, m.Nodes, ms)
	ok, failed := 0, 0
	for i, n := range m.Nodes {
		if errs[i] == nil {
			text.Set(n.Addr())
			ok++
			continue
		}
		// redis-cli prints the error reply, and nothing when there was no
		// reply at all.
		msg := ""
		var re *node.ReplyError
		if errors.As(errs[i], &re) {
			msg = re.Msg
		}
		text.Failed(n.Addr(), msg)
		failed++
	}
	text.Done(ok, failed)
	return errs
}
