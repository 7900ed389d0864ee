package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type reshardOptions struct {
	addr       manager.Address
	from       []string
	to         string
	slots      int
	slotsGiven bool // --slots was on the command line
	dryRun     bool
	migration  migrationOptions
}

func newReshardCmd(f *factory, runF func(context.Context, *reshardOptions) error) *cobra.Command {
	o := &reshardOptions{}
	cmd := &cobra.Command{
		Use:   "reshard HOST:PORT | HOST PORT",
		Short: "Move slots and their keys to one node (redis-cli --cluster reshard)",
		Long: `Move a number of slots, with their keys, from some masters to one master,
with redis-cli's plan, protocol and output. Without --slots, --to or --from
it asks redis-cli's questions; at the end of input it stops instead of asking
forever. --from takes several node IDs, comma-separated or repeated, or "all".
A node ID may be shortened to a prefix that starts no other node's ID.

Ctrl-C stops after the slot in flight: no slot is left open. A run killed
half way leaves an open slot that "rcluster fix" repairs without losing keys.

EXIT STATUS
  0  the slots were moved and the cluster settled
  1  the cluster had problems, an answer was refused, or a move failed`,
		Example: `  rcluster reshard 127.0.0.1:7000 --from all --to 3b1f --slots 1000 --yes
  rcluster reshard 127.0.0.1:7000 --from 8c2e,a41d --to 3b1f --slots 100 --pipeline 1000`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runReshard),
	}
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.slotsGiven = cmd.Flags().Changed("slots") }
	cmd.Flags().StringArrayVar(&o.from, "from", nil, "source node IDs or unique prefixes (comma-separated or repeated), or all")
	cmd.Flags().StringVar(&o.to, "to", "", "the receiving node ID (or a unique prefix)")
	cmd.Flags().IntVar(&o.slots, "slots", 0, "number of slots to move (1 to 16384)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the plan; move nothing")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

// splitIDs reads --from values as redis-cli does: pieces separated by
// commas, a trailing empty piece ignored.
func splitIDs(values []string) []string {
	if values == nil {
		return nil
	}
	out := []string{}
	for _, v := range values {
		parts := strings.Split(v, ",")
		if len(parts) > 1 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		out = append(out, parts...)
	}
	return out
}

func runReshard(ctx context.Context, f *factory, o *reshardOptions) error {
	// --slots 0 given on purpose is refused too: only a missing --slots
	// makes the question appear.
	if o.slots < 0 || o.slots > 16384 || o.slotsGiven && o.slots == 0 {
		return f.refuse("*** The number of slots must be between 1 and 16384.")
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
		return f.emit(m, "reshard", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		return f.emit(m, "reshard", nil, false, err)
	}
	m.Check(ctx, false)
	if len(m.Errors) > 0 {
		m.P.Stderr("*** Please fix your cluster problems before resharding\n")
		return f.emit(m, "reshard", nil, false, manager.ErrReported)
	}
	p := f.prompter()
	err = m.Reshard(ctx, manager.ReshardOptions{
		Slots: o.slots, To: o.to, From: splitIDs(o.from), Yes: f.global.yes || o.dryRun, Ask: p.Ask, DryRun: o.dryRun,
	})
	if err == nil && o.dryRun {
		f.dryRunNote()
	} else if err == nil {
		err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
	}
	return f.emitChange(ctx, m, "reshard", o.addr, o.dryRun, err)
}
