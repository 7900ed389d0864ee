package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/pkg/node"
)

type backupOptions struct {
	addr manager.Address
	dir  string
}

func newBackupCmd(f *factory, runF func(context.Context, *backupOptions) error) *cobra.Command {
	o := &backupOptions{}
	return &cobra.Command{
		Use:   "backup HOST:PORT DIRECTORY",
		Short: "Save every master's RDB and the cluster layout (redis-cli --cluster backup)",
		Long: `Check the cluster through the given node, fetch the RDB of every master
through the replication protocol (SYNC), one master after the other, into
DIRECTORY/redis-node-HOST-PORT-ID.rdb, and write the layout of the cluster
to DIRECTORY/nodes.json. Same output, files and exit status as
redis-cli --cluster backup, except that a missing DIRECTORY is created
(redis-cli fails) and existing files are truncated first (redis-cli
overwrites them in place, leaving the tail of a longer old file).

EXIT STATUS
  0  the backup was written (a failed check is reported as a warning)
  1  the cluster could not be loaded, or an RDB or nodes.json could not be saved`,
		Example: `  rcluster backup 127.0.0.1:7000 /var/backups/redis-cluster`,
		Args:    f.exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := f.parseOneHost(args[0])
			if err != nil {
				return err
			}
			o.addr, o.dir = a, args[1]
			if o.dir == "" {
				fmt.Fprint(f.IO.ErrOut, "Invalid backup directory: it must not be empty.\n")
				return &exitError{ExitFailure}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runBackup(cmd.Context(), f, o)
		},
	}
}

func runBackup(ctx context.Context, f *factory, o *backupOptions) error {
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return err
	}
	ok := m.Check(ctx, false)
	return m.Backup(ctx, ok, manager.BackupOptions{
		Dir:            o.dir,
		Auth:           node.Auth{User: f.global.user, Password: f.global.pass},
		ConnectTimeout: time.Duration(f.global.connectTimeout * float64(time.Second)),
		TLS:            f.global.tlsConfig,
	})
}
