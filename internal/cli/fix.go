package cli

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type fixOptions struct {
	addr                 manager.Address
	searchMultipleOwners bool
	withUnreachable      bool
	dryRun               bool
	migration            migrationOptions
}

func newFixCmd(f *factory, runF func(context.Context, *fixOptions) error) *cobra.Command {
	o := &fixOptions{}
	cmd := &cobra.Command{
		Use:   "fix HOST:PORT | HOST PORT",
		Short: "Repair open slots, uncovered slots and multiple owners (redis-cli --cluster fix)",
		Long: `Run the check and repair what it finds, as redis-cli --cluster fix does: open
slots (migrating and importing; importing only; migrating only; several
importers; keys on a node that does not own the slot), uncovered slots (no
keys; keys on one node; keys on several nodes) and, with
--search-multiple-owners, slots with more than one owner.

redis-cli asks the three questions about uncovered slots even with
--cluster-yes; rcluster's --yes answers them too, so fix can run unattended.
Uncovered slots without keys go to the masters with the fewest slots
(redis-cli picks one at random).

EXIT STATUS
  0  the cluster is healthy after the repair
  1  a problem remains or a repair failed`,
		Example: `  rcluster fix 127.0.0.1:7000
  rcluster fix 127.0.0.1:7000 --yes --search-multiple-owners`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runFix),
	}
	cmd.Flags().BoolVar(&o.searchMultipleOwners, "search-multiple-owners", false, "also repair slots with keys on more than one master")
	cmd.Flags().BoolVar(&o.withUnreachable, "fix-with-unreachable-masters", false, "repair even though some masters cannot be reached (may lose data)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "only check and report what needs fixing; change nothing")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

func runFix(ctx context.Context, f *factory, o *fixOptions) error {
	if err := o.migration.validate(f); err != nil {
		return err
	}
	m, err := f.movingManager(manager.Options{
		SearchMultipleOwners: o.searchMultipleOwners,
		Fix:                  !o.dryRun,
		FixWithUnreachable:   o.withUnreachable,
		Migrate:              f.migrate(o.migration),
	}, o.migration.progress)
	if err != nil {
		return err
	}
	defer m.Close()
	m.Progress.Start("fix", 0, 0)
	defer m.Progress.Done()
	if !f.global.yes {
		m.Confirm = f.prompter().Confirm
	}
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "fix", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, !o.dryRun); err != nil {
		return f.emit(m, "fix", nil, false, err)
	}
	m.ShowClusterInfo(ctx)
	if !m.Check(ctx, false) {
		err = manager.ErrReported
	} else if !o.dryRun {
		err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
	}
	if o.dryRun {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "fix", o.addr, o.dryRun, err)
}
