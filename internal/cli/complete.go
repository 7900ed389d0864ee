package cli

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// completionTimeout bounds the look at the cluster that completing a node
// ID makes: a shell waits for it at every Tab.
const completionTimeout = 2 * time.Second

// registerCompletions gives the shell completion scripts the values of
// -o, --progress and the flags and arguments that take node IDs; the IDs
// come from the cluster whose address is on the command line.
func registerCompletions(root *cobra.Command, f *factory) {
	_ = root.RegisterFlagCompletionFunc("output", fixedValues(
		"text\tredis-cli's text", "json\tone JSON document (docs/json.md)", "table\ta row per node (check and info)"))
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Flags().Lookup("progress") != nil {
			_ = cmd.RegisterFlagCompletionFunc("progress", fixedValues(
				"auto\twhen stderr is a terminal and stdout is not", "always\ton stderr", "never\tno progress bar"))
		}
		for _, c := range cmd.Commands() {
			walk(c)
		}
	}
	walk(root)

	for _, cmd := range root.Commands() {
		switch cmd.Name() {
		case "reshard":
			_ = cmd.RegisterFlagCompletionFunc("to", f.completeIDs(0, true, ""))
			_ = cmd.RegisterFlagCompletionFunc("from", f.completeIDs(0, true, "all\tevery master but the receiving one"))
		case "rebalance":
			_ = cmd.RegisterFlagCompletionFunc("weight", f.completeIDs(0, true, ""))
			_ = cmd.RegisterFlagCompletionFunc("by", fixedValues(
				"slots	redis-cli's rebalance", "keys	key counts per slot", "memory	sampled MEMORY USAGE per slot"))
		case "add-node":
			_ = cmd.RegisterFlagCompletionFunc("master-id", f.completeIDs(1, true, ""))
		case "del-node":
			ids := f.completeIDs(0, false, "")
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				if len(args) != 1 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return ids(cmd, args, toComplete)
			}
		}
	}
}

func fixedValues(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeIDs completes node IDs (of masters only, with mastersOnly) of the
// cluster at the command line's address, argument addrArg (HOST:PORT, or
// HOST PORT when it is the first). Each comes with its address and role.
// --from takes a comma-separated list and --weight ID=WEIGHT: the words
// before the last comma are kept, and a weight's ID ends with "=".
func (f *factory) completeIDs(addrArg int, mastersOnly bool, extra string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		directive := cobra.ShellCompDirectiveNoFileComp
		var words []string // positional arguments, without rebalance's ID=WEIGHT words
		for _, a := range args {
			if !strings.Contains(a, "=") {
				words = append(words, a)
			}
		}
		addr, ok := completionAddr(words, addrArg)
		if !ok {
			return nil, directive
		}
		done, current := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 && cmd.Name() == "reshard" {
			done, current = toComplete[:i+1], toComplete[i+1:]
		}
		suffix := ""
		if cmd.Name() == "rebalance" {
			suffix = "="
			directive |= cobra.ShellCompDirectiveNoSpace
		}
		var out []string
		if extra != "" && done == "" {
			out = append(out, extra)
		}
		for _, l := range f.clusterNodes(addr) {
			if mastersOnly && isReplica(l) {
				continue
			}
			if !strings.HasPrefix(l.ID, strings.ToLower(current)) {
				continue
			}
			role := "master"
			if isReplica(l) {
				role = "replica of " + l.MasterID[:min(8, len(l.MasterID))]
			}
			out = append(out, done+l.ID+suffix+"\t"+node.Addr(l.Host, l.Port)+" "+role)
		}
		return out, directive
	}
}

// isReplica tells a replica's line: it names its master, or is flagged
// slave while its master is unknown.
func isReplica(l *cluster.Line) bool {
	return l.MasterID != "" || slices.Contains(l.Flags, "slave")
}

// completionAddr reads the address at argument i: HOST:PORT, or HOST PORT
// when i is 0 and the next word is a port.
func completionAddr(args []string, i int) (manager.Address, bool) {
	if len(args) <= i {
		return manager.Address{}, false
	}
	if a, ok := parseAddr(args[i]); ok {
		return a, true
	}
	if i == 0 && len(args) >= 2 {
		if port, ok := parsePort(args[1]); ok {
			return manager.Address{Host: args[0], Port: port}, true
		}
	}
	return manager.Address{}, false
}

// clusterNodes asks the node at addr for CLUSTER NODES with the command
// line's credentials and TLS settings, within completionTimeout; nil when
// it cannot. It prints nothing and prompts for nothing: the shell reads
// its output as completions.
func (f *factory) clusterNodes(addr manager.Address) []*cluster.Line {
	g := f.global
	if g.uri != "" {
		if u, err := parseURI(g.uri); err == nil {
			g.pass, g.user, g.tls = cmp.Or(g.pass, u.pass), cmp.Or(g.user, u.user), g.tls || u.tls
		}
	}
	g.pass = cmp.Or(g.pass, f.Getenv("REDISCLI_AUTH"))
	if g.tls {
		g.tlsConfig, g.tlsErr = node.TLSConfig(g.tlsOpts)
	}
	opts := (&factory{global: g}).nodeOptions()
	opts.ConnectTimeout, opts.ReplyTimeout = completionTimeout, completionTimeout
	newDialer := f.NewDialer
	if newDialer == nil {
		newDialer = node.NewDialer
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	c, err := newDialer(opts)(ctx, addr.Host, addr.Port)
	if err != nil {
		return nil
	}
	defer c.Close()
	text, err := node.Str(c.Do(ctx, "CLUSTER", "NODES"))
	if err != nil {
		return nil
	}
	lines, _ := cluster.ParseNodes(text)
	return lines
}
