// Package repair repairs the problems pkg/inspect finds, the fixes of
// redis-cli's --cluster fix: one repair per finding type (open slots,
// stranded keys, uncovered slots, slots with several owners), each taking
// the loaded cluster and the finding.
//
// The repairs follow redis-cli's steps and print-worthy moments, but
// repair so that no acknowledged write is lost (docs/reliability.md): the
// master clients are served by keeps the slot, or the move it was making
// is finished, and its copy of a key found on two nodes wins.
//
// Nothing here prints or asks: what a repair does reaches the caller as
// Observer calls, the operator's consent as Options.Confirm, and failures
// as typed errors (NodeError, NoOwnerError, UnhandledError,
// UnreachableError, InterruptedError, MoveError).
package repair
