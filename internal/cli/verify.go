package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
)

type verifyOptions struct {
	addr           manager.Address
	keys           int
	replicaTimeout time.Duration
	trace          bool
}

func newVerifyCmd(f *factory, runF func(context.Context, *verifyOptions) error) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify HOST:PORT | HOST PORT",
		Short: "Write, read and delete test keys on every master, as a client would",
		Long: `Load the cluster through the given node, then, through a cluster client that
sends every command to that node first and follows its redirects (as
redis-cli -c does), write test keys into slots of every master, read them
back, check that they landed on that master, wait for each replica to serve
them (READONLY, bounded by --replica-timeout) and delete them. Prints, per
master, whether it was reached, the mean write and read time (redirects
included) and how many replicas caught up. --trace prints each redirect as
redis-cli -c does ("-> Redirected to slot [N] located at HOST:PORT").

The keys are named ` + manager.VerifyPrefix + `{TAG}:RUN, a prefix reserved
for rcluster, TAG chosen so the key hashes to the slot wanted. They are
deleted however the run ends (also on Ctrl-C, within its 2 s grace) and
expire after 5 minutes if the run is killed. With -o json, stdout is one
document.

EXIT STATUS
  0  every master took its keys (replicas that lag are warnings)
  1  a master could not take a write, a key could not be deleted, or the
     cluster could not be loaded`,
		Example: `  rcluster verify 127.0.0.1:7000
  rcluster -a secret verify 10.0.0.1:6376 --trace
  rcluster verify 127.0.0.1:7000 --keys 10 --replica-timeout 30s -o json`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runVerify),
	}
	cmd.Flags().IntVar(&o.keys, "keys", 3, "test keys per master, in slots spread over its slots")
	cmd.Flags().DurationVar(&o.replicaTimeout, "replica-timeout", 5*time.Second, "how long to wait for the replicas to serve the keys")
	cmd.Flags().BoolVar(&o.trace, "trace", false, "print the redirects followed, as redis-cli -c does")
	return cmd
}

func runVerify(ctx context.Context, f *factory, o *verifyOptions) error {
	if o.keys < 1 || o.replicaTimeout <= 0 {
		fmt.Fprint(f.IO.ErrOut, "Invalid --keys or --replica-timeout: both must be more than 0.\n")
		return &exitError{ExitFailure}
	}
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "verify", nil, false, err)
	}
	masters := len(m.VerifiedMasters())
	if masters == 0 {
		m.P.NothingToVerify()
		return f.emit(m, "verify", nil, false, manager.ErrReported)
	}
	m.P.VerifyStart(o.addr.String(), masters, o.keys, manager.VerifyPrefix)
	vo := manager.VerifyOptions{Entry: o.addr, Conn: f.nodeOptions(), KeysPerMaster: o.keys, ReplicaTimeout: o.replicaTimeout}
	if o.trace {
		trace := m.P
		if f.json() {
			trace = &report.Printer{Out: f.IO.ErrOut} // stdout is the document
		}
		vo.Trace = trace.Redirected
	}
	res, err := m.Verify(ctx, vo)
	doc := verifyDoc(o.addr.String(), res)
	if err != nil { // interrupted: only whether the keys were deleted is news
		doc.OK = false
		m.P.VerifyKeysLeft(doc.KeysLeft)
	} else {
		for _, d := range doc.Masters {
			m.P.VerifyMaster(d, o.replicaTimeout)
		}
		m.P.VerifyDone(doc)
	}
	if f.json() {
		report.WriteJSON(f.IO.Out, doc)
	}
	if err != nil {
		return err
	}
	if !doc.OK {
		return manager.ErrReported
	}
	return nil
}

func verifyDoc(entry string, res *manager.VerifyResult) report.VerifyDoc {
	doc := report.VerifyDoc{Command: "verify", OK: res.OK(), Entry: entry, Prefix: manager.VerifyPrefix,
		Masters: []report.VerifyMasterDoc{}, KeysLeft: res.Left}
	for _, vm := range res.Masters {
		d := report.VerifyMasterDoc{Address: vm.Node.Addr(), ID: vm.Node.ID, Slots: report.Ranges(&vm.Node.Slots),
			Keys: vm.Keys, Reached: vm.Reached, WriteMS: report.Millis(vm.Write), ReadMS: report.Millis(vm.Read),
			Replicas: []report.VerifyReplicaDoc{}}
		if vm.Err != nil {
			d.Error = replyOrError(vm.Err)
		}
		for _, r := range vm.Replicas {
			rd := report.VerifyReplicaDoc{Address: r.Node.Addr(), ID: r.Node.ID, CaughtUp: r.CaughtUp, AfterMS: report.Millis(r.After)}
			if r.Err != nil && r.Err != context.DeadlineExceeded {
				rd.Error = replyOrError(r.Err)
			}
			d.Replicas = append(d.Replicas, rd)
		}
		doc.Masters = append(doc.Masters, d)
	}
	return doc
}
