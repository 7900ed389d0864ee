package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
)

type fixOptions struct {
	addr                 manager.Address
	searchMultipleOwners bool
	withUnreachable      bool
	dryRun               bool
	planOut              string
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

--plan-out FILE (rcluster only) checks as --dry-run does, writes the
problems found and the repairs fix would make as JSON, changes nothing and
exits 0: "rcluster apply FILE" runs fix later only if the check then finds
the same problems.

EXIT STATUS
  0  the cluster is healthy after the repair (--plan-out: the plan is written)
  1  a problem remains or a repair failed`,
		Example: `  rcluster fix 127.0.0.1:7000
  rcluster fix 127.0.0.1:7000 --yes --search-multiple-owners
  rcluster fix 127.0.0.1:7000 --plan-out fix.json && rcluster apply fix.json`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runFix),
	}
	cmd.Flags().BoolVar(&o.searchMultipleOwners, "search-multiple-owners", false, "also repair slots with keys on more than one master")
	cmd.Flags().BoolVar(&o.withUnreachable, "fix-with-unreachable-masters", false, "repair even though some masters cannot be reached (may lose data)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "only check and report what needs fixing; change nothing")
	cmd.Flags().StringVar(&o.planOut, "plan-out", "", "write the problems found and the repairs to this file for 'rcluster apply'; change nothing")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

func runFix(ctx context.Context, f *factory, o *fixOptions) error {
	if err := o.migration.validate(f); err != nil {
		return err
	}
	dryRun := o.dryRun || o.planOut != ""
	m, err := f.fixManager(o.migration, o.searchMultipleOwners, o.withUnreachable)
	if err != nil {
		return err
	}
	defer m.Close()
	defer m.Progress.Done()
	if !f.global.yes {
		m.Confirm = f.prompter().Confirm
	}
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "fix", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, !dryRun); err != nil {
		return f.emit(m, "fix", nil, false, err)
	}
	err = checkAndRepair(ctx, m, dryRun, o.migration.settle)
	if !dryRun {
		return f.emitChange(ctx, m, "fix", false, err)
	}
	repairs := m.FixPlan()
	for _, step := range repairs {
		fmt.Fprintf(f.IO.ErrOut, "Dry run: fix would %s.\n", step)
	}
	if len(repairs) > 0 {
		m.Plan = map[string][]string{"steps": repairs}
	}
	if o.planOut != "" {
		doc := &report.FixPlanDoc{SearchMultipleOwners: o.searchMultipleOwners, FixWithUnreachable: o.withUnreachable,
			Problems: append([]report.Problem{}, m.Problems...), Repairs: append([]string{}, repairs...)}
		err = f.writePlan(m, report.PlanFile{Command: "fix", Fix: doc}, o.addr, o.planOut, fmt.Sprintf("%d problems", len(doc.Problems)))
	} else {
		f.dryRunNote()
	}
	return f.emitChange(ctx, m, "fix", true, err)
}

// fixManager is the manager of fix, and of apply of a fix plan, with its
// progress bar started.
func (f *factory) fixManager(mo migrationOptions, searchMultipleOwners, withUnreachable bool) (*manager.Manager, error) {
	m, err := f.movingManager(manager.Options{
		SearchMultipleOwners: searchMultipleOwners,
		FixWithUnreachable:   withUnreachable,
		Migrate:              f.migrate(mo),
	}, mo.progress)
	if err != nil {
		return nil, err
	}
	m.Progress.Start("fix", 0, 0)
	return m, nil
}

// checkAndRepair is fix on a loaded cluster: the summary, the check that
// repairs what it finds (unless dryRun), and the wait for the repaired
// cluster to settle.
func checkAndRepair(ctx context.Context, m *manager.Manager, dryRun bool, settle time.Duration) error {
	m.ShowClusterInfo(ctx)
	var ok bool
	if dryRun {
		ok = m.Check(ctx, false)
	} else {
		ok = m.Fix(ctx)
	}
	if !ok {
		return manager.ErrReported
	}
	if !dryRun && len(m.Problems) > 0 { // nothing to wait for when the check found nothing
		return m.WaitSettled(ctx, time.Now().Add(settle))
	}
	return nil
}
