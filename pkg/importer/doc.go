// Package importer moves (or copies) the keys of a standalone Redis
// instance into a loaded cluster (pkg/inspect), as redis-cli's
// --cluster import does: the source must not be a cluster node, its
// database 0 is scanned, and every key goes by MIGRATE to the master that
// owns its slot.
//
// redis-cli sends one MIGRATE per key; Run sends one MIGRATE ... KEYS per
// target and batch of Options.Pipeline keys, and still reports the keys
// one by one in SCAN order. Without Options.Replace, a key that already
// exists on its target stops the run at that key, as it stops redis-cli,
// and the keys after it stay on the source.
//
// The package is named importer because import is a Go keyword. Nothing
// here prints: the keys moved reach an Observer, and failures are typed
// errors.
package importer
