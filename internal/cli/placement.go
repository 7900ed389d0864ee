package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type placementOptions struct {
	addr     manager.Address
	zoneArgs []string
	zones    map[string]string
	apply    bool
	dryRun   bool
	settle   time.Duration
}

func newPlacementCmd(f *factory, runF func(context.Context, *placementOptions) error) *cobra.Command {
	o := &placementOptions{}
	cmd := &cobra.Command{
		Use:   "placement HOST:PORT [--zone HOST=ZONE ...] [--apply]",
		Short: "Report replicas in their master's host or zone, and move them out",
		Long: `List every shard (a master and its replicas) with the place of each node: its
host as the nodes announce it, or with --zone its zone (HOST=ZONE for every
host or HOST:PORT=ZONE for every node, as create takes them; without it,
the nodes' availability-zone setting when every node has one). A replica in
the same place as its master is reported: when that place goes down, the
shard loses its master and the copy meant to replace it.

--apply gives such replicas other masters (CLUSTER REPLICATE), each master
keeping its number of replicas, so that as few replicas as the places allow
share their master's place; no slot and no key moves, and as few replicas
as possible change master (each one resyncs its data from the new master).
It asks first (or takes --yes) and waits, at most --settle-timeout, until
every node agrees. --dry-run prints the moves and changes nothing.

EXIT STATUS
  0  no replica is in the same place as its master (after the moves, with
     --apply)
  1  some are (with --apply: no layout of these nodes avoids it), a node
     refused, or the nodes did not agree in time`,
		Example: `  rcluster placement 10.0.0.1:7000
  rcluster placement 10.0.1.5:7000 --zone 10.0.1.5=a --zone 10.0.1.6=a --zone 10.0.2.5=b --zone 10.0.2.6=b --apply --yes`,
		Args: f.minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.zones, err = parseZones(o.zoneArgs); err != nil {
				fmt.Fprintf(f.IO.ErrOut, "%v\n", err)
				return &exitError{ExitFailure}
			}
			return onHostArgs(f, &o.addr, o, runF, runPlacement)(cmd, args)
		},
	}
	cmd.Flags().StringArrayVar(&o.zoneArgs, "zone", nil, "`HOST=ZONE` or HOST:PORT=ZONE: places are zones (repeat for every host or node)")
	cmd.Flags().BoolVar(&o.apply, "apply", false, "move replicas out of their master's place (CLUSTER REPLICATE)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "with --apply: print the moves; change nothing")
	addSettleFlag(cmd.Flags(), &o.settle)
	return cmd
}

func runPlacement(ctx context.Context, f *factory, o *placementOptions) error {
	if err := f.refusePositive("--settle-timeout", o.settle); err != nil {
		return err
	}
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "placement", nil, false, err)
	}
	if o.apply && !o.dryRun {
		if err := f.aloneOnCluster(ctx, m, false); err != nil {
			return f.emit(m, "placement", nil, false, err)
		}
		if !f.global.yes {
			m.Confirm = f.prompter().Confirm
		}
	}
	err := m.Placement(ctx, manager.PlacementOptions{Zones: o.zones, Apply: o.apply, DryRun: o.dryRun, Settle: o.settle})
	if o.dryRun {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "placement", o.dryRun, err)
}
