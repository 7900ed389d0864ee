// Package backup saves a loaded cluster (pkg/inspect) as redis-cli's
// --cluster backup does: the RDB of every master, fetched through the
// replication protocol (SYNC) one master after the other so that they do
// not all fork at once, and the cluster's layout in nodes.json, byte for
// byte as redis-cli writes them.
//
// Nothing here prints: the steps reach an Observer, and failures are
// typed errors naming the node, the file and the step. The files written
// are those the caller asked for, in Options.Dir.
package backup
