package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type checkOptions struct {
	addr                 manager.Address
	searchMultipleOwners bool
}

func newCheckCmd(f *factory, runF func(context.Context, *checkOptions) error) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check HOST:PORT | HOST PORT",
		Short: "Check the cluster through any of its nodes (redis-cli --cluster check)",
		Long: `Load the cluster through the given node, print its summary and check that all
nodes agree about the configuration, that no slot is open and that all 16384
slots are covered. Same output and exit status as redis-cli --cluster check.

EXIT STATUS
  0  the cluster is healthy
  1  a problem was found, or a node could not be loaded`,
		Example: `  rcluster check 127.0.0.1:7000
  rcluster check 127.0.0.1 7000 --search-multiple-owners`,
		Args: f.minArgs(1),
		RunE: onHostArgs(f, &o.addr, o, runF, runCheck),
	}
	cmd.Flags().BoolVar(&o.searchMultipleOwners, "search-multiple-owners", false, "also look for slots with keys on more than one master")
	return cmd
}

func runCheck(ctx context.Context, f *factory, o *checkOptions) error {
	m := f.manager(manager.Options{SearchMultipleOwners: o.searchMultipleOwners})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "", nil, false, err)
	}
	m.ShowClusterInfo(ctx)
	if !m.Check(ctx, false) {
		return f.emit(m, "", nil, false, manager.ErrReported)
	}
	return f.emit(m, "", nil, true, nil)
}
