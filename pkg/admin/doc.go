// Package admin runs commands on every node of a loaded cluster
// (pkg/inspect), as redis-cli's call and set-timeout do: on all nodes at
// once, the results in node order, one node's failure not stopping the
// others.
//
// Nothing here prints: each node's outcome comes back typed, and the CLI
// words it as redis-cli does.
package admin
