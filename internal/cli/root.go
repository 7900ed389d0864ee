package cli

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/node"
	"github.com/rcluster/rcluster/internal/version"
)

const rootLong = `rcluster administers Redis Cluster (and Valkey) like redis-cli --cluster,
printing the same text with the same colors and exit codes, so that people,
scripts and golden files cannot tell the two apart.

Every redis-cli option is accepted under its redis-cli name too
(--cluster-replicas, --cluster-yes, --cluster-slave, ...), as is the
"HOST PORT" address form, so a script moves over by replacing
"redis-cli --cluster" with "rcluster".

EXIT STATUS
  0  done
  1  the cluster has a problem or the operation failed (redis-cli's 1)
  2  the command line was not understood (unknown command or flag)`

func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:           "rcluster",
		Short:         "Administer Redis Cluster like redis-cli --cluster, and better",
		Long:          rootLong,
		Version:       version.String(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("rcluster {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	f.addGlobalFlags(root.PersistentFlags())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := f.prepare(); err != nil {
			return err
		}
		return f.refuseTable(cmd.Name())
	}
	root.SetGlobalNormalizationFunc(redisCLIFlagNames)

	root.AddCommand(
		newCreateCmd(f, nil),
		newCheckCmd(f, nil),
		newInfoCmd(f, nil),
		newFixCmd(f, nil),
		newReshardCmd(f, nil),
		newRebalanceCmd(f, nil),
		newAddNodeCmd(f, nil),
		newDelNodeCmd(f, nil),
		newCallCmd(f, nil),
		newSetTimeoutCmd(f, nil),
		newImportCmd(f, nil),
		newBackupCmd(f, nil),
		newLocalCmd(f),
	)
	// An unknown subcommand is a usage error.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &usageError{fmt.Sprintf("unknown command %q for \"rcluster\"", args[0])}
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return root
}

// redisCLIFlagNames maps redis-cli's option names onto rcluster's:
// --cluster-replicas is --replicas, --cluster-slave is --replica, and so on.
func redisCLIFlagNames(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	name = strings.TrimPrefix(name, "cluster-")
	switch name {
	case "slave":
		name = "replica"
	case "fix-with-unreachable-primaries":
		name = "fix-with-unreachable-masters"
	}
	return pflag.NormalizedName(name)
}

// factory builds what commands need from the global flags and environment.
type factory struct {
	IO     *iostreams.IOStreams
	Getenv func(string) string
	// NewDialer builds the node connection factory; tests replace it with
	// one that replays captured replies.
	NewDialer func(node.Options) node.Dialer
	global    globalOptions
	text      bytes.Buffer // redis-cli's text, kept aside with -o json
}
