// Package migrate moves hash slots and their keys between Redis Cluster
// nodes with the protocol redis-cli uses: IMPORTING on the target, MIGRATING
// on the source, keys moved in batches with MIGRATE ... KEYS, then SETSLOT
// NODE on the target, the source and every other master.
//
// It depends only on the small Conn interface it declares, and reports what
// happens through an Observer, so that a CLI can print redis-cli's dots and
// messages and a program can show progress its own way.
package migrate
