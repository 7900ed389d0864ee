package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Conn sends one command to a node. Replies are RESP2 values (string, int64,
// []any, nil); an error reply must satisfy ReplyError.
type Conn interface {
	Do(ctx context.Context, args ...any) (any, error)
}

// ReplyError is implemented by errors that carry a node's error reply.
type ReplyError interface {
	error
	ReplyText() string
}

// Node is one side of a move.
type Node struct {
	ID   string
	Host string // the address MIGRATE connects to
	Port int
	Conn Conn
}

// Addr is "host:port" as redis-cli prints it.
func (n *Node) Addr() string { return n.Host + ":" + strconv.Itoa(n.Port) }

// Options of a Mover.
type Options struct {
	Timeout  int  // MIGRATE timeout in milliseconds (redis-cli default 60000)
	Pipeline int  // keys per GETKEYSINSLOT and MIGRATE (redis-cli default 10)
	Replace  bool // on BUSYKEY, replace without comparing values
	// Fix enables fix's handling of a slot that the source does not serve:
	// the source is told the target owns it.
	Fix      bool
	User     string // credentials MIGRATE passes to the target
	Password string
}

// Observer is told what a move does, at the points where redis-cli prints.
type Observer interface {
	// KeysMoved follows every batch of keys that reached the target.
	KeysMoved(slot, n int)
	// TargetKeyExists: a MIGRATE failed with BUSYKEY.
	TargetKeyExists()
	// CheckingValues: the values of the busy keys are compared.
	CheckingValues()
	// ValueCheckFailed: the comparison itself failed on node n.
	ValueCheckFailed(n *Node, msg string)
	// ValuesDiffer: keys with different values on both sides (the move stops).
	ValuesDiffer(src, dst *Node, keys []string)
	// ReplacingKeys: the batch is sent again with REPLACE.
	ReplacingKeys()
	// SlotNotServed: fix sets the target as the owner of an unserved slot.
	SlotNotServed(dst *Node)
	// ReplyError: a node answered with an error that redis-cli prints at once.
	ReplyError(n *Node, msg string)
	// MigrateFailed: MIGRATE failed for good (redis-cli prints a newline and
	// the source's error).
	MigrateFailed(src *Node, msg string)
}

// NopObserver ignores everything.
type NopObserver struct{}

func (NopObserver) KeysMoved(int, int)                  {}
func (NopObserver) TargetKeyExists()                    {}
func (NopObserver) CheckingValues()                     {}
func (NopObserver) ValueCheckFailed(*Node, string)      {}
func (NopObserver) ValuesDiffer(*Node, *Node, []string) {}
func (NopObserver) ReplacingKeys()                      {}
func (NopObserver) SlotNotServed(*Node)                 {}
func (NopObserver) ReplyError(*Node, string)            {}
func (NopObserver) MigrateFailed(*Node, string)         {}

// Error is a failed step of a move. Msg is the node's error text when there
// was one ("" when the failure was already reported through the Observer,
// as for values that differ).
type Error struct {
	Op  string
	Msg string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return e.Op + " failed"
	}
	return e.Op + ": " + e.Msg
}

// Text is the error text redis-cli collects for its messages ("" if none).
func Text(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// Mover moves slots with the given options.
type Mover struct {
	Opts Options
	Obs  Observer
}

func (m *Mover) obs() Observer {
	if m.Obs == nil {
		return NopObserver{}
	}
	return m.Obs
}

func replyText(err error) (string, bool) {
	var re ReplyError
	if errors.As(err, &re) {
		return re.ReplyText(), true
	}
	return "", false
}

// SetSlot sends CLUSTER SETSLOT slot state id to n.
func SetSlot(ctx context.Context, n *Node, slot int, state, id string) error {
	args := []any{"CLUSTER", "SETSLOT", slot, state}
	if id != "" {
		args = append(args, id)
	}
	if _, err := n.Conn.Do(ctx, args...); err != nil {
		msg, ok := replyText(err)
		if !ok {
			msg = err.Error()
		}
		return &Error{Op: "CLUSTER SETSLOT", Msg: msg}
	}
	return nil
}

// MigrateKeys moves every key of slot from src to dst, in batches of
// Opts.Pipeline keys (clusterManagerMigrateKeysInSlot).
func (m *Mover) MigrateKeys(ctx context.Context, src, dst *Node, slot int) error {
	obs := m.obs()
	pipeline := m.Opts.Pipeline
	if pipeline <= 0 {
		pipeline = 10
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := src.Conn.Do(ctx, "CLUSTER", "GETKEYSINSLOT", slot, pipeline)
		if err != nil {
			if msg, ok := replyText(err); ok {
				obs.ReplyError(src, msg)
				return &Error{Op: "CLUSTER GETKEYSINSLOT", Msg: msg}
			}
			return err
		}
		keys, _ := v.([]any)
		if len(keys) == 0 {
			return nil
		}
		_, err = src.Conn.Do(ctx, m.migrateArgs(dst, keys, false)...)
		if err != nil {
			if err := m.handleMigrateError(ctx, src, dst, slot, keys, err); err != nil {
				return err
			}
		}
		obs.KeysMoved(slot, len(keys))
	}
}

// handleMigrateError is redis-cli's recovery from a failed MIGRATE: BUSYKEY
// (compare values, then REPLACE) and, for fix, a slot the source does not
// serve. It returns nil when the batch got through after all.
func (m *Mover) handleMigrateError(ctx context.Context, src, dst *Node, slot int, keys []any, err error) error {
	obs := m.obs()
	msg, isReply := replyText(err)
	if !isReply {
		return err // an I/O error: redis-cli gives up on the slot too
	}
	busy := strings.Contains(msg, "BUSYKEY")
	notServed := false
	if !busy {
		owned, ownerErr := slotServed(ctx, src, slot)
		if ownerErr != nil {
			if t, ok := replyText(ownerErr); ok {
				obs.ReplyError(src, t)
			}
		} else {
			notServed = !owned
		}
	}
	if !busy && !notServed {
		obs.MigrateFailed(src, msg)
		return &Error{Op: "MIGRATE", Msg: msg}
	}
	if m.Opts.Fix && notServed {
		obs.SlotNotServed(dst)
		_ = SetSlot(ctx, src, slot, "node", dst.ID)
	}
	if busy {
		obs.TargetKeyExists()
		if !m.Opts.Replace {
			obs.CheckingValues()
			diffs, failed := compareValues(ctx, src, dst, keys, obs)
			if failed {
				return &Error{Op: "value check"}
			}
			if len(diffs) > 0 {
				obs.ValuesDiffer(src, dst, diffs)
				return &Error{Op: "value check"}
			}
		}
		obs.ReplacingKeys()
	}
	if _, err := src.Conn.Do(ctx, m.migrateArgs(dst, keys, busy)...); err != nil {
		msg, ok := replyText(err)
		if !ok {
			return err
		}
		obs.MigrateFailed(src, msg)
		return &Error{Op: "MIGRATE", Msg: msg}
	}
	return nil
}

func (m *Mover) migrateArgs(dst *Node, keys []any, replace bool) []any {
	args := make([]any, 0, 12+len(keys))
	args = append(args, "MIGRATE", dst.Host, dst.Port, "", 0, m.Opts.Timeout)
	if replace {
		args = append(args, "REPLACE")
	}
	if m.Opts.Password != "" {
		if m.Opts.User != "" {
			args = append(args, "AUTH2", m.Opts.User, m.Opts.Password)
		} else {
			args = append(args, "AUTH", m.Opts.Password)
		}
	}
	args = append(args, "KEYS")
	return append(args, keys...)
}

// slotServed asks n (CLUSTER SLOTS) whether any node serves slot.
func slotServed(ctx context.Context, n *Node, slot int) (bool, error) {
	v, err := n.Conn.Do(ctx, "CLUSTER", "SLOTS")
	if err != nil {
		return false, err
	}
	ranges, _ := v.([]any)
	for _, r := range ranges {
		e, _ := r.([]any)
		if len(e) < 3 {
			continue
		}
		from, _ := e[0].(int64)
		to, _ := e[1].(int64)
		if int64(slot) >= from && int64(slot) <= to {
			return true, nil
		}
	}
	return false, nil
}

// compareValues compares DEBUG DIGEST-VALUE of keys on both nodes and
// returns the keys whose values differ. failed means a node could not answer.
func compareValues(ctx context.Context, src, dst *Node, keys []any, obs Observer) (diffs []string, failed bool) {
	digests := func(n *Node) ([]any, bool) {
		v, err := n.Conn.Do(ctx, append([]any{"DEBUG", "DIGEST-VALUE"}, keys...)...)
		if err != nil {
			msg, ok := replyText(err)
			if !ok {
				msg = err.Error()
			}
			obs.ValueCheckFailed(n, msg)
			return nil, false
		}
		d, _ := v.([]any)
		return d, true
	}
	a, ok := digests(src)
	if !ok {
		return nil, true
	}
	b, ok := digests(dst)
	if !ok {
		return nil, true
	}
	const none = "0000000000000000000000000000000000000000"
	for i := range keys {
		if i >= len(a) || i >= len(b) {
			break
		}
		da, db := fmt.Sprint(a[i]), fmt.Sprint(b[i])
		if da == none || db == none {
			continue
		}
		if da != db {
			diffs = append(diffs, fmt.Sprint(keys[i]))
		}
	}
	return diffs, false
}

// MoveOptions choose how MoveSlot behaves (redis-cli's move options).
type MoveOptions struct {
	// Cold moves only the keys: no IMPORTING/MIGRATING, no SETSLOT NODE.
	Cold bool
	// NoErrorSink is redis-cli's fix behaviour: a SETSLOT error is reported
	// through the Observer at once, and an error from the source's SETSLOT
	// NODE is ignored.
	NoErrorSink bool
}

// MoveSlot moves one slot and its keys from src to dst and then tells every
// master in others (the cluster's masters; src and dst are skipped) that dst
// owns it (clusterManagerMoveSlot). keysDone, if set, is called once the keys
// are moved or failed to move: redis-cli ends its "Moving slot" line there.
func (m *Mover) MoveSlot(ctx context.Context, src, dst *Node, slot int, others []*Node, o MoveOptions, keysDone func()) error {
	setSlot := func(n *Node, state, id string) error {
		err := SetSlot(ctx, n, slot, state, id)
		if err != nil && o.NoErrorSink {
			m.obs().ReplyError(n, Text(err))
		}
		return err
	}
	if !o.Cold {
		if err := setSlot(dst, "importing", src.ID); err != nil {
			return err
		}
		if err := setSlot(src, "migrating", dst.ID); err != nil {
			return err
		}
	}
	err := m.MigrateKeys(ctx, src, dst, slot)
	if keysDone != nil {
		keysDone()
	}
	if err != nil || o.Cold {
		return err
	}
	// The target first: if it failed before learning it owns the slot, the
	// slot would be left without an owner (redis/redis#7116).
	if err := setSlot(dst, "node", dst.ID); err != nil {
		return err
	}
	// A source that just gave away its last slot may already have turned
	// into a replica of the target (redis/redis#9223): not an error.
	if err := setSlot(src, "node", dst.ID); err != nil && !o.NoErrorSink &&
		!strings.HasPrefix(Text(err), "ERR Please use SETSLOT only with masters.") {
		return err
	}
	for _, n := range others {
		if n == src || n == dst || n.ID == src.ID || n.ID == dst.ID {
			continue
		}
		if err := setSlot(n, "node", dst.ID); err != nil {
			return err
		}
	}
	return nil
}
