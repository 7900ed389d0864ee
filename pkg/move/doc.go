// Package move carries out plans of slot moves on a live cluster: the
// moves of a reshard, a rebalance or an applied plan file, each a source,
// a target and the slots between them (plan.Move).
//
// Run moves several at once (Options.Parallel) as long as no node is the
// source of two of them, or the source of one and the target of another;
// several may feed one target. Each move goes in batches through
// pkg/migrate. A cancelled context finishes the slot in flight and opens
// no other, so nothing is left open; a failed move stops the run, no move
// starts after it, and its *Error names the slots it may have left open
// (one `fix` repairs them). Result says, per move, which slots did not
// move.
//
// PlanReshard and PlanRebalance plan on a loaded cluster (pkg/inspect)
// with redis-cli's arithmetic (pkg/plan), so a program can show a plan,
// or carry it out, in a few lines.
//
// Nothing here prints or asks: what each move does reaches the caller as
// MoveObserver calls, one observer per move.
package move
