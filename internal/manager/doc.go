// Package manager is rcluster's cluster manager: it loads a cluster from one
// node, checks it, and drives the commands that change it, printing exactly
// what redis-cli's cluster manager prints (through internal/report) while
// doing the network work concurrently where the output does not depend on it.
package manager
