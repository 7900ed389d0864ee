package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/node"
)

type importOptions struct {
	addr        manager.Address
	from        string
	fromAddr    manager.Address
	fromUser    string
	fromPass    string
	fromAskpass bool
	copy        bool
	replace     bool
	timeout     int
	pipeline    int
	dryRun      bool
	progress    string
}

func newImportCmd(f *factory, runF func(context.Context, *importOptions) error) *cobra.Command {
	o := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import HOST:PORT --from SRC_HOST:SRC_PORT",
		Short: "Move the keys of a standalone instance into the cluster (redis-cli --cluster import)",
		Long: `Check the cluster through the given node, then SCAN database 0 of the source
(a Redis instance that is not a cluster node) and MIGRATE every key to the
master that owns its slot, printing one line per key. Same output and exit
status as redis-cli --cluster import.

Keys travel in batches of --pipeline keys per master (one MIGRATE ... KEYS
each) where redis-cli sends one MIGRATE per key. A key that already exists
in the cluster stops the import at that key, with redis-cli's BUSYKEY
message, unless --replace is given; the keys after it stay on the source.

EXIT STATUS
  0  every key was migrated
  1  the cluster check failed, the source was refused, or a MIGRATE failed`,
		Example: `  rcluster import 127.0.0.1:7000 --from 127.0.0.1:6379
  rcluster import 127.0.0.1:7000 --from 10.0.0.5:6379 --from-pass secret --copy --replace`,
		Args: f.exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.fromAskpass {
				pw, err := f.readPassword("Please input import source node password: ")
				if err != nil {
					return err
				}
				o.fromPass = pw
			}
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr = a
			if !cmd.Flags().Changed("from") {
				fmt.Fprint(f.IO.ErrOut, "[ERR] Option '--cluster-from' is required for subcommand 'import'.\n")
				return &exitError{ExitFailure}
			}
			src, ok := parseAddr(o.from)
			if !ok {
				fmt.Fprint(f.IO.ErrOut, "[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. 120.0.0.1:7000).\n")
				return &exitError{ExitFailure}
			}
			o.fromAddr = src
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runImport(cmd.Context(), f, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.from, "from", "", "the source instance, HOST:PORT (required)")
	fs.StringVar(&o.fromUser, "from-user", "", "ACL user for the source, used with a password")
	fs.StringVar(&o.fromPass, "from-pass", "", "password for the source")
	fs.BoolVar(&o.fromAskpass, "from-askpass", false, "read the source's password from standard input")
	fs.BoolVar(&o.copy, "copy", false, "copy the keys (MIGRATE COPY): leave them on the source")
	fs.BoolVar(&o.replace, "replace", false, "replace keys that already exist in the cluster (MIGRATE REPLACE)")
	fs.IntVar(&o.timeout, "timeout", 60000, "MIGRATE timeout in milliseconds")
	fs.IntVar(&o.pipeline, "pipeline", 10, "keys sent to one master in one MIGRATE")
	fs.BoolVar(&o.dryRun, "dry-run", false, "run every check and count the keys; move nothing")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal and stdout is not), always, never")
	return cmd
}

func runImport(ctx context.Context, f *factory, o *importOptions) error {
	switch {
	case o.timeout < 1:
		return f.refuse(fmt.Sprintf("Invalid --timeout %d: it must be a number of milliseconds, 1 or more.", o.timeout))
	case o.pipeline < 1:
		return f.refuse(fmt.Sprintf("Invalid --pipeline %d: it must be 1 or more.", o.pipeline))
	}
	m, err := f.movingManager(manager.Options{}, o.progress)
	if err != nil {
		return err
	}
	defer m.Close()
	report.ImportText{P: m.P}.Start(o.fromAddr.String(), o.addr.String())
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return err
	}
	if !m.Check(ctx, false) {
		return manager.ErrReported
	}
	newDialer := f.NewDialer
	if newDialer == nil {
		newDialer = node.NewDialer
	}
	dial := newDialer(node.Options{
		Auth:           node.Auth{User: o.fromUser, Password: o.fromPass},
		ConnectTimeout: time.Duration(f.global.connectTimeout * float64(time.Second)),
	})
	err = m.Import(ctx, manager.ImportOptions{
		From:     o.fromAddr,
		Dial:     dial,
		Copy:     o.copy,
		Replace:  o.replace,
		Timeout:  o.timeout,
		Pipeline: o.pipeline,
		User:     f.global.user,
		Password: f.global.pass,
		DryRun:   o.dryRun,
	})
	if err == nil && o.dryRun {
		f.dryRunNote()
	}
	return err
}
