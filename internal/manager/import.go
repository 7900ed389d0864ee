package manager

import (
	"context"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/importer"
	"github.com/rcluster/rcluster/pkg/node"
)

// ImportOptions are the settings of import.
type ImportOptions struct {
	// From is the standalone instance the keys come from.
	From Address
	// Dial connects to the source with the source's credentials
	// (--from-user, --from-pass).
	Dial node.Dialer
	// Copy and Replace add COPY and REPLACE to MIGRATE.
	Copy, Replace bool
	// Timeout is MIGRATE's timeout in milliseconds.
	Timeout int
	// Pipeline is the number of keys sent to one target in one MIGRATE.
	Pipeline int
	// User and Password are the cluster's credentials, given to MIGRATE.
	User, Password string
	// DryRun stops after every check and the key count: nothing moves.
	DryRun bool
}

// Import moves (or copies) every key of the source's database 0 to the
// master that owns its slot, after Load and Check (clusterManagerCommandImport),
// with pkg/importer, printing a line per key in SCAN order.
func (m *Manager) Import(ctx context.Context, o ImportOptions) error {
	text := report.ImportText{P: m.P}
	addr := o.From.String() // the source, as typed
	src, err := o.Dial(ctx, o.From.Host, o.From.Port)
	if err != nil {
		text.DialFailed(addr, err)
		return ErrReported
	}
	defer src.Close()

	defer m.Progress.Done()
	_, err = importer.Run(ctx, &m.Cluster, src, importer.Options{
		Copy:     o.Copy,
		Replace:  o.Replace,
		Timeout:  o.Timeout,
		Pipeline: o.Pipeline,
		Auth:     node.Auth{User: o.User, Password: o.Password},
		DryRun:   o.DryRun,
	}, importText{text, m.Progress, o.DryRun})
	switch {
	case err == nil:
		return nil
	case err == ctx.Err(): // interrupted between two commands
		return err
	}
	text.Failed(err, addr)
	return ErrReported
}

// importText is an import's importer.Observer: redis-cli's lines, and the
// progress bar.
type importText struct {
	report.ImportText
	progress *report.Progress
	dryRun   bool
}

func (t importText) Counted(keys int64) {
	t.Importing(int32(keys))
	if !t.dryRun {
		t.progress.Start("import", 0, keys)
	}
}

func (t importText) Migrated(key string, target *Node) { t.KeyMigrated(key, target.Addr()) }

func (t importText) Scanned(n int) { t.progress.Keys(n) }
