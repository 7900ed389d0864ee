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
	by              string
	planOut         string
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

--by keys or --by memory (rcluster only) evens out the masters' keys or
memory instead of their slot counts, with the same weights and threshold: a
master's target is its weighted share of the total, and it is off when it
differs from its target by more than --threshold percent of it. Keys are
counted per slot with CLUSTER COUNTKEYSINSLOT. Memory is an estimate: for
each slot with keys, the mean MEMORY USAGE of its first 16 keys (CLUSTER
GETKEYSINSLOT) times its key count. The masters above their target give
their heaviest slots first, then lighter ones to get close; slots without
keys stay where they are (so weight 0 moves a master's keys away but not its
empty slots). When some slot holds more than the threshold allows, a line
on stderr says the moves get as close as they can. The moves print the same
lines as a rebalance by slots; --verbose gives each balance in keys or bytes.

--plan-out FILE (rcluster only) writes the plan as JSON (the -o json plan,
with the nodes it was made for) and changes nothing, as --simulate: "rcluster
apply FILE" carries it out later if the cluster still matches it.

EXIT STATUS
  0  balanced (or nothing to do) and settled
  1  the cluster had problems, a weight names no node, or a move failed`,
		Example: `  rcluster rebalance 127.0.0.1:7000 --use-empty-masters
  rcluster rebalance 127.0.0.1:7000 --weight 3b1f=0 --simulate
  rcluster rebalance 127.0.0.1:7000 --by keys --threshold 5 --dry-run`,
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
	cmd.Flags().StringVar(&o.planOut, "plan-out", "", "write the plan to this file for 'rcluster apply'; move nothing (as --simulate)")
	cmd.Flags().BoolVar(&o.verbose, "verbose", false, "print every node's balance")
	cmd.Flags().StringVar(&o.by, "by", "slots", "what to even out: slots (redis-cli), keys or memory (sampled)")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

func runRebalance(ctx context.Context, f *factory, o *rebalanceOptions) error {
	switch o.by {
	case "slots", "keys", "memory":
	default:
		return f.refuse(fmt.Sprintf("Invalid --by %q: it must be slots, keys or memory.", o.by))
	}
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
	m, err := f.loadToMove(ctx, "rebalance", o.addr, o.migration)
	if err != nil {
		return err
	}
	defer m.Close()
	simulate := o.simulate || o.dryRun || o.planOut != ""
	err = m.Rebalance(ctx, manager.RebalanceOptions{
		Weights: o.weights, Threshold: o.threshold, UseEmptyMasters: o.useEmptyMasters,
		Simulate: simulate, Verbose: o.verbose, By: o.by,
	})
	switch {
	case err == nil && o.planOut != "":
		err = f.writeMovePlan(m, "rebalance", o.addr, o.planOut)
	case err == nil && o.dryRun:
		f.dryRunNote()
	case err == nil && !simulate && m.Plan != nil: // nothing to wait for when nothing moved
		err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
	}
	return f.emitChange(ctx, m, "rebalance", simulate, err)
}
