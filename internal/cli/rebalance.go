package cli

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type rebalanceOptions struct {
	addr            manager.Address
	weights         []string
	threshold       float64
	useEmptyMasters bool
	simulate        bool
	dryRun          bool
	verbose         bool
	migration       migrationOptions
}

func newRebalanceCmd(f *factory, runF func(context.Context, *rebalanceOptions) error) *cobra.Command {
	o := &rebalanceOptions{}
	cmd := &cobra.Command{
		Use:   "rebalance HOST:PORT | HOST PORT [--weight ID=W]...",
		Short: "Even out the slots between masters by weight (redis-cli --cluster rebalance)",
		Long: `Compute each master's share of the 16384 slots from its weight and move slots
from the masters above their share to those below, with redis-cli's
arithmetic and output. A node is named by its ID or a prefix that starts
no other node's ID (redis-cli takes the first match), and must be a master
(redis-cli ignores a replica's weight; rcluster only its weight 0). Weight 0
drains a master completely, also when it turns into a replica of the node
that took its last slot. Like redis-cli, "--weight a=1 b=2" takes several
weights after one flag.

EXIT STATUS
  0  balanced (or nothing to do) and settled
  1  the cluster had problems, a weight names no node, or a move failed`,
		Example: `  rcluster rebalance 127.0.0.1:7000 --use-empty-masters
  rcluster rebalance 127.0.0.1:7000 --weight 3b1f=0 --simulate`,
		Args: f.minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var hostArgs []string
			for _, a := range args {
				if strings.Contains(a, "=") {
					o.weights = append(o.weights, a) // "--weight a=1 b=2"
				} else {
					hostArgs = append(hostArgs, a)
				}
			}
			if len(hostArgs) == 0 {
				return f.errWrongArgs()
			}
			a, err := f.parseHostArgs(hostArgs)
			if err != nil {
				return err
			}
			o.addr = a
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runRebalance(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringArrayVar(&o.weights, "weight", nil, "node weight as ID=WEIGHT, ID or a unique prefix of it (repeatable)")
	cmd.Flags().Float64Var(&o.threshold, "threshold", 2, "rebalance only if a node is off by more than this percentage")
	cmd.Flags().BoolVar(&o.useEmptyMasters, "use-empty-masters", false, "give slots to masters that have none")
	cmd.Flags().BoolVar(&o.simulate, "simulate", false, "print the moves without making them")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "the same as --simulate, and say so on stderr")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "print every node's balance")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

func runRebalance(ctx context.Context, f *factory, o *rebalanceOptions) error {
	if math.IsNaN(o.threshold) || math.IsInf(o.threshold, 0) || o.threshold < 0 {
		return f.refuse(fmt.Sprintf("Invalid --threshold %v: it must be a percentage, 0 or more.", o.threshold))
	}
	for _, w := range o.weights {
		if _, value, ok := strings.Cut(w, "="); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 32)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return f.refuse(fmt.Sprintf("*** Invalid weight %s: a weight is a number, 0 or more (0 drains the master).", w))
			}
		}
	}
	if err := o.migration.validate(f); err != nil {
		return err
	}
	m, err := f.movingManager(manager.Options{Migrate: f.migrate(o.migration), Parallel: o.migration.parallel}, o.migration.progress)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "rebalance", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		return f.emit(m, "rebalance", nil, false, err)
	}
	simulate := o.simulate || o.dryRun
	err = m.Rebalance(ctx, manager.RebalanceOptions{
		Weights: o.weights, Threshold: o.threshold, UseEmptyMasters: o.useEmptyMasters,
		Simulate: simulate, Verbose: o.verbose,
	})
	switch {
	case err == nil && o.dryRun:
		f.dryRunNote()
	case err == nil && !simulate:
		err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
	}
	return f.emitChange(ctx, m, "rebalance", o.addr, simulate, err)
}
