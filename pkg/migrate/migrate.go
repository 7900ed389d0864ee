package migrate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rcluster/rcluster/pkg/node"
)

// Node is one side of a move.
type Node struct {
	ID   string
	Host string // the address MIGRATE connects to
	Port int
	Conn node.Client
}

// Addr is "host:port" as redis-cli prints it.
func (n *Node) Addr() string { return n.Host + ":" + strconv.Itoa(n.Port) }

// Options of a Mover.
type Options struct {
	Timeout int // MIGRATE timeout in milliseconds (redis-cli default 60000)
	// Pipeline > 0 moves exactly that many keys per GETKEYSINSLOT and
	// MIGRATE (redis-cli's --cluster-pipeline, default 10); 0 batches
	// adaptively by BatchKeys and BatchBytes.
	Pipeline   int
	BatchKeys  int   // adaptive: keys per batch (0: DefaultBatchKeys)
	BatchBytes int64 // adaptive: bytes per batch (0: DefaultBatchBytes)
	Replace    bool  // on BUSYKEY, replace without comparing values
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
	var re *node.ReplyError
	if errors.As(err, &re) {
		return re.Msg, true
	}
	return "", false
}

// SetSlot sends CLUSTER SETSLOT slot state id to n.
func SetSlot(ctx context.Context, n *Node, slot int, state node.SlotState, id string) error {
	if err := node.SetSlot(ctx, n.Conn, slot, state, id); err != nil {
		msg, ok := replyText(err)
		if !ok {
			msg = err.Error()
		}
		return &Error{Op: "CLUSTER SETSLOT", Msg: msg}
	}
	return nil
}

// Default sizes of an adaptive batch (Options.Pipeline == 0).
const (
	DefaultBatchKeys  = 1000
	DefaultBatchBytes = 8 << 20
)

// MigrateKeys moves every key of slot from src to dst
// (clusterManagerMigrateKeysInSlot). With Opts.Pipeline > 0 it moves that
// many keys per GETKEYSINSLOT and MIGRATE, as redis-cli does; with 0 it
// fetches Opts.BatchKeys names at a time and cuts them into MIGRATE batches
// of at most BatchKeys keys and BatchBytes bytes (sizes from MEMORY USAGE),
// so that small keys move in large batches and a big key moves alone.
func (m *Mover) MigrateKeys(ctx context.Context, src, dst *Node, slot int) error {
	obs := m.obs()
	fetch := m.Opts.Pipeline
	adaptive := fetch <= 0
	if adaptive {
		fetch = m.batchKeys()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		v, err := node.Run(ctx, src.Conn, node.GetKeysInSlotCmd(slot, fetch))
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
		batches := [][]any{keys}
		if adaptive {
			batches = m.cut(ctx, src, keys)
		}
		for _, batch := range batches {
			if err := retryTransient(ctx, func() error {
				_, err := src.Conn.Do(ctx, m.migrateArgs(dst, batch, false)...)
				return err
			}); err != nil {
				if err := m.handleMigrateError(ctx, src, dst, slot, batch, err); err != nil {
					return err
				}
			}
			obs.KeysMoved(slot, len(batch))
		}
	}
}

func (m *Mover) batchKeys() int {
	if m.Opts.BatchKeys > 0 {
		return m.Opts.BatchKeys
	}
	return DefaultBatchKeys
}

func (m *Mover) batchBytes() int64 {
	if m.Opts.BatchBytes > 0 {
		return m.Opts.BatchBytes
	}
	return DefaultBatchBytes
}

// cut splits keys into MIGRATE batches bounded by count and by bytes. Sizes
// come from MEMORY USAGE in one round trip; a key whose size is unknown
// counts as small.
func (m *Mover) cut(ctx context.Context, src *Node, keys []any) [][]any {
	cmds := make([]node.Cmd, len(keys))
	for i, k := range keys {
		cmds[i] = node.Cmd{"MEMORY", "USAGE", k}
	}
	sizes := src.Conn.Pipeline(ctx, cmds)
	maxKeys, maxBytes := m.batchKeys(), m.batchBytes()
	var out [][]any
	start, bytes := 0, int64(0)
	for i := range keys {
		size, _ := sizes[i].Val.(int64)
		if i > start && (i-start >= maxKeys || bytes+size > maxBytes) {
			out = append(out, keys[start:i])
			start, bytes = i, 0
		}
		bytes += size
	}
	return append(out, keys[start:])
}

// Transient errors: a target that is absorbing a change answers
// CLUSTERDOWN (its view of the cluster is briefly at fail), TRYAGAIN or
// LOADING. It refused the keys, so sending them again is safe; anything
// else, a timeout above all (the keys may have arrived), is not retried.
const (
	transientTries    = 12
	transientMaxDelay = time.Second
)

// transient reports whether err is a refusal that passes by itself,
// whether the node itself answered it or MIGRATE passed on the target's.
func transient(err error) bool {
	msg, ok := replyText(err)
	if !ok {
		return false
	}
	msg = strings.TrimPrefix(msg, "ERR Target instance replied with error: ")
	for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "LOADING"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// retryTransient runs call until it succeeds, fails for good, or its
// transient failures have lasted about transientTries backoffs (some 8 s).
func retryTransient(ctx context.Context, call func() error) error {
	delay := 20 * time.Millisecond
	for try := 1; ; try++ {
		err := call()
		if err == nil || !transient(err) || try == transientTries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, transientMaxDelay)
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
		owned, ownerErr := node.SlotServed(ctx, src.Conn, slot)
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
		_ = SetSlot(ctx, src, slot, node.Owner, dst.ID)
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

// SlotHooks are called around the key migration of each slot; redis-cli
// prints its "Moving slot ..." line and its newline there.
type SlotHooks struct {
	Start func(slot int)
	Done  func(slot int)
	// Stop, checked after each slot's keys moved, ends the batch early: the
	// slots moved so far get their new owner, the others are closed again
	// (SETSLOT STABLE on both sides) so that no slot is left open.
	Stop func() bool
}

// ErrStopped is returned by MoveSlots when SlotHooks.Stop ended it early.
var ErrStopped = errors.New("stopped")

// MoveSlot moves one slot and its keys from src to dst and then tells every
// master in others (the cluster's masters; src and dst are skipped) that dst
// owns it (clusterManagerMoveSlot).
func (m *Mover) MoveSlot(ctx context.Context, src, dst *Node, slot int, others []*Node, o MoveOptions, h SlotHooks) error {
	_, err := m.MoveSlots(ctx, src, dst, []int{slot}, others, o, h)
	return err
}

// MoveSlots moves several slots from src to dst with the protocol of
// MoveSlot, one command per slot as redis-cli sends them, but pipelined: all
// slots are opened (IMPORTING on dst, then MIGRATING on src) in one round
// trip per node, their keys are moved slot after slot, then dst, src and
// every other master learn the new owner, again one round trip per node.
// Nodes save their configuration once per round trip instead of once per
// command, which is most of the cost of moving slots with few keys.
// It returns how many slots were moved completely.
func (m *Mover) MoveSlots(ctx context.Context, src, dst *Node, slots []int, others []*Node, o MoveOptions, h SlotHooks) (int, error) {
	setSlots := func(n *Node, state node.SlotState, id string, tolerate func(string) bool) error {
		cmds := make([]node.Cmd, len(slots))
		for i, s := range slots {
			cmds[i] = node.SetSlotCmd(s, state, id)
		}
		for _, r := range n.Conn.Pipeline(ctx, cmds) {
			err := r.Err
			if err == nil {
				continue
			}
			msg, ok := replyText(err)
			if !ok {
				return err
			}
			if o.NoErrorSink {
				m.obs().ReplyError(n, msg)
			}
			if tolerate == nil || !tolerate(msg) {
				return &Error{Op: "CLUSTER SETSLOT", Msg: msg}
			}
		}
		return nil
	}
	if !o.Cold {
		if err := setSlots(dst, node.Importing, src.ID, nil); err != nil {
			return 0, err
		}
		if err := setSlots(src, node.Migrating, dst.ID, nil); err != nil {
			return 0, err
		}
	}
	var stopped error
	for i, s := range slots {
		if h.Start != nil {
			h.Start(s)
		}
		err := m.MigrateKeys(ctx, src, dst, s)
		if h.Done != nil {
			h.Done(s)
		}
		if err != nil {
			return 0, err
		}
		if h.Stop != nil && h.Stop() && i+1 < len(slots) {
			// The rest never had a key moved: close them on both sides.
			rest := slots[i+1:]
			slots = slots[:i+1]
			if !o.Cold {
				for _, n := range []*Node{dst, src} {
					cmds := make([]node.Cmd, len(rest))
					for j, r := range rest {
						cmds[j] = node.SetSlotCmd(r, node.Stable, "")
					}
					for _, r := range n.Conn.Pipeline(ctx, cmds) {
						if r.Err != nil {
							return 0, r.Err
						}
					}
				}
			}
			stopped = ErrStopped
			break
		}
	}
	if o.Cold {
		return len(slots), stopped
	}
	// The target first: if it failed before learning it owns the slots, they
	// would be left without an owner (redis/redis#7116).
	if err := setSlots(dst, node.Owner, dst.ID, nil); err != nil {
		return 0, err
	}
	// A source that just gave away its last slot may already have turned
	// into a replica of the target (redis/redis#9223): not an error. In
	// redis-cli's fix (no error sink) no source error stops the move.
	if err := setSlots(src, node.Owner, dst.ID, func(msg string) bool {
		return o.NoErrorSink || strings.HasPrefix(msg, "ERR Please use SETSLOT only with masters.")
	}); err != nil {
		return 0, err
	}
	var rest []*Node
	for _, n := range others {
		if n.ID != src.ID && n.ID != dst.ID {
			rest = append(rest, n)
		}
	}
	// A master that gave away its last slot earlier in this run may have
	// turned into a replica meanwhile; it needs no telling.
	errs := make([]error, len(rest))
	var wg sync.WaitGroup
	for i, n := range rest {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = setSlots(n, node.Owner, dst.ID, func(msg string) bool {
				return strings.HasPrefix(msg, "ERR Please use SETSLOT only with masters.")
			})
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		return 0, err
	}
	return len(slots), stopped
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
