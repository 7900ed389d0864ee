package report

import (
	"strings"

	"github.com/rcluster/rcluster/pkg/migrate"
)

// MoveText writes what a slot move (pkg/migrate) does, at the moments and
// in the words of redis-cli's clusterManagerMoveSlot and
// clusterManagerMigrateKeysInSlot: a migrate.Observer. With Dots, a dot
// per key moved (redis-cli's --verbose, and fix).
type MoveText struct {
	P    *Printer
	Dots bool
}

var _ migrate.Observer = MoveText{}

func (t MoveText) KeysMoved(_, n int) {
	if t.Dots {
		t.P.Plain("%s", strings.Repeat(".", n))
	}
}

func (t MoveText) TargetKeyExists() { t.P.Warn("\n*** Target key exists\n") }

func (t MoveText) CheckingValues() { t.P.Warn("*** Checking key values on both nodes...\n") }

func (t MoveText) ValueCheckFailed(n *migrate.Node, msg string) {
	t.P.ReplyError(n.Addr(), msg)
	t.P.Err("*** Value check failed!\n")
	// valkey-cli says what to do next (redis-cli has no such hint: "").
	hint := t.P.Words().DigestUnsupported
	if strings.HasPrefix(msg, "ERR DEBUG command not allowed.") {
		hint = t.P.Words().DebugNotAllowed
	}
	if hint != "" {
		t.P.Err("%s", hint)
	}
}

func (t MoveText) ValuesDiffer(src, dst *migrate.Node, keys []string) {
	t.P.Err("*** Found %d key(s) in both source node and target node having different values.\n"+
		"    Source node: %s\n    Target node: %s\n    Keys(s):\n", len(keys), src.Addr(), dst.Addr())
	for _, k := range keys {
		t.P.Err("    - %s\n", k)
	}
	t.P.Err("Please fix the above key(s) manually and try again or relaunch the command \n" +
		"with --cluster-replace option to force key overriding.\n")
}

// KeptCopies says which copy of keys found on both nodes survived: an
// rcluster line (redis-cli stops at the value check instead).
func (t MoveText) KeptCopies(kept, dropped *migrate.Node, keys []string) {
	t.P.Warn("*** Kept the copy on %s, the node clients were served by, of %d key(s) also on %s, and deleted the other copy:\n",
		kept.Addr(), len(keys), dropped.Addr())
	for _, k := range keys {
		t.P.Warn("    - %s\n", k)
	}
}

func (t MoveText) ReplacingKeys() { t.P.Warn("*** Replacing target keys...\n") }

func (t MoveText) SlotNotServed(dst *migrate.Node) {
	t.P.Warn("*** Slot was not served, setting owner to node %s.\n", dst.Addr())
}

func (t MoveText) ReplyError(n *migrate.Node, msg string) { t.P.ReplyError(n.Addr(), msg) }

func (t MoveText) MigrateFailed(src *migrate.Node, msg string) {
	t.P.Plain("\n")
	t.P.ReplyError(src.Addr(), msg)
}
