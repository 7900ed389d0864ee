package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
)

type addNodeOptions struct {
	newAddr, existing manager.Address
	replica           bool
	masterID          string
	dryRun            bool
	settle            time.Duration
}

func newAddNodeCmd(f *factory, runF func(context.Context, *addNodeOptions) error) *cobra.Command {
	o := &addNodeOptions{}
	cmd := &cobra.Command{
		Use:   "add-node NEW_HOST:PORT EXISTING_HOST:PORT",
		Short: "Add an empty node as a master or a replica (redis-cli --cluster add-node)",
		Long: `Check the cluster through the existing node, check that the new node is
empty, give it the cluster's functions (as a master), make it meet the
cluster and, with --replica, attach it to the given master or to the master
with the fewest replicas. Returns when every node knows the new one and
reports cluster_state:ok. A new master's rejoin delay is ended as by create
(its cluster-node-timeout is lowered for a moment, then set back).

EXIT STATUS
  0  the node was added and the cluster settled
  1  the cluster or the new node was refused, or the join failed`,
		Example: `  rcluster add-node 127.0.0.1:7006 127.0.0.1:7000
  rcluster add-node 127.0.0.1:7007 127.0.0.1:7000 --replica --master-id 3b1f`,
		Args: f.exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.existing, err = f.parseOneHost(args[1]); err != nil {
				return err
			}
			if o.newAddr, err = f.parseOneHost(args[0]); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runAddNode(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.replica, "replica", false, "add the node as a replica (redis-cli's --cluster-slave)")
	cmd.Flags().StringVar(&o.masterID, "master-id", "", "the master of the new replica, by ID or unique prefix (default: the one with the fewest replicas)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "run every check; add nothing")
	addSettleFlag(cmd.Flags(), &o.settle)
	return cmd
}

func runAddNode(ctx context.Context, f *factory, o *addNodeOptions) error {
	if err := f.refusePositive("--settle-timeout", o.settle); err != nil {
		return err
	}
	m := f.manager(manager.Options{})
	defer m.Close()
	report.JoinText{P: m.P}.Adding(o.newAddr.String(), o.existing.String())
	if err := m.Load(ctx, o.existing.Host, o.existing.Port); err != nil {
		return f.emit(m, "add-node", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		return f.emit(m, "add-node", nil, false, err)
	}
	if !m.Check(ctx, false) {
		return f.emit(m, "add-node", nil, false, manager.ErrReported)
	}
	err := m.AddNode(ctx, o.newAddr, manager.AddNodeOptions{
		Replica: o.replica, MasterID: o.masterID, SettleTimeout: o.settle, DryRun: o.dryRun,
	})
	if err == nil && o.dryRun {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "add-node", o.dryRun, err)
}
