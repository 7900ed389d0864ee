package report

import (
	"errors"
	"syscall"

	"github.com/rcluster/rcluster/pkg/backup"
)

// BackupText writes backup's lines (clusterManagerCommandBackup) and, on
// stderr, those of the RDB transfer of every master (redis-cli's getRDB).
type BackupText struct{ P *Printer }

func (t BackupText) SavingRDB(addr string) { t.P.Info(">>> Node %s -> Saving RDB...\n", addr) }

func (t BackupText) SavingLayout(path string) {
	t.P.Info("Saving cluster configuration to: %s\n", path)
}

// LayoutNotSaved: nodes.json could not be written. redis-cli logs its
// "[ERR]" at success level (green).
func (t BackupText) LayoutNotSaved(path string) {
	t.P.Err("Could not save nodes to: %s\n", path)
	t.P.Success("[ERR] Failed to back cluster!\n")
}

// ClusterHasProblems: the check before the backup found errors.
func (t BackupText) ClusterHasProblems() {
	t.P.Warn("*** Cluster seems to have some problems, please be aware of it if you're going to restore this backup.\n")
}

func (t BackupText) Created(dir string) { t.P.Success("[OK] Backup created into: %s\n", dir) }

// The RDB transfer's lines, all on stderr.

func (t BackupText) SyncNotSent() { t.P.Stderr("Error writing to master\n") }

func (t BackupText) NoBulkLength() { t.P.Stderr("Error reading bulk length while SYNCing\n") }

// SyncFailed is the master's error reply to SYNC (line, with its "-").
func (t BackupText) SyncFailed(line string) { t.P.Stderr(t.P.Words().SyncFailed, line) }

// SyncSentUntilEOF: a diskless transfer, whose size is unknown.
func (t BackupText) SyncSentUntilEOF(file string) { t.P.Stderr(t.P.Words().SyncSentEOF, file) }

func (t BackupText) SyncSent(size uint64, file string) { t.P.Stderr(t.P.Words().SyncSent, size, file) }

// The failures of the file and of the socket: reason is the OS error in
// C's strerror words.

func (t BackupText) CannotOpen(file, reason string) {
	t.P.Stderr("Error opening '%s': %s\n", file, reason)
}

func (t BackupText) ReadFailed() { t.P.Stderr("I/O Error reading RDB payload from socket\n") }

func (t BackupText) WriteFailed(reason string) {
	t.P.Stderr("Error writing data to file: %s\n", reason)
}

func (t BackupText) TruncateFailed(reason string) { t.P.Stderr("ftruncate failed: %s.\n", reason) }

// TruncateError is TruncateFailed worded from the OS error.
func (t BackupText) TruncateError(err error) { t.TruncateFailed(strerror(err)) }

func (t BackupText) FsyncFailed(file, reason string) {
	t.P.Stderr("Fail to fsync '%s': %s\n", file, reason)
}

// TransferredUntilEOF ends a diskless transfer of size bytes.
func (t BackupText) TransferredUntilEOF(size uint64) {
	t.P.Stderr("Transfer finished with success after %d bytes\n", size)
}

func (t BackupText) Transferred() { t.P.Stderr("Transfer finished with success.\n") }

// Failed words pkg/backup's failures of an RDB or of nodes.json (a
// *backup.ConnectError is worded as any failed connection).
func (t BackupText) Failed(err error) {
	var rdb *backup.RDBError
	var layout *backup.LayoutError
	switch {
	case errors.As(err, &layout):
		t.LayoutNotSaved(layout.Path)
	case errors.As(err, &rdb):
		switch rdb.Step {
		case backup.SendSync:
			t.SyncNotSent()
		case backup.ReadHeader:
			t.NoBulkLength()
		case backup.SyncRefused:
			t.SyncFailed(rdb.Reply)
		case backup.OpenFile:
			t.CannotOpen(rdb.File, strerror(rdb.Err))
		case backup.ReadPayload:
			t.ReadFailed()
		case backup.WriteFile, backup.CloseFile:
			t.WriteFailed(strerror(rdb.Err))
		case backup.SyncFile:
			t.FsyncFailed(rdb.File, strerror(rdb.Err))
		default:
			t.P.Stderr("%v\n", err)
		}
	default:
		t.P.Stderr("%v\n", err)
	}
}

// strerror words an OS error as C's strerror does ("No such file or
// directory"): Go's text of the error number, capitalised.
func strerror(err error) string {
	var errno syscall.Errno
	msg := err.Error()
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	if msg != "" && 'a' <= msg[0] && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}
