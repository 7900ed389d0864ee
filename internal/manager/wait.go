package manager

import (
	"context"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/settle"
)

// WaitSettled waits, until deadline, for the nodes to agree on slots and
// roles and to report cluster_state:ok (settle.Wait), naming what did not
// settle.
func (m *Manager) WaitSettled(ctx context.Context, deadline time.Time) error {
	if err := settle.Wait(ctx, &m.Cluster, settle.Options{}, deadline); err != nil {
		if (report.WaitText{P: m.P}).Failed(err) {
			return ErrReported
		}
		return err
	}
	return nil
}
