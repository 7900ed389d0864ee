// Package report writes every byte of rcluster's redis-cli compatible text:
// the leveled log lines with redis-cli's escape codes, node blocks, the
// cluster summary and the messages shared by several commands. Commands never
// print redis-cli text themselves; they call a Printer.
package report
