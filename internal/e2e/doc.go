// Package e2e holds end-to-end tests of the rcluster commands that move
// slots (reshard, rebalance, fix, add-node, del-node), and the walkthrough's
// set-up end to end (create, verify, reset). They start real
// redis-server processes (internal/redistest), run the rcluster binary built
// once by TestMain and, where the output is deterministic, redis-cli
// --cluster on the same cluster or on a twin built identically, and compare.
//
// The package has no non-test code besides this comment.
package e2e
