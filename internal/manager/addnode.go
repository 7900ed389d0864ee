package manager

import (
	"context"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/join"
	"github.com/rcluster/rcluster/pkg/node"
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
	entry := m.Nodes[0]
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
	if known := m.NodeByID(nn.ID); known != nil {
		report.JoinText{P: m.P}.AlreadyMember(addr.String(), known.Addr())
		nn.Client.Close()
		return ErrReported
	}
	m.Nodes = append(m.Nodes, nn)
	role, masterAddr := "master", ""
	if master != nil {
		role, masterAddr = "replica", master.Addr()
	}
	m.Plan = map[string]string{"node": nn.Addr(), "role": role, "master": masterAddr}
	if o.DryRun {
		return nil
	}
	if master == nil {
		if err := m.copyFunctions(ctx, entry, nn); err != nil {
			return err
		}
	}
	report.JoinText{P: m.P}.SendingMeet(nn.Addr())
	meet, err := m.meetArgs(ctx, entry)
	if err != nil {
		return err
	}
	if _, err := node.Run(ctx, nn.Client, meet); err != nil {
		m.P.ReplyError(nn.Addr(), report.ReplyText(err))
		return ErrReported
	}
	deadline := time.Now().Add(o.SettleTimeout)
	m.intro = newIntroducer(ctx, m.Nodes)
	if master == nil {
		m.fresh = &newMasters{nodes: []*Node{nn}, since: time.Now()}
	}
	defer func() { m.intro, m.fresh = nil, nil }()
	if master != nil {
		if err := m.waitForJoin(ctx, deadline); err != nil {
			return err
		}
		report.JoinText{P: m.P}.ConfiguringReplica(master.Addr())
		if err := node.Replicate(ctx, nn.Client, master.ID); err != nil {
			m.P.ReplyError(nn.Addr(), report.ReplyText(err))
			return ErrReported
		}
		nn.MasterID = master.ID
	}
	if err := m.waitSettled(ctx, deadline, true); err != nil {
		return err
	}
	report.JoinText{P: m.P}.Added()
	return nil
}

// copyFunctions gives a new master the cluster's functions (FUNCTION DUMP
// on the entry node, RESTORE on the new one), as redis-cli 7 does.
func (m *Manager) copyFunctions(ctx context.Context, from, to *Node) error {
	text := report.JoinText{P: m.P}
	text.GettingFunctions()
	dump, err := node.Str(from.Client.Do(ctx, "FUNCTION", "DUMP"))
	if err != nil {
		text.NoFunctions(report.ReplyText(err))
		return nil
	}
	text.CheckingFunctions(to.Addr())
	v, err := to.Client.Do(ctx, "FUNCTION", "LIST")
	if err != nil {
		text.FunctionListFailed(report.ReplyText(err))
		return ErrReported
	}
	if l, _ := v.([]any); len(l) > 0 {
		text.HasFunctions()
		return ErrReported
	}
	text.RestoringFunctions(to.Addr())
	if _, err := to.Client.Do(ctx, "FUNCTION", "RESTORE", dump); err != nil {
		text.FunctionRestoreFailed(report.ReplyText(err))
		return ErrReported
	}
	return nil
}
