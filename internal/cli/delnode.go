package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
)

type delNodeOptions struct {
	addr   manager.Address
	id     string
	dryRun bool
	settle time.Duration
	// abandonSlots removes an unreachable master that still owns slots.
	abandonSlots bool
}

func newDelNodeCmd(f *factory, runF func(context.Context, *delNodeOptions) error) *cobra.Command {
	o := &delNodeOptions{}
	cmd := &cobra.Command{
		Use:   "del-node HOST:PORT NODE_ID",
		Short: "Remove a node without slots from the cluster (redis-cli --cluster del-node)",
		Long: `Move the node's replicas to other masters, make every other node forget it and
reset it. A master must hold no slot (drain it first with reshard or
rebalance --weight ID=0). A node that is down or unreachable can be removed
too: every reachable node forgets it (redis-cli cannot), unless it still
owns slots (let a replica take over first, or pass --abandon-slots). A node
that slots are still moving to or from is refused: run fix first. NODE_ID
may be shortened to a prefix that starts no other node's ID.

EXIT STATUS
  0  the node was removed and the cluster settled
  1  no such node, the node holds slots, slots are open with it, or a node
     refused`,
		Example: `  rcluster del-node 127.0.0.1:7000 3b1f24a5c8d1e0f9a7b6c5d4e3f2a1b0c9d8e7f6
  rcluster del-node 127.0.0.1:7000 3b1f`,
		Args: f.exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr, o.id = a, args[1]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runDelNode(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "run every check; remove nothing")
	cmd.Flags().BoolVar(&o.abandonSlots, "abandon-slots", false,
		"remove an unreachable master that still owns slots, giving up those slots and their keys")
	addSettleFlag(cmd.Flags(), &o.settle)
	return cmd
}

func runDelNode(ctx context.Context, f *factory, o *delNodeOptions) error {
	if err := f.refusePositive("--settle-timeout", o.settle); err != nil {
		return err
	}
	m := f.manager(manager.Options{})
	defer m.Close()
	report.JoinText{P: m.P}.Removing(o.id, o.addr.String())
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "del-node", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		return f.emit(m, "del-node", nil, false, err)
	}
	err := m.DelNode(ctx, o.id, o.settle, o.dryRun, o.abandonSlots)
	if err == nil && o.dryRun {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "del-node", o.dryRun, err)
}
