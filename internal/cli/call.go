package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/node"
)

type callOptions struct {
	addr         manager.Address
	command      []string
	onlyMasters  bool
	onlyReplicas bool
	delimiter    string
	helpShown    bool
}

func newCallCmd(f *factory, runF func(context.Context, *callOptions) error) *cobra.Command {
	o := &callOptions{}
	cmd := &cobra.Command{
		Use:   "call HOST:PORT COMMAND [ARG...] [--only-masters | --only-replicas]",
		Short: "Run a command on every node (redis-cli --cluster call)",
		Long: `Load the cluster through the given node and send the command to every node
(or only to the masters, or only to the replicas), all at once; the replies
are printed in node order, formatted as redis-cli's raw output. Same output
and exit status as redis-cli --cluster call.

The words after the address are the command, up to the first rcluster option
(such as --only-masters, redis-cli's --cluster-only-masters), so that
redis-cli's command lines work as they are. Unlike redis-cli, a word that
starts with "-" but is not an rcluster option (SET k -1) belongs to the
command, and every word after a "--" does.

With -o json, stdout is one document with every node's reply
(docs/json.md).

EXIT STATUS
  0  the cluster was loaded (even if some nodes replied with an error)
  1  the cluster could not be loaded`,
		Example: `  rcluster call 127.0.0.1:7000 CLUSTER COUNTKEYSINSLOT 8
  rcluster call 127.0.0.1:7000 CONFIG GET cluster-node-timeout --only-replicas
  rcluster call 127.0.0.1:7000 -- SET counter -1`,
		Args: cobra.ArbitraryArgs,
		// The words after the address are the command's until an option:
		// they are split here, the options among them parsed, and only then
		// are the global options applied (the root's hook is not run).
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := cmd.Flags().Parse(o.split(cmd.Flags(), args)); err != nil {
				return &usageError{err.Error()}
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				o.helpShown = true
				return cmd.Help()
			}
			if len(args) == 0 || len(o.command) == 0 {
				return f.errWrongArgs()
			}
			if err := f.prepare(); err != nil {
				return err
			}
			return f.refuseOutput(cmd)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.helpShown {
				return nil
			}
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr = a
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runCall(cmd.Context(), f, o)
		},
	}
	fs := cmd.Flags()
	// Options before the address are parsed by cobra; what follows the
	// address is split by split.
	fs.SetInterspersed(false)
	fs.BoolVar(&o.onlyMasters, "only-masters", false, "run the command on the masters only")
	fs.BoolVar(&o.onlyReplicas, "only-replicas", false, "run the command on the replicas only")
	fs.StringVarP(&o.delimiter, "delimiter", "d", "\n", "separator between the elements of an array reply (redis-cli's -d)")
	return cmd
}

// split takes the command words out of args (the address and what follows
// it): they end at the first word that is an rcluster option, which starts
// the returned options; a "--" makes every later word a command word.
func (o *callOptions) split(fs *pflag.FlagSet, args []string) (options []string) {
	o.command = nil
	if len(args) == 0 {
		return nil
	}
	for i, w := range args[1:] {
		if w == "--" {
			o.command = append(o.command, args[i+2:]...)
			return nil
		}
		if isOption(fs, w) {
			return args[i+1:]
		}
		o.command = append(o.command, w)
	}
	return nil
}

// isOption reports whether w names one of the command's options (its own
// or a global one, under rcluster's or redis-cli's name).
func isOption(fs *pflag.FlagSet, w string) bool {
	switch {
	case strings.HasPrefix(w, "--"):
		name, _, _ := strings.Cut(w[2:], "=")
		return name != "" && fs.Lookup(name) != nil
	case len(w) >= 2 && w[0] == '-':
		return fs.ShorthandLookup(w[1:2]) != nil
	}
	return false
}

func runCall(ctx context.Context, f *factory, o *callOptions) error {
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "", nil, false, err)
	}
	replies := m.Call(ctx, o.command, manager.CallOptions{
		OnlyMasters:  o.onlyMasters,
		OnlyReplicas: o.onlyReplicas,
		Delimiter:    o.delimiter,
	})
	if f.json() {
		report.WriteJSON(f.IO.Out, callDoc(o.command, replies))
	}
	return nil
}

// callDoc is call's -o json document (docs/json.md).
func callDoc(args []string, replies []manager.CallReply) report.CallDoc {
	doc := report.CallDoc{Command: "call", OK: true, Args: args, Replies: []report.CallReplyDoc{}}
	for _, r := range replies {
		d := report.CallReplyDoc{Address: r.Node.Addr(), ID: r.Node.ID, Role: "master"}
		if r.Node.MasterID != "" {
			d.Role = "replica"
		}
		var re *node.ReplyError
		if r.Err == nil {
			d.Reply = report.ReplyJSON(r.Value)
		} else {
			d.Error, d.Failed = replyOrError(r.Err), !errors.As(r.Err, &re)
			doc.OK = false
		}
		doc.Replies = append(doc.Replies, d)
	}
	return doc
}
