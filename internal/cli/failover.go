package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/failover"
)

// failoverSafety are the flags failover and evacuate share.
type failoverSafety struct {
	maxLag int64
	dryRun bool
	settle time.Duration
}

func (s *failoverSafety) addFlags(fs *pflag.FlagSet, what string) {
	fs.Int64Var(&s.maxLag, "max-lag", 1<<20, "bytes of replication stream a replica may be behind its master to be promoted")
	fs.BoolVar(&s.dryRun, "dry-run", false, "check the replication and print the plan; "+what)
	addSettleFlag(fs, &s.settle)
}

// validate refuses settings that make no sense, before anything is loaded.
func (s *failoverSafety) validate(f *factory) error {
	if s.maxLag < 0 {
		return f.refuse(fmt.Sprintf("Invalid --max-lag %d: it must be a number of bytes, 0 or more.", s.maxLag))
	}
	return f.refusePositive("--settle-timeout", s.settle)
}

func (s *failoverSafety) options(mode failover.Mode) manager.FailoverOptions {
	return manager.FailoverOptions{Options: failover.Options{Mode: mode, MaxLag: s.maxLag, Settle: s.settle}, DryRun: s.dryRun}
}

type failoverOptions struct {
	addr     manager.Address
	force    bool
	takeover bool
	safety   failoverSafety
}

func newFailoverCmd(f *factory, runF func(context.Context, *failoverOptions) error) *cobra.Command {
	o := &failoverOptions{}
	cmd := &cobra.Command{
		Use:   "failover REPLICA-HOST:PORT | REPLICA-HOST PORT",
		Short: "Promote a replica to master of its master's slots, safely",
		Long: `Promote the replica at the address given to master, for maintenance of its
master. Its replication is checked first: the link to its master must be up,
the initial sync done, and the replica at most --max-lag bytes behind, or
the failover is refused. Then CLUSTER FAILOVER makes the master hand over
once the replica has every write the master acknowledged, so no such write
is lost; failover waits (at most --settle-timeout) until every node sees
the replica as the master of the slots and the cluster has settled.

--force (CLUSTER FAILOVER FORCE: the master is not asked, for when it is
down) and --takeover (CLUSTER FAILOVER TAKEOVER: no election either) skip
the replication check, with a warning on stderr: writes the replica has not
received are lost.

EXIT STATUS
  0  the replica is the master and every node agrees
  1  the node is not a replica, its replication is not safe, a node refused,
     or the nodes did not agree in time`,
		Example: `  rcluster failover 10.0.0.2:7001
  rcluster failover 10.0.0.2:7001 --dry-run -o json
  rcluster failover 10.0.0.2:7001 --force     # its master is down`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runFailover),
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "CLUSTER FAILOVER FORCE: do not ask the master (writes it has not sent are lost)")
	cmd.Flags().BoolVar(&o.takeover, "takeover", false, "CLUSTER FAILOVER TAKEOVER: no master asked, no election (writes may be lost)")
	o.safety.addFlags(cmd.Flags(), "promote nothing")
	return cmd
}

func runFailover(ctx context.Context, f *factory, o *failoverOptions) error {
	mode := failover.Default
	switch {
	case o.force && o.takeover:
		return f.refuse("*** --force and --takeover cannot be used together.")
	case o.force:
		mode = failover.Force
	case o.takeover:
		mode = failover.Takeover
	}
	if err := o.safety.validate(f); err != nil {
		return err
	}
	return f.runRoleChange(ctx, "failover", o.addr, o.safety.dryRun, func(m *manager.Manager) error {
		err := m.Failover(ctx, o.safety.options(mode))
		if o.safety.dryRun {
			f.dryRunNote() // also after a refusal: nothing changed
		}
		return err
	})
}

// runRoleChange loads the cluster through addr for command, refuses to go
// on while another run changes it, runs change and ends as every changing
// command does, with the JSON result.
func (f *factory) runRoleChange(ctx context.Context, command string, addr manager.Address, dryRun bool, change func(*manager.Manager) error) error {
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, addr.Host, addr.Port); err != nil {
		return f.emit(m, command, nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		return f.emit(m, command, nil, false, err)
	}
	return f.emitChange(ctx, m, command, dryRun, change(m))
}

type evacuateOptions struct {
	addr    manager.Address
	host    string // "": the entry node's
	planOut string
	safety  failoverSafety
}

func newEvacuateCmd(f *factory, runF func(context.Context, *evacuateOptions) error) *cobra.Command {
	o := &evacuateOptions{}
	cmd := &cobra.Command{
		Use:   "evacuate HOST:PORT [HOST]",
		Short: "Fail every master on a host over to replicas on other hosts",
		Long: `Before a host is rebooted: every master with slots on HOST is failed over,
one at a time, to its replica on another host that is safe to promote
(link up, synced, at most --max-lag bytes behind; the least behind first),
as "rcluster failover" does: no acknowledged write is lost, and each
failover is waited for until every node agrees. A host is an IP address
(or name) as the nodes announce it in CLUSTER NODES; without HOST it is
that of HOST:PORT, the node the cluster is loaded through.

A master with no such replica is named and left alone, and the run exits 1
once the others are done: the host still serves its slots.

--plan-out FILE (rcluster only) checks as --dry-run does and, when every
master with slots on the host has a replica to promote, writes the
failovers as JSON and changes nothing: "rcluster apply FILE" makes those
still to do, each waited for as here, if each master is still a master on
the host with the same slots and its replica still its replica, safe to
promote; "apply --resume FILE" goes on after an interruption.

EXIT STATUS
  0  no master with slots is left on the host
  1  a master was left on the host, a failover failed, or the nodes did not
     agree in time`,
		Example: `  rcluster evacuate 10.0.0.1:7000
  rcluster evacuate 10.0.0.2:7000 10.0.0.1 --dry-run
  rcluster evacuate 10.0.0.1:7000 --plan-out evacuate.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return f.errWrongArgs()
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, ok := parseAddr(args[0]); !ok && len(args) == 1 && !strings.Contains(args[0], ":") {
				return f.refuse(fmt.Sprintf("*** evacuate needs the address of a node to load the cluster through: %s:PORT (the host evacuated is its host), or HOST:PORT %s.", args[0], args[0]))
			}
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr = a
			if len(args) == 2 {
				o.host = strings.TrimSuffix(strings.TrimPrefix(args[1], "["), "]")
				if o.host == "" {
					return f.refuse("*** The host to evacuate must not be empty.")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runEvacuate(cmd.Context(), f, o)
		},
	}
	o.safety.addFlags(cmd.Flags(), "fail nothing over")
	cmd.Flags().StringVar(&o.planOut, "plan-out", "", "write the failovers to this file for 'rcluster apply'; fail nothing over")
	return cmd
}

func runEvacuate(ctx context.Context, f *factory, o *evacuateOptions) error {
	if err := o.safety.validate(f); err != nil {
		return err
	}
	dryRun := o.safety.dryRun || o.planOut != ""
	opts := o.safety.options(failover.Default)
	opts.DryRun = dryRun
	return f.runRoleChange(ctx, "evacuate", o.addr, dryRun, func(m *manager.Manager) error {
		err := m.Evacuate(ctx, o.host, opts)
		doc, planned := m.Plan.(*report.EvacuateDoc)
		switch {
		case err == nil && planned && o.planOut != "":
			pf := report.PlanFile{Command: "evacuate", Evacuation: &report.EvacuationPlanDoc{EvacuateDoc: *doc, MaxLag: o.safety.maxLag}}
			return f.writePlan(m, pf, o.addr, o.planOut, fmt.Sprintf("%d failovers", len(doc.Failovers)))
		case dryRun:
			f.dryRunNote() // also after a refusal: nothing changed
		}
		return err
	})
}
