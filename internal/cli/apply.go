package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/plan"
)

type applyOptions struct {
	file      string
	resume    bool
	migration migrationOptions
}

func newApplyCmd(f *factory, runF func(context.Context, *applyOptions) error) *cobra.Command {
	o := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply FILE [--resume]",
		Short: "Carry out a plan written by reshard, rebalance, evacuate or fix --plan-out (rcluster only)",
		Long: `Carry out a plan that "reshard", "rebalance", "evacuate" or "fix" wrote with
--plan-out FILE, with the output of that command, once the cluster (loaded
through the node the plan was made on) still matches the plan. Otherwise
nothing is changed: a line on stderr names the first difference, exit 1.

The same node IDs, always, and:
  reshard, rebalance  every planned slot still owned by the master the
                      plan moves it from
  evacuate            every master of the plan still a master on the host
                      with the planned slots, and its planned replica still
                      its replica, on another host, safe to promote
                      (judged by the plan's --max-lag)
  fix                 the check finds exactly the problems of the plan
                      (kind, node and slots); fix then repairs them,
                      answering its questions yes

Progress is recorded in FILE.progress (JSON: the planned slots on their
target, slots and moves done; or the failovers done), written atomically
before the first move or failover and after every batch of slots or
failover. After an interruption (Ctrl-C stops after the slot in flight) or
a failure, "apply --resume FILE" goes on: slots recorded as moved must be
on their target, failovers recorded as done must be done, and what is
already done is skipped. Without --resume, an existing FILE.progress of the
plan is refused, as is a plan already partly done. A fix plan records no
progress: after an interrupted fix, its problems are no longer the plan's.

EXIT STATUS
  0  the plan is carried out and the cluster settled
  1  the plan cannot be read, the cluster does not match it, or a move,
     failover or repair failed`,
		Example: `  rcluster rebalance 127.0.0.1:7000 --by keys --plan-out plan.json
  rcluster apply plan.json
  rcluster apply --resume plan.json
  rcluster evacuate 10.0.0.1:7000 --plan-out evacuate.json && rcluster apply evacuate.json`,
		Args: f.exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.file = args[0]
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runApply(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.resume, "resume", false, "go on after an interrupted apply: skip the slots already on their target, the failovers already made")
	o.migration.addFlags(cmd.Flags())
	return cmd
}

func runApply(ctx context.Context, f *factory, o *applyOptions) error {
	data, err := os.ReadFile(o.file)
	if err != nil {
		return f.refuse(fmt.Sprintf("*** Cannot read the plan: %v", err))
	}
	var pf report.PlanFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return f.refuse(fmt.Sprintf("*** %s is not a plan file: %v", o.file, err))
	}
	if err := manager.CheckPlan(pf); err != nil {
		return f.refuse(fmt.Sprintf("*** The plan %s cannot be applied: %v.", o.file, err))
	}
	addr, ok := parseAddr(pf.Entry)
	if !ok {
		return f.refuse(fmt.Sprintf("*** The plan %s cannot be applied: its entry %q is not HOST:PORT.", o.file, pf.Entry))
	}
	if pf.Command == "fix" {
		if o.resume {
			return f.refuse(fmt.Sprintf("*** A fix plan records no progress to resume: after an interrupted apply, run 'rcluster fix %s' (or write a new plan).", pf.Entry))
		}
		return runApplyFix(ctx, f, o, pf, addr)
	}
	sum := sha256.Sum256(data)
	planID := hex.EncodeToString(sum[:])
	progressFile := o.file + ".progress"
	var moved cluster.SlotSet
	var failoversDone []string
	prev, err := readProgress(progressFile)
	switch {
	case err != nil:
		return f.refuse(fmt.Sprintf("*** Cannot read %s: %v", progressFile, err))
	case prev != nil && prev.PlanSHA256 != planID:
		return f.refuse(fmt.Sprintf("*** %s records another plan (its plan_sha256 differs from %s's): remove it to apply this plan.", progressFile, o.file))
	case prev != nil && !o.resume:
		return f.refuse(fmt.Sprintf("*** %s records an earlier apply of this plan (%s): continue it with 'rcluster apply --resume %s'.",
			progressFile, progressDone(*prev), o.file))
	case prev != nil:
		failoversDone = prev.FailoversDone
		if moved, err = report.SlotsOfRanges(prev.Moved); err != nil {
			return f.refuse(fmt.Sprintf("*** Cannot read %s: %v", progressFile, err))
		}
	}
	m, err := f.loadToMove(ctx, "apply", addr, o.migration)
	if err != nil {
		return err
	}
	defer m.Close()
	var last report.PlanProgress
	recorded, failedOnce := false, false
	write := func(p report.PlanProgress) {
		last, recorded = p, true
		if err := writeJSONFile(progressFile, p); err != nil && !failedOnce {
			failedOnce = true
			fmt.Fprintf(f.IO.ErrOut, "*** Cannot record the progress in %s: %v (--resume still skips what is done)\n", progressFile, err)
		}
	}
	ao := manager.ApplyOptions{Plan: pf, Resume: o.resume, Moved: moved, FailoversDone: failoversDone}
	if pf.Command == "evacuate" {
		ao.RecordFailovers = func(done []string) {
			planned := len(pf.Evacuation.Failovers)
			write(report.PlanProgress{PlanSHA256: planID, Moved: []report.RangeDoc{}, FailoversDone: slices.Clone(done),
				FailoversPlanned: planned, Complete: len(done) == planned})
		}
		err = m.ApplyEvacuation(ctx, ao, o.migration.settle)
	} else {
		moves, _ := manager.PlanMoves(pf) // checked by CheckPlan
		ao.Record = func(moved cluster.SlotSet) { write(progressOf(planID, moves, moved)) }
		err = m.Apply(ctx, ao)
		if err == nil {
			err = m.WaitSettled(ctx, time.Now().Add(o.migration.settle))
		}
	}
	if err != nil && recorded && !last.Complete {
		fmt.Fprintf(f.IO.ErrOut, "*** %s (%s): continue with 'rcluster apply --resume %s'.\n", progressLeft(last), progressFile, o.file)
	}
	return f.emitChange(ctx, m, "apply", false, err)
}

// progressDone says what a progress record records as done.
func progressDone(p report.PlanProgress) string {
	if p.FailoversPlanned > 0 {
		return fmt.Sprintf("%d of %d failovers done", len(p.FailoversDone), p.FailoversPlanned)
	}
	return fmt.Sprintf("%d of %d slots moved", p.SlotsMoved, p.SlotsPlanned)
}

// progressLeft says how far an apply that stopped got.
func progressLeft(p report.PlanProgress) string {
	if p.FailoversPlanned > 0 {
		return fmt.Sprintf("%d of %d failovers of the plan are done", len(p.FailoversDone), p.FailoversPlanned)
	}
	return fmt.Sprintf("%d of %d slots of the plan are on their target", p.SlotsMoved, p.SlotsPlanned)
}

// runApplyFix carries out a fix plan: the cluster is loaded and checked
// (nothing printed), and fix runs, answering its questions yes, only if
// the check finds the plan's problems.
func runApplyFix(ctx context.Context, f *factory, o *applyOptions, pf report.PlanFile, addr manager.Address) error {
	if err := o.migration.validate(f); err != nil {
		return err
	}
	m, err := f.fixManager(o.migration, pf.Fix.SearchMultipleOwners, pf.Fix.FixWithUnreachable)
	if err != nil {
		return err
	}
	defer m.Close()
	defer m.Progress.Done()
	if err := m.Load(ctx, addr.Host, addr.Port); err != nil {
		return f.emit(m, "apply", nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, true); err != nil {
		return f.emit(m, "apply", nil, false, err)
	}
	if msg := m.FixPlanMismatch(ctx, pf); msg != "" {
		fmt.Fprintf(f.IO.ErrOut, "*** The cluster does not match the plan: %s. Nothing was changed.\n", msg)
		return f.emit(m, "apply", nil, false, manager.ErrReported)
	}
	m.Plan = pf.Fix
	return f.emitChange(ctx, m, "apply", false, checkAndRepair(ctx, m, false, o.migration.settle))
}

// progressOf is the progress record of moves when the slots moved are on
// their target.
func progressOf(planID string, moves []plan.Move, moved cluster.SlotSet) report.PlanProgress {
	p := report.PlanProgress{PlanSHA256: planID, Moved: report.Ranges(&moved), MovesTotal: len(moves)}
	for _, mv := range moves {
		done := 0
		for _, s := range mv.Slots {
			if moved.Has(s) {
				done++
			}
		}
		p.SlotsMoved += done
		p.SlotsPlanned += len(mv.Slots)
		if done == len(mv.Slots) {
			p.MovesDone++
		}
	}
	p.Complete = p.SlotsMoved == p.SlotsPlanned
	return p
}

// readProgress reads a progress record; nil when there is none.
func readProgress(path string) (*report.PlanProgress, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p report.PlanProgress
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// writeJSONFile writes v as indented JSON to path atomically: a reader (or
// a run after a crash) sees the old file or the new one, never a part.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writePlan writes pf, the plan m made (a dry run through addr) with its
// command and content, to path for apply, adding the version, the entry
// node and the nodes; what says what the plan holds ("3 failovers").
func (f *factory) writePlan(m *manager.Manager, pf report.PlanFile, addr manager.Address, path, what string) error {
	pf.Version, pf.Entry, pf.Nodes = report.PlanFileVersion, addr.String(), []report.PlanNode{}
	for _, n := range m.Nodes {
		role := "master"
		if n.IsReplica() {
			role = "replica"
		}
		pf.Nodes = append(pf.Nodes, report.PlanNode{ID: n.ID, Address: n.Addr(), Role: role})
	}
	if err := writeJSONFile(path, pf); err != nil {
		fmt.Fprintf(f.IO.ErrOut, "*** Cannot write the plan: %v\n", err)
		return &exitError{ExitFailure}
	}
	fmt.Fprintf(f.IO.ErrOut, "Plan written to %s (%s): nothing was changed. Carry it out with 'rcluster apply %s'.\n", path, what, path)
	return nil
}

// writeMovePlan writes the moves m planned (reshard, rebalance) to path.
func (f *factory) writeMovePlan(m *manager.Manager, command string, addr manager.Address, path string) error {
	pf := report.PlanFile{Command: command}
	if doc, ok := m.Plan.(report.MovePlanDoc); ok {
		pf.Plan = doc
	} else {
		pf.Plan = report.MovePlan(nil)
	}
	slots := 0
	for _, mv := range pf.Plan.Moves {
		slots += mv.Count
	}
	return f.writePlan(m, pf, addr, path, fmt.Sprintf("%d slots in %d moves", slots, len(pf.Plan.Moves)))
}
