package cli

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/reset"
)

type resetOptions struct {
	addrs  []manager.Address
	flush  bool
	force  bool
	dryRun bool
}

func newResetCmd(f *factory, runF func(context.Context, *resetOptions) error) *cobra.Command {
	o := &resetOptions{}
	cmd := &cobra.Command{
		Use:   "reset HOST:PORT... [--flush] [--force]",
		Short: "Empty nodes that create refuses as \"not empty\" (CLUSTER RESET HARD)",
		Long: `Say for each node what makes it "not empty" for create (other nodes known,
keys in database 0, slots), ask for confirmation, then send it CLUSTER RESET
HARD: it forgets every other node and its slots, and takes a new ID. Nothing
needs a restart or a deleted file: create takes the nodes at once. Replicas
are reset first, then masters; empty nodes are left alone.

Keys are deleted (FLUSHALL) only with --flush: a node with keys is refused
without it. A node that serves a healthy cluster (it owns slots, or
replicates a master that does, and reports cluster_state:ok) is refused
unless --force is given; the message names that cluster by its masters.
Every node is checked before the first one is reset: a refusal changes
nothing. With -o json, stdout is one document describing every node.

EXIT STATUS
  0  the nodes were reset (or were empty), or the question was declined
  1  a node was refused or unreachable (nothing was changed), or a reset failed`,
		Example: `  rcluster reset 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002
  rcluster -a secret reset 10.0.0.1:6371 10.0.0.1:6372 --flush --force --yes
  rcluster reset 127.0.0.1:7000 --dry-run -o json`,
		Args: f.minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if o.addrs, err = f.parseAddrList(args); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runReset(cmd.Context(), f, o)
		},
	}
	cmd.Flags().BoolVar(&o.flush, "flush", false, "delete the keys of nodes that have some (FLUSHALL); without it such nodes are refused")
	cmd.Flags().BoolVar(&o.force, "force", false, "also reset nodes that serve a healthy cluster")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "inspect the nodes and say what would be reset; change nothing")
	return cmd
}

func runReset(ctx context.Context, f *factory, o *resetOptions) error {
	m := f.manager(manager.Options{})
	targets, err := m.InspectForReset(ctx, o.addrs)
	defer reset.Close(targets)
	if err != nil {
		return f.emit(m, "reset", nil, false, err)
	}
	opts := reset.Options{Flush: o.flush, Force: o.force}
	docs := resetDocs(targets)
	m.P.ResetListing(docs)
	doc := report.ResetDoc{Command: "reset", OK: true, DryRun: o.dryRun, Nodes: docs}

	refused, pending, keys := false, 0, false
	for i := range docs {
		d := &docs[i]
		if targets[i].Empty() {
			d.Action = report.ResetNone
			continue
		}
		pending++
		keys = keys || d.NeedsFlush
		lacksFlush, lacksForce := targets[i].Lacks(opts)
		if lacksFlush || lacksForce {
			d.Action, refused = report.ResetRefused, true
			m.P.ResetRefused(*d, lacksFlush, lacksForce)
			continue
		}
		d.Action = report.ResetPlanned
		if d.NeedsForce {
			m.P.ResetForced(*d)
		}
	}
	if refused {
		doc.OK = false
		return f.writeReset(doc, manager.ErrReported)
	}
	if pending == 0 {
		m.P.ResetOK(0)
		return f.writeReset(doc, nil)
	}
	if o.dryRun {
		f.dryRunNote()
		return f.writeReset(doc, nil)
	}
	if !f.global.yes && !f.prompter().Confirm(report.ResetQuestion(o.flush && keys)) {
		return f.writeReset(doc, nil) // declined: nothing changed, exit 0 as create
	}
	results, err := m.ResetAll(ctx, targets, opts)
	if err != nil {
		return err // a refusal: every one was refused above
	}
	var failed error
	for i := range docs {
		d := &docs[i]
		if d.Action != report.ResetPlanned {
			continue
		}
		if r := results[i]; r.Err != nil {
			d.Action, d.Error, doc.OK, failed = report.ResetFailed, replyOrError(r.Err), false, manager.ErrReported
			continue
		}
		d.Action, d.NewID = report.ResetDone, results[i].NewID
	}
	if failed == nil {
		m.P.ResetOK(pending)
	}
	return f.writeReset(doc, failed)
}

// resetDocs describes the inspected targets.
func resetDocs(targets []*reset.Target) []report.ResetNodeDoc {
	docs := make([]report.ResetNodeDoc, len(targets))
	for i, t := range targets {
		d := report.ResetNodeDoc{
			Address: t.Addr(), ID: t.ID, Role: "master", MasterID: t.MasterID, Master: t.Master,
			OtherNodes: t.OtherNodes, Keys: t.Keys, Slots: report.Ranges(&t.Slots), SlotCount: t.Slots.Count(),
			Cluster: t.Cluster, NeedsFlush: t.NeedsFlush(), NeedsForce: t.NeedsForce(),
		}
		if t.MasterID != "" {
			d.Role = "replica"
		}
		docs[i] = d
	}
	return docs
}

// writeReset prints reset's JSON document with -o json.
func (f *factory) writeReset(doc report.ResetDoc, err error) error {
	if !f.json() {
		return err
	}
	return f.write(doc, err)
}

// resetHint follows create's "is not empty" error with the reset command
// that empties those of the given nodes that are not, on stderr. It
// inspects the nodes without printing; those it cannot reach are left out.
func (f *factory) resetHint(ctx context.Context, addrs []manager.Address) {
	quiet := manager.New(&report.Printer{Out: io.Discard, ErrOut: io.Discard}, f.dialer(), manager.Options{})
	targets, _ := quiet.InspectForReset(ctx, addrs)
	defer reset.Close(targets)
	var flush, force bool
	var names []string
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Err != nil || t.Empty() || seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		flush, force = flush || t.NeedsFlush(), force || t.NeedsForce()
		names = append(names, shellQuote(t.Addr()))
	}
	if len(names) == 0 {
		return
	}
	words := append([]string{"rcluster"}, f.connectionArgs()...)
	words = append(words, "reset")
	words = append(words, names...)
	if flush {
		words = append(words, "--flush")
	}
	if force {
		words = append(words, "--force")
	}
	f.printer().ResetHint(strings.Join(words, " "))
}

// connectionArgs are the global flags that another rcluster command needs
// to reach the same nodes the same way. A password is never repeated: one
// given on the command line becomes --askpass (REDISCLI_AUTH carries over
// by itself).
func (f *factory) connectionArgs() []string {
	g := &f.global
	var args []string
	if g.user != "" {
		args = append(args, "--user", shellQuote(g.user))
	}
	if g.passGiven || g.askpass {
		args = append(args, "--askpass")
	}
	if g.tls {
		args = append(args, "--tls")
		for _, fl := range []struct{ name, value string }{
			{"--cacert", g.tlsOpts.CACert}, {"--cacertdir", g.tlsOpts.CACertDir},
			{"--cert", g.tlsOpts.Cert}, {"--key", g.tlsOpts.Key}, {"--sni", g.tlsOpts.SNI},
		} {
			if fl.value != "" {
				args = append(args, fl.name, shellQuote(fl.value))
			}
		}
		if g.tlsOpts.Insecure {
			args = append(args, "--insecure")
		}
	}
	if g.connectTimeout != 0 {
		args = append(args, "-t", strconv.FormatFloat(g.connectTimeout, 'f', -1, 64))
	}
	return args
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
