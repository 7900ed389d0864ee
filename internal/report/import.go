package report

// ImportText writes import's lines (clusterManagerCommandImport): the
// source's refusals and failures, the key count and a line per key.
type ImportText struct{ P *Printer }

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

func (t ImportText) Start(from, to string) {
	t.P.Info(">>> Importing data from %s to cluster %s\n", from, to)
}
