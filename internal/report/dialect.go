package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// Dialect is the tool whose words rcluster prints: redis-cli's or
// valkey-cli's. Both print the same lines with the same colors and exit
// codes; valkey-cli 8 says "primary" and "replica" in some messages where
// redis-cli says "master" and "slave", and names itself and Valkey.
type Dialect int

// The dialects. The zero value is redis-cli's.
const (
	Redis  Dialect = iota // redis-cli 7.x
	Valkey                // valkey-cli 8.0
)

// String is the name --dialect takes.
func (d Dialect) String() string {
	if d == Valkey {
		return "valkey"
	}
	return "redis"
}

// DialectChoices is what --dialect accepts.
const DialectChoices = "auto, redis or valkey"

// ParseDialect reads a --dialect value: auto is true for "auto" (the
// dialect then follows the entry node, see DialectOfServer).
func ParseDialect(s string) (d Dialect, auto bool, err error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return Redis, true, nil
	case "redis":
		return Redis, false, nil
	case "valkey":
		return Valkey, false, nil
	}
	return Redis, false, fmt.Errorf("invalid --dialect %q: use %s", s, DialectChoices)
}

// DialectOfServer is the dialect of a node's INFO reply: Valkey when its
// server section says server_name:valkey (Redis 7 has no server_name, or
// says redis), Redis otherwise.
func DialectOfServer(info string) Dialect {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "server_name:"); ok && strings.EqualFold(v, "valkey") {
			return Valkey
		}
	}
	return Redis
}

// Words are the messages whose text differs between the dialects, as
// printf formats. Everything else is the same in both.
type Words struct {
	// create
	PrimarySlots     string // a master of the allocation: index, first and last slot
	OptimizeReplicas string
	ReplicasSameHost string
	// ReplicasOfPrimarySameHost: replicas of one master share a host.
	ReplicasOfPrimarySameHost string
	TooFewPrimaries           string // the middle line of create's refusal
	// info and check
	InfoLine        string // address, ID, keys, slots, replicas
	KeysInPrimaries string // keys, masters
	UnknownPrimary  string // address, master ID
	// add-node, rebalance, reshard
	NoSuchPrimaryID   string
	SelectedPrimary   string
	NoSuchPrimaryNode string
	NotAPrimary       string
	// fix
	CannotFixSlot  string // migrating nodes, importing nodes, owner
	UnreachableFix string // what is fixed, how many masters
	// moves: the hints after a failed DEBUG DIGEST-VALUE ("" for none)
	DebugNotAllowed   string
	DigestUnsupported string
	// add-node's functions, connections, backup
	NoFunctions     string
	CouldNotConnect string // address, reason
	BackupFile      string // host, port, ID
	SyncFailed      string // backup: the node's reply to SYNC
	SyncSentEOF     string // backup: file
	SyncSent        string // backup: bytes, file
}

var redisWords = Words{
	PrimarySlots:              "Master[%d] -> Slots %d - %d\n",
	OptimizeReplicas:          ">>> Trying to optimize slaves allocation for anti-affinity\n",
	ReplicasSameHost:          "[WARNING] Some slaves are in the same host as their master\n",
	ReplicasOfPrimarySameHost: "[WARNING] Some slaves of the same master are in the same host\n",
	TooFewPrimaries:           "*** Redis Cluster requires at least 3 master nodes.\n",
	InfoLine:                  "%s (%.8s...) -> %d keys | %d slots | %d slaves.\n",
	KeysInPrimaries:           "[OK] %d keys in %d masters.\n",
	UnknownPrimary:            "*** WARNING: %s claims to be slave of unknown node ID %s.\n",
	NoSuchPrimaryID:           "[ERR] No such master ID %s\n",
	SelectedPrimary:           "Automatically selected master %s\n",
	NoSuchPrimaryNode:         "*** No such master node %s\n",
	NotAPrimary:               "*** The specified node (%s) is not known or not a master, please retry.\n",
	CannotFixSlot:             "[ERR] Sorry, redis-cli can't fix this slot yet (work in progress). Slot is set as migrating in %s, as importing in %s, owner is %s\n",
	UnreachableFix:            "*** Fixing %s with %d unreachable masters is dangerous: redis-cli will assume that slots about masters that are not reachable are not covered, and will try to reassign them to the reachable nodes. This can cause data loss and is rarely what you want to do. If you really want to proceed use the --cluster-fix-with-unreachable-masters option.\n",
	NoFunctions:               ">>> Failed retrieving Functions from the cluster, skip this step as Redis version do not support function command (error = '%s')\n",
	CouldNotConnect:           "Could not connect to Redis at %s: %s\n",
	BackupFile:                "redis-node-%s-%d-%s.rdb",
	SyncFailed:                "SYNC with master failed: %s\n",
	SyncSentEOF:               "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '%s'\n",
	SyncSent:                  "SYNC sent to master, writing %d bytes to '%s'\n",
}

var valkeyWords = Words{
	PrimarySlots:              "Primary[%d] -> Slots %d - %d\n",
	OptimizeReplicas:          ">>> Trying to optimize replicas allocation for anti-affinity\n",
	ReplicasSameHost:          "[WARNING] Some replicas are in the same host as their primary\n",
	ReplicasOfPrimarySameHost: "[WARNING] Some replicas of the same primary are in the same host\n",
	TooFewPrimaries:           "*** Valkey Cluster requires at least 3 primary nodes.\n",
	InfoLine:                  "%s (%.8s...) -> %d keys | %d slots | %d replicas.\n",
	KeysInPrimaries:           "[OK] %d keys in %d primaries.\n",
	UnknownPrimary:            "*** WARNING: %s claims to be replica of unknown node ID %s.\n",
	NoSuchPrimaryID:           "[ERR] No such primary ID %s\n",
	SelectedPrimary:           "Automatically selected primary %s\n",
	NoSuchPrimaryNode:         "*** No such primary node %s\n",
	NotAPrimary:               "*** The specified node (%s) is not known or not a primary, please retry.\n",
	CannotFixSlot:             "[ERR] Sorry, valkey-cli can't fix this slot yet (work in progress). Slot is set as migrating in %s, as importing in %s, owner is %s\n",
	UnreachableFix:            "*** Fixing %s with %d unreachable primaries is dangerous: valkey-cli will assume that slots about primaries that are not reachable are not covered, and will try to reassign them to the reachable nodes. This can cause data loss and is rarely what you want to do. If you really want to proceed use the --cluster-fix-with-unreachable-primaries option.\n",
	DebugNotAllowed:           "DEBUG command is not allowed.\nYou can turn on the enable-debug-command option.\nOr you can relaunch the command with --cluster-replace option to force key overriding.\n",
	DigestUnsupported:         "DEBUG DIGEST-VALUE command is not supported.\nYou can relaunch the command with --cluster-replace option to force key overriding.\n",
	NoFunctions:               ">>> Failed retrieving Functions from the cluster, skip this step as Valkey version do not support function command (error = '%s')\n",
	CouldNotConnect:           "Could not connect to Valkey at %s: %s\n",
	BackupFile:                "valkey-node-%s-%d-%s.rdb",
	SyncFailed:                "SYNC with primary failed: %s\n",
	SyncSentEOF:               "SYNC sent to primary, writing bytes of bulk transfer until EOF marker to '%s'\n",
	SyncSent:                  "SYNC sent to primary, writing %d bytes to '%s'\n",
}

// NewDict returns an empty dict that iterates in the order of the
// dialect's CLI, which prints some sets (open slots, uncovered slots) in its
// dict's order: redis-cli 7.0 and 7.2 have dict.c's plain rehash step,
// valkey-cli 8 first rehashes the bucket it is about to access.
func (d Dialect) NewDict() *cluster.Dict {
	if d == Valkey {
		return cluster.NewDictUnstable()
	}
	return cluster.NewDict()
}

// SlotOrder is slots in the order the dialect's CLI iterates them after
// adding them, in the given order, to its dict.
func (d Dialect) SlotOrder(slots []int) []int {
	dict := d.NewDict()
	for _, s := range slots {
		dict.Add(strconv.Itoa(s))
	}
	out := make([]int, 0, len(slots))
	for _, k := range dict.Keys() {
		out = append(out, cluster.Atoi(k))
	}
	return out
}

// Words returns the dialect's messages.
func (d Dialect) Words() *Words {
	if d == Valkey {
		return &valkeyWords
	}
	return &redisWords
}
