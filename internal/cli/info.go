package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/manager"
)

type infoOptions struct {
	addr manager.Address
}

func newInfoCmd(f *factory, runF func(context.Context, *infoOptions) error) *cobra.Command {
	o := &infoOptions{}
	return &cobra.Command{
		Use:   "info HOST:PORT | HOST PORT",
		Short: "Print keys, slots and replicas per master (redis-cli --cluster info)",
		Long: `Load the cluster through the given node and print, for every master, its keys,
slots and replicas, then the totals. Same output and exit status as
redis-cli --cluster info.

EXIT STATUS
  0  the cluster was loaded (even if a node failed to answer DBSIZE)
  1  the cluster could not be loaded`,
		Example: `  rcluster info 127.0.0.1:7000`,
		Args:    f.minArgs(1),
		RunE:    onHostArgs(f, &o.addr, o, runF, runInfo),
	}
}

func runInfo(ctx context.Context, f *factory, o *infoOptions) error {
	m := f.manager(manager.Options{})
	defer m.Close()
	if err := m.Load(ctx, o.addr.Host, o.addr.Port); err != nil {
		return f.emit(m, "", nil, false, err)
	}
	m.ShowClusterInfo(ctx)
	return f.emit(m, "", nil, true, nil)
}
