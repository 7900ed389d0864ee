package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
)

type setTimeoutOptions struct {
	addr    manager.Address
	timeout int64 // milliseconds
	dryRun  bool
	force   bool
}

// maxNodeTimeout is the longest node timeout set without --force: one day.
const maxNodeTimeout = 24 * 60 * 60 * 1000

func newSetTimeoutCmd(f *factory, runF func(context.Context, *setTimeoutOptions) error) *cobra.Command {
	o := &setTimeoutOptions{}
	cmd := &cobra.Command{
		Use:   "set-timeout HOST:PORT MILLISECONDS",
		Short: "Set cluster-node-timeout on every node (redis-cli --cluster set-timeout)",
		Long: `Load the cluster through the given node, then on every node (all at once,
reported in node order) set cluster-node-timeout with CONFIG SET and save it
in the node's config file with CONFIG REWRITE. Same output as redis-cli
--cluster set-timeout; timeouts under 100 ms are refused, and over a day
without --force. With -o json, stdout is one document saying how it went on
each node.

EXIT STATUS
  0  every node took the new timeout
  1  the timeout was refused, the cluster could not be loaded, or a node
     did not take the timeout (redis-cli exits 0 then)`,
		Example: `  rcluster set-timeout 127.0.0.1:7000 5000`,
		Args:    f.exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr = a
			// redis-cli reads the number with atoi ("abc" is 0, "5000x" is
			// 5000); rcluster wants a number.
			ms, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				fmt.Fprintf(f.IO.ErrOut, "Invalid node timeout %s: it must be a number of milliseconds.\n", args[1])
				return &exitError{ExitFailure}
			}
			if ms < 100 {
				fmt.Fprint(f.IO.ErrOut, "Setting a node timeout of less than 100 milliseconds is a bad idea.\n")
				return &exitError{ExitFailure}
			}
			if ms > maxNodeTimeout && !o.force {
				return f.refuse(fmt.Sprintf("A node timeout of %d ms is over a day: failures would go undetected that long. Add --force to set it anyway.", ms))
			}
			o.timeout = ms
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSetTimeout(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "load the cluster and print what would be set; change nothing")
	cmd.Flags().BoolVar(&o.force, "force", false, "set a node timeout of more than a day")
	return cmd
}

func runSetTimeout(ctx context.Context, f *factory, o *setTimeoutOptions) error {
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "", nil, false, err)
	}
	errs := m.SetTimeout(ctx, o.timeout, o.dryRun)
	if o.dryRun {
		f.dryRunNote()
	}
	if f.json() {
		doc := report.SetTimeoutDoc{Command: "set-timeout", OK: true, DryRun: o.dryRun, TimeoutMS: o.timeout, Nodes: []report.NodeResult{}}
		for i, n := range m.Nodes {
			r := report.NodeResult{Address: n.Addr(), ID: n.ID, OK: errs[i] == nil}
			if errs[i] != nil {
				r.Error, doc.OK = replyOrError(errs[i]), false
			}
			doc.Nodes = append(doc.Nodes, r)
		}
		report.WriteJSON(f.IO.Out, doc)
	}
	// redis-cli exits 0 whatever the nodes answered; a node left with the
	// old timeout is a failure worth an exit code.
	for _, err := range errs {
		if err != nil {
			return manager.ErrReported
		}
	}
	return nil
}
