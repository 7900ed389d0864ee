// Package cluster is the pure model of a Redis Cluster as redis-cli's cluster
// manager sees it: nodes parsed from CLUSTER NODES, slot sets and their range
// notation, the CRC16 hash slot of a key, and an emulation of the iteration
// order of Redis' own hash table, which redis-cli leaks into its output.
//
// Nothing here performs I/O; the CLI and the migration engine feed it text
// they fetched from real nodes.
package cluster
