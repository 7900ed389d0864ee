package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type createOptions struct {
	addrs       []manager.Address
	replicas    int
	joinTimeout time.Duration
	dryRun      bool
	zoneArgs    []string
	zones       map[string]string
}

func newCreateCmd(f *factory, runF func(context.Context, *createOptions) error) *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create HOST:PORT... [--replicas N]",
		Short: "Create a cluster out of empty nodes (redis-cli --cluster create)",
		Long: `Check that every node is reachable, in cluster mode, empty and given once,
plan masters and replicas as redis-cli does (masters spread over hosts, the
16384 slots split evenly, replicas kept off their master's host), ask for
confirmation, then assign the slots, join the nodes and wait until the
cluster is settled: all nodes agree, all slots are covered and every node
reports cluster_state:ok. The output is redis-cli's.

The replica layout is deterministic: the same nodes give the same plan.

With --zone, the layout is made by zone instead of by host: masters are
spread over the zones and no replica is put in its master's zone while
another zone has room (redis-cli's "[WARNING] Some slaves are in the same
host as their master" then means the same zone). Give a zone for every
host (HOST=ZONE) or node (HOST:PORT=ZONE, which wins over its host's);
a node without a zone, or a --zone that names no node, is refused before
anything is written. Without --zone, the nodes' own availability-zone
setting (Valkey 8) is used when every node has one.

To join fast, rcluster also meets the nodes gossip has not introduced yet,
and ends Redis' rejoin delay (cluster_state:fail for up to 5 s on each new
master): it lowers the master's cluster-node-timeout with CONFIG SET for
the moment the state takes to turn ok, then sets it back.

EXIT STATUS
  0  the cluster was created, or nothing was changed because the answer
     to the question was not "yes" or input ended (as redis-cli: a script
     that needs the cluster gives --yes)
  1  a node was refused (nothing was changed), or the cluster did not settle`,
		Example: `  rcluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002
  rcluster create 10.0.1.5:7000 10.0.2.5:7000 10.0.3.5:7000 10.0.1.6:7000 10.0.2.6:7000 10.0.3.6:7000 --replicas 1 \
    --zone 10.0.1.5=a --zone 10.0.1.6=a --zone 10.0.2.5=b --zone 10.0.2.6=b --zone 10.0.3.5=c --zone 10.0.3.6=c
  rcluster create 10.0.0.1:7000 10.0.0.2:7000 10.0.0.3:7000 10.0.0.1:7001 10.0.0.2:7001 10.0.0.3:7001 --replicas 1 --yes`,
		Args: f.minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.addrs, err = f.parseAddrList(args); err != nil {
				return err
			}
			if o.replicas < 0 {
				fmt.Fprintf(f.IO.ErrOut, "Invalid replica count %d: it must be 0 or more.\n", o.replicas)
				return &exitError{ExitFailure}
			}
			if o.zones, err = parseZones(o.zoneArgs); err != nil {
				fmt.Fprintf(f.IO.ErrOut, "%v\n", err)
				return &exitError{ExitFailure}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runCreate(cmd.Context(), f, o)
		},
	}
	cmd.Flags().IntVar(&o.replicas, "replicas", 0, "replicas per master")
	cmd.Flags().DurationVar(&o.joinTimeout, "join-timeout", 2*time.Minute, "how long to wait for the nodes to join and settle")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "check the nodes and print the plan; change nothing")
	cmd.Flags().StringArrayVar(&o.zoneArgs, "zone", nil, "`HOST=ZONE` or HOST:PORT=ZONE: lay replicas out by zone (repeat for every host or node)")
	return cmd
}

// parseZones reads the --zone values: HOST=ZONE or HOST:PORT=ZONE, each
// key once.
func parseZones(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, nil
	}
	zones := map[string]string{}
	for _, a := range args {
		key, zone, ok := strings.Cut(a, "=")
		if !ok || key == "" || zone == "" || strings.ContainsAny(zone, " \t") {
			return nil, fmt.Errorf("Invalid --zone %q: want HOST=ZONE or HOST:PORT=ZONE.", a)
		}
		if prev, dup := zones[key]; dup {
			return nil, fmt.Errorf("Invalid --zone %q: %s already has zone %s.", a, key, prev)
		}
		zones[key] = zone
	}
	return zones, nil
}

func runCreate(ctx context.Context, f *factory, o *createOptions) error {
	if err := f.refusePositive("--join-timeout", o.joinTimeout); err != nil {
		return err
	}
	m := f.manager(manager.Options{})
	co := manager.CreateOptions{Replicas: o.replicas, JoinTimeout: o.joinTimeout, DryRun: o.dryRun, Zones: o.zones}
	if !f.global.yes {
		co.Confirm = f.prompter().Confirm
	}
	err := m.Create(ctx, o.addrs, co)
	if errors.Is(err, manager.ErrNotEmpty) {
		f.resetHint(ctx, o.addrs)
	}
	if o.dryRun && err == nil {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "create", o.dryRun, err)
}
