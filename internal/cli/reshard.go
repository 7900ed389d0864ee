package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
)

type reshardOptions struct {
	addr       manager.Address
	from       []string
	to         string
	slots      int
	slotsGiven bool // --slots was on the command line
	slotRanges []string
	dryRun     bool
	planOut    string
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

--slot-range moves exactly the slots it names ("100-200,5000", repeatable)
from whichever masters own them, instead of --slots and --from (an
rcluster extension). The slots are checked before anything moves: a slot
the target already owns, or that no master owns, is refused.

--plan-out FILE (an rcluster extension) writes the plan as JSON (the -o
json plan, with the nodes it was made for) and changes nothing, like
--dry-run: "rcluster apply FILE" carries it out later if the cluster still
matches it.

Ctrl-C stops after the slot in flight: no slot is left open. A run killed
half way leaves an open slot that "rcluster fix" repairs without losing keys.

EXIT STATUS
  0  the slots were moved and the cluster settled
  1  the cluster had problems, an answer was refused, or a move failed`,
		Example: `  rcluster reshard 127.0.0.1:7000 --from all --to 3b1f --slots 1000 --yes
  rcluster reshard 127.0.0.1:7000 --from 8c2e,a41d --to 3b1f --slots 100 --pipeline 1000
  rcluster reshard 127.0.0.1:7000 --slot-range 100-200,5000 --to 3b1f --yes`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runReshard),
	}
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { o.slotsGiven = cmd.Flags().Changed("slots") }
	cmd.Flags().StringArrayVar(&o.from, "from", nil, "source node IDs or unique prefixes (comma-separated or repeated), or all")
	cmd.Flags().StringVar(&o.to, "to", "", "the receiving node ID (or a unique prefix)")
	cmd.Flags().IntVar(&o.slots, "slots", 0, "number of slots to move (1 to 16384)")
	cmd.Flags().StringArrayVar(&o.slotRanges, "slot-range", nil, `exactly these slots, from whichever masters own them: "100-200,5000" (comma-separated or repeated; not with --slots or --from)`)
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the plan; move nothing")
	cmd.Flags().StringVar(&o.planOut, "plan-out", "", "write the plan to this file for 'rcluster apply'; move nothing")
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
	dryRun := o.dryRun || o.planOut != ""
	exact, err := o.exactSlots(f)
	if err != nil {
		return err
	}
	m, err := f.loadToMove(ctx, "reshard", o.addr, o.migration)
	if err != nil {
		return err
	}
	defer m.Close()
	m.Check(ctx, false)
	if len(m.Errors) > 0 {
		report.ReshardText{P: m.P}.FixFirst()
		return f.emit(m, "reshard", nil, false, manager.ErrReported)
	}
	p := f.prompter()
	err = m.Reshard(ctx, manager.ReshardOptions{
		Slots: o.slots, To: o.to, From: splitIDs(o.from), Exact: exact, Yes: f.global.yes || dryRun, Ask: p.Ask, DryRun: dryRun,
	})
	switch {
	case err == nil && o.planOut != "":
		err = f.writeMovePlan(m, "reshard", o.addr, o.planOut)
	case err == nil && dryRun:
		f.dryRunNote()
	case err == nil:
		err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
	}
	return f.emitChange(ctx, m, "reshard", dryRun, err)
}

// exactSlots reads --slot-range into the slots to move, ascending (nil
// without it), refusing bad ranges and the flags it replaces.
func (o *reshardOptions) exactSlots(f *factory) ([]int, error) {
	if o.slotRanges == nil {
		return nil, nil
	}
	switch {
	case o.slotsGiven:
		return nil, f.refuse("*** --slot-range and --slots cannot be used together: --slot-range names the slots to move.")
	case o.from != nil:
		return nil, f.refuse("*** --slot-range and --from cannot be used together: the slots move from whichever masters own them.")
	}
	var all cluster.SlotSet
	for _, text := range o.slotRanges {
		set, err := cluster.ParseSlotRanges(text)
		if err != nil {
			return nil, f.refuse(fmt.Sprintf("*** Invalid --slot-range %q: %v.", text, err))
		}
		all.Union(&set)
	}
	return all.Slots(), nil
}
