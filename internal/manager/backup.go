package manager

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/backup"
	"github.com/rcluster/rcluster/pkg/node"
)

// BackupOptions are the settings of backup.
type BackupOptions struct {
	// Dir is the directory as typed; it is created when missing.
	Dir string
	// Auth, ConnectTimeout and TLS are used for the replication connection
	// that fetches every master's RDB.
	Auth           node.Auth
	ConnectTimeout time.Duration
	TLS            *tls.Config
}

// Backup saves the RDB of every loaded master and the cluster layout in
// nodes.json (clusterManagerCommandBackup) with pkg/backup, after Load and
// Check; checkOK is the result of the check. The lines of every RDB
// transfer go to stderr, as redis-cli's getRDB prints them.
func (m *Manager) Backup(ctx context.Context, checkOK bool, o BackupOptions) error {
	errorCount := 0
	if !checkOK {
		errorCount = len(m.Errors)
	}
	text := report.BackupText{P: m.P}
	_, err := backup.Run(ctx, &m.Cluster, backup.Options{
		Dir: o.Dir,
		FileName: func(n *Node) string {
			return fmt.Sprintf(m.P.Words().BackupFile, n.Host, n.Port, n.ID)
		},
		Auth:           o.Auth,
		ConnectTimeout: o.ConnectTimeout,
		TLS:            o.TLS,
		ClusterErrors:  errorCount,
	}, backupText{text})
	var ce *backup.ConnectError
	switch {
	case err == nil:
	case err == ctx.Err(): // interrupted during a transfer
		return err
	case errors.As(err, &ce):
		m.reportConnect(ce.Node.Addr(), ce.Err)
		return ErrReported
	default:
		text.Failed(err)
		return ErrReported
	}
	if !checkOK {
		text.ClusterHasProblems()
	}
	text.Created(o.Dir)
	return nil
}

// backupText is a backup's backup.Observer: redis-cli's lines.
type backupText struct{ report.BackupText }

func (t backupText) Saving(n *Node) { t.SavingRDB(n.Addr()) }

func (t backupText) Receiving(_ *Node, file string, size uint64, untilEOF bool) {
	if untilEOF {
		t.SyncSentUntilEOF(file)
	} else {
		t.SyncSent(size, file)
	}
}

func (t backupText) TruncateFailed(_ *Node, _ string, err error) { t.TruncateError(err) }

func (t backupText) Received(_ *Node, size uint64, untilEOF bool) {
	if untilEOF {
		t.TransferredUntilEOF(size)
	} else {
		t.Transferred()
	}
}
