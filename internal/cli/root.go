package cli

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/version"
	"github.com/rcluster/rcluster/pkg/node"
)

const rootLong = `rcluster administers Redis Cluster (and Valkey) like redis-cli --cluster,
printing the same text with the same colors and exit codes, so that people,
scripts and golden files cannot tell the two apart.

Every redis-cli option is accepted under its redis-cli name too
(--cluster-replicas, --cluster-yes, --cluster-slave, ...), as is the
"HOST PORT" address form, so a script moves over by replacing
"redis-cli --cluster" with "rcluster".

On Valkey nodes the text is valkey-cli 8's instead, which says "primary"
and "replicas" where redis-cli says "master" and "slaves": rcluster
follows the entry node (valkey when its INFO says server_name:valkey,
redis otherwise); --dialect redis or --dialect valkey forces either.

Every wait is bounded: a connection and its first reply by -t, every other
reply by --reply-timeout (a MIGRATE also by its --timeout), so a hung node
is reported as unreachable instead of stopping the run. Ctrl-C or SIGTERM
ends a command that only reads at once; one that writes finishes the slot
in flight first (at most 2 s), and a second signal ends it at once.

EXIT STATUS
  0    done
  1    the cluster has a problem or the operation failed (redis-cli's 1)
  2    the command line was not understood (unknown command or flag)
  130  stopped by SIGINT (Ctrl-C); 143: by SIGTERM`

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
		f.changes.Store(cmd.Annotations[annotationChanges] == "true")
		if cmd.Annotations[annotationOperation] == "true" {
			f.operating.Store(true)
			f.operation = manager.OperationName(cmd.Name(), time.Now())
		}
		if err := f.prepare(); err != nil {
			return err
		}
		return f.refuseOutput(cmd)
	}
	root.SetGlobalNormalizationFunc(redisCLIFlagNames)

	root.AddCommand(
		changing(newCreateCmd(f, nil)),
		outputs(newCheckCmd(f, nil), "json", "table"),
		outputs(newInfoCmd(f, nil), "json", "table"),
		operation(newFixCmd(f, nil)),
		operation(newReshardCmd(f, nil)),
		operation(newRebalanceCmd(f, nil)),
		operation(newApplyCmd(f, nil)),
		operation(newAddNodeCmd(f, nil)),
		operation(newDelNodeCmd(f, nil)),
		operation(newFailoverCmd(f, nil)),
		operation(newEvacuateCmd(f, nil)),
		operation(newPlacementCmd(f, nil)),
		changing(newCallCmd(f, nil)),
		changing(newSetTimeoutCmd(f, nil)),
		outputs(changing(newImportCmd(f, nil))), // redis-cli's text only
		outputs(newBackupCmd(f, nil)),
		changing(newResetCmd(f, nil)),
		changing(newVerifyCmd(f, nil)), // its test keys are deleted on Ctrl-C
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
	registerCompletions(root, f)
	return root
}

// annotationChanges marks the commands that write to the cluster.
const annotationChanges = "rcluster/changes"

// annotationOperation marks the commands that move slots or nodes: one
// such run at a time per cluster.
const annotationOperation = "rcluster/operation"

// operation marks cmd as a changing command that must run alone.
func operation(cmd *cobra.Command) *cobra.Command {
	changing(cmd).Annotations[annotationOperation] = "true"
	return cmd
}

// annotationFormats lists the -o formats a command has besides text,
// comma-separated; a command without it has json.
const annotationFormats = "rcluster/formats"

// outputs declares the -o formats cmd has besides text.
func outputs(cmd *cobra.Command, formats ...string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationFormats] = strings.Join(formats, ",")
	return cmd
}

// hasFormat reports whether cmd declares the -o format.
func hasFormat(cmd *cobra.Command, format string) bool {
	if format == "text" {
		return true
	}
	list, declared := cmd.Annotations[annotationFormats]
	if !declared {
		list = "json"
	}
	return slices.Contains(strings.Split(list, ","), format)
}

// refuseOutput refuses an -o format that cmd does not declare.
func (f *factory) refuseOutput(cmd *cobra.Command) error {
	format := f.global.output
	if hasFormat(cmd, format) {
		return nil
	}
	if format == "json" {
		return &usageError{fmt.Sprintf("--output json is not available for %s: its output is redis-cli's text", cmd.Name())}
	}
	var with []string
	for _, c := range cmd.Root().Commands() {
		if hasFormat(c, format) {
			with = append(with, c.Name())
		}
	}
	list := strings.Join(with, ", ")
	if n := len(with); n > 1 {
		list = strings.Join(with[:n-1], ", ") + " and " + with[n-1]
	}
	return &usageError{fmt.Sprintf("--output %s is available for %s only, not for %s", format, list, cmd.Name())}
}

// changing marks cmd as a command that writes to the cluster.
func changing(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationChanges] = "true"
	return cmd
}

// redisCLIFlagNames maps redis-cli's option names onto rcluster's:
// --cluster-replicas is --replicas, --cluster-slave is --replica, and so on.
func redisCLIFlagNames(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	name = strings.TrimPrefix(name, "cluster-")
	switch name {
	case "slave":
		name = "replica"
	// valkey-cli 8's names for the same options.
	case "fix-with-unreachable-primaries":
		name = "fix-with-unreachable-masters"
	case "use-empty-primaries":
		name = "use-empty-masters"
	case "only-primaries":
		name = "only-masters"
	case "primary-id":
		name = "master-id"
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
	errText   bytes.Buffer // what went to stderr meanwhile (also written there)
	// signal is the first SIGINT or SIGTERM received, if any.
	signal atomic.Pointer[os.Signal]
	// entry is the node address the command was given, and changes tells
	// that the command writes to the cluster: a run stopped at once names
	// the fix to run.
	entry   atomic.Pointer[string]
	changes atomic.Bool
	// operating tells that the command may leave slots open if stopped.
	operating atomic.Bool
	// operation names the connections of a command that moves slots or
	// nodes, so that other runs see it (manager.OperationName).
	operation string
	// inFlight is what the run's managers have open, for the message of a
	// run ended at once.
	inFlight manager.InFlight
}
