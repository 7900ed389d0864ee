package report

import (
	"errors"
	"strings"

	"github.com/rcluster/rcluster/pkg/importer"
	"github.com/rcluster/rcluster/pkg/node"
)

// ImportText writes import's lines (clusterManagerCommandImport): the
// source's refusals and failures, the key count and a line per key.
type ImportText struct{ P *Printer }

// DialFailed: no connection to the source at addr (err from the dialer).
func (t ImportText) DialFailed(addr string, err error) {
	var ce *node.ConnectError
	var ae *node.AuthError
	switch {
	case errors.As(err, &ae):
		t.AuthFailed(ae.Msg)
	case errors.As(err, &ce):
		t.P.ConnectError(addr, ce.Reason+".")
	default:
		t.P.ConnectError(addr, err.Error()+".")
	}
}

// Failed words pkg/importer's failures; addr is the source, as typed. A
// failed MIGRATE ends the line of its key.
func (t ImportText) Failed(err error, addr string) {
	var src *importer.SourceError
	var key *importer.KeyError
	var owner *importer.NoOwnerError
	switch {
	case errors.Is(err, importer.ErrClusterSource):
		t.SourceIsCluster()
	case errors.As(err, &owner):
		t.NoOwner(owner.Slot, cString(owner.Key))
	case errors.As(err, &key):
		t.Migrating(cString(key.Key), key.Target.Addr())
		t.sourceFailed(addr, key.Err)
	case errors.As(err, &src):
		t.sourceFailed(addr, src.Err)
	default:
		t.sourceFailed(addr, err)
	}
}

// sourceFailed is a failed command on the source: its error reply as
// redis-cli prints it, or the I/O error.
func (t ImportText) sourceFailed(addr string, err error) {
	var re *node.ReplyError
	if errors.As(err, &re) {
		t.SourceError(addr, re.Msg)
	} else {
		t.SourceIOError(addr, err)
	}
}

// AuthFailed: the source refused --from-user/--from-pass.
func (t ImportText) AuthFailed(msg string) { t.P.Stderr("AUTH failed: %s\n", msg) }

func (t ImportText) SourceIsCluster() {
	t.P.Err("[ERR] The source node should not be a cluster node.\n")
}

// Importing announces the source's key count (DBSIZE).
func (t ImportText) Importing(keys int32) { t.P.Warn("*** Importing %d keys from DB 0\n", keys) }

// SourceError is the source's error reply to a command (SCAN, MIGRATE...).
func (t ImportText) SourceError(addr, msg string) {
	t.P.Err("Source %s replied with error:\n%s\n", addr, msg)
}

// SourceIOError: the source gave no reply.
func (t ImportText) SourceIOError(addr string, err error) {
	t.P.Stderr("I/O error with the source %s: %v\n", addr, err)
}

// NoOwner: no master owns the slot of a key (the check refuses this first).
func (t ImportText) NoOwner(slot int, key string) {
	t.P.Err("[ERR] No master owns slot %d of key %s\n", slot, key)
}

// Migrating starts a key's line; Migrated ends it, or a SourceError follows.
func (t ImportText) Migrating(key, target string) {
	t.P.Plain("Migrating %s to %s: ", key, target)
}

func (t ImportText) Migrated() { t.P.Success("OK\n") }

// KeyMigrated is a key's whole line: it is on target now.
func (t ImportText) KeyMigrated(key, target string) {
	t.Migrating(cString(key), target)
	t.Migrated()
}

// cString is what C's printf("%s") shows of s: the bytes before the first
// NUL.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

func (t ImportText) Start(from, to string) {
	t.P.Info(">>> Importing data from %s to cluster %s\n", from, to)
}
