package manager

import (
	"context"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/join"
)

// AddNodeOptions are add-node's settings.
type AddNodeOptions struct {
	Replica  bool
	MasterID string
	// SettleTimeout bounds the waits for the node to join and settle.
	SettleTimeout time.Duration
	// DryRun stops after every check: nothing is written.
	DryRun bool
}

// AddNode joins an empty node to the loaded (and checked) cluster, as a
// master or as a replica (clusterManagerCommandAddNode).
func (m *Manager) AddNode(ctx context.Context, addr Address, o AddNodeOptions) error {
	var master *Node
	if o.Replica {
		if o.MasterID != "" {
			var ok bool
			if master, ok = m.resolveNode(o.MasterID); !ok {
				return ErrReported
			}
			// redis-cli also accepts a replica's ID here; a replica cannot
			// have replicas, so rcluster refuses it before changing anything.
			if master == nil || master.IsReplica() {
				report.JoinText{P: m.P}.NoSuchMaster(o.MasterID)
				return ErrReported
			}
		} else {
			master = join.LeastReplicas(&m.Cluster, nil, nil)
			report.JoinText{P: m.P}.SelectedMaster(master.Addr())
		}
	}
	nodes, err := m.validateNew(ctx, []Address{addr}, func(a Address) {
		report.JoinText{P: m.P}.CannotConnect(a.String())
	})
	if err != nil {
		return err
	}
	nn := nodes[0]
	add := join.AddOptions{Master: master, Timeout: o.SettleTimeout}
	if err := join.CheckAdd(&m.Cluster, nn, add); err != nil {
		nn.Client.Close()
		return m.joinFailed(err)
	}
	role, masterAddr := "master", ""
	if master != nil {
		role, masterAddr = "replica", master.Addr()
	}
	m.Plan = map[string]string{"node": nn.Addr(), "role": role, "master": masterAddr}
	if o.DryRun {
		nn.Client.Close()
		return nil
	}
	if err := join.Add(ctx, &m.Cluster, nn, add, joinText{m.P}); err != nil {
		return m.joinFailed(err)
	}
	report.JoinText{P: m.P}.Added()
	return nil
}
