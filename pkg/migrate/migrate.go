package migrate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
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
	Timeout int // MIGRATE timeout in milliseconds (0: DefaultTimeout)
	// Pipeline > 0 moves exactly that many keys per GETKEYSINSLOT and
	// MIGRATE (redis-cli's --cluster-pipeline, default 10); 0 batches
	// adaptively by BatchKeys and BatchBytes.
	Pipeline   int
	BatchKeys  int   // adaptive: keys per batch (0: DefaultBatchKeys)
	BatchBytes int64 // adaptive: bytes per batch (0: DefaultBatchBytes)
	// Window is how many slots of a move are open at once (0:
	// DefaultWindow): their round trips are shared.
	Window  int
	Replace bool // on BUSYKEY, replace without comparing values
	// Keep says whose copy wins when a key is on both nodes (BUSYKEY).
	// KeepUnknown is redis-cli's way: compare values, and replace only
	// equal ones or with Replace. A caller that knows which node clients
	// wrote to names it, and Replace no longer matters.
	Keep Keep
	// Fix enables fix's handling of a slot that the source does not serve:
	// the source is told the target owns it.
	Fix      bool
	User     string // credentials MIGRATE passes to the target
	Password string
}

// DefaultTimeout is redis-cli's MIGRATE timeout, in milliseconds.
const DefaultTimeout = 60000

// Keep chooses the copy that survives when a key is on both nodes.
type Keep int

const (
	// KeepUnknown: nobody knows which copy is newer (redis-cli's fix).
	KeepUnknown Keep = iota
	// KeepSource: the source's copy is the one clients wrote to; it
	// replaces the target's.
	KeepSource
	// KeepTarget: the target's copy is the one clients wrote to; the
	// source's copy is deleted.
	KeepTarget
)

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
	// KeptCopies: keys were on both nodes and Options.Keep chose; kept
	// holds the surviving copies, the copies on dropped are gone.
	KeptCopies(kept, dropped *Node, keys []string)
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
func (NopObserver) KeptCopies(*Node, *Node, []string)   {}

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

// errorText is a node's error reply, or the text of any other error.
func errorText(err error) string {
	if msg, ok := replyText(err); ok {
		return msg
	}
	return err.Error()
}

// SetSlot sends CLUSTER SETSLOT slot state id to n.
func SetSlot(ctx context.Context, n *Node, slot int, state node.SlotState, id string) error {
	if err := node.SetSlot(ctx, n.Conn, slot, state, id); err != nil {
		return &Error{Op: "CLUSTER SETSLOT", Msg: errorText(err)}
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
	return m.migrateKeys(ctx, src, dst, slot, false, nil)
}

// migrateKeys is MigrateKeys, starting with what pre fetched and sent (if
// not nil). migrating tells that src is MIGRATING the slot to dst: it
// gains no new key (clients are sent to dst for a key it does not have),
// so a fetch shorter than asked for, moved without a refusal, was the
// last, and the GETKEYSINSLOT that would find the slot empty is saved (a
// round trip per slot).
func (m *Mover) migrateKeys(ctx context.Context, src, dst *Node, slot int, migrating bool, pre *prefetched) error {
	obs := m.obs()
	fetch := m.fetchSize()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var keys []any
		var sent []batchReply
		if pre != nil && pre.names != nil {
			keys, sent, pre = pre.names, pre.batches, nil
		} else {
			v, err := node.Run(ctx, src.Conn, node.GetKeysInSlotCmd(slot, fetch))
			if err != nil {
				if msg, ok := replyText(err); ok {
					obs.ReplyError(src, msg)
					return &Error{Op: "CLUSTER GETKEYSINSLOT", Msg: msg}
				}
				return err
			}
			keys, _ = v.([]any)
			for _, b := range m.cut(keys, m.sizes(ctx, src, keys)) {
				sent = append(sent, batchReply{keys: b})
			}
		}
		if len(keys) == 0 {
			return nil
		}
		clean := true
		for _, b := range sent {
			err := b.err
			if !b.sent || transient(err) {
				err = retryTransient(ctx, func() error {
					_, err := src.Conn.Do(ctx, m.migrateArgs(dst, b.keys, false)...)
					return err
				})
			}
			if err != nil {
				clean = false
				if err := m.handleMigrateError(ctx, src, dst, slot, b.keys, err); err != nil {
					return err
				}
			}
			obs.KeysMoved(slot, len(b.keys))
		}
		if migrating && clean && len(keys) < fetch {
			return nil
		}
	}
}

// fetchSize is how many key names one GETKEYSINSLOT asks for.
func (m *Mover) fetchSize() int {
	if m.Opts.Pipeline > 0 {
		return m.Opts.Pipeline
	}
	return m.batchKeys()
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

// sizes is the MEMORY USAGE of each key, in one round trip (0 where
// unknown); nil with a fixed Opts.Pipeline, which needs none.
func (m *Mover) sizes(ctx context.Context, src *Node, keys []any) []int64 {
	if m.Opts.Pipeline > 0 || len(keys) == 0 {
		return nil
	}
	cmds := make([]node.Cmd, len(keys))
	for i, k := range keys {
		cmds[i] = node.Cmd{"MEMORY", "USAGE", k}
	}
	out := make([]int64, len(keys))
	for i, r := range src.Conn.Pipeline(ctx, cmds) {
		out[i], _ = r.Val.(int64)
	}
	return out
}

// cut splits keys into MIGRATE batches: of Opts.Pipeline keys when set,
// else bounded by count and by bytes (sizes; a key whose size is unknown
// counts as small). No keys make no batch.
func (m *Mover) cut(keys []any, sizes []int64) [][]any {
	if len(keys) == 0 {
		return nil
	}
	maxKeys, maxBytes := m.batchKeys(), m.batchBytes()
	if m.Opts.Pipeline > 0 {
		maxKeys, maxBytes = m.Opts.Pipeline, math.MaxInt64
	}
	var out [][]any
	start, bytes := 0, int64(0)
	for i := range keys {
		var size int64
		if i < len(sizes) {
			size = sizes[i]
		}
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
		switch m.Opts.Keep {
		case KeepTarget:
			return dropSourceCopies(ctx, src, dst, keys, obs)
		case KeepUnknown:
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
		}
		obs.ReplacingKeys()
	}
	var both []string
	if busy && m.Opts.Keep == KeepSource {
		var err error
		if both, err = onBoth(ctx, src, dst, keys); err != nil {
			return err
		}
	}
	if _, err := src.Conn.Do(ctx, m.migrateArgs(dst, keys, busy)...); err != nil {
		msg, ok := replyText(err)
		if !ok {
			return err
		}
		obs.MigrateFailed(src, msg)
		return &Error{Op: "MIGRATE", Msg: msg}
	}
	if len(both) > 0 {
		obs.KeptCopies(src, dst, both)
	}
	return nil
}

// asking runs cmd for every key on n, each after ASKING, so that a node
// that imports the slot (and does not own it) answers for its keys.
func asking(ctx context.Context, n *Node, cmd string, keys []any) ([]node.Result, error) {
	cmds := make([]node.Cmd, 0, 2*len(keys))
	for _, k := range keys {
		cmds = append(cmds, node.Cmd{"ASKING"}, node.Cmd{cmd, k})
	}
	res := n.Conn.Pipeline(ctx, cmds)
	out := make([]node.Result, len(keys))
	for i := range keys {
		out[i] = res[2*i+1]
		if msg, ok := replyText(out[i].Err); ok && strings.HasPrefix(msg, "ASK ") {
			out[i] = node.Result{} // a migrating node no longer has the key
			continue
		}
		if err := out[i].Err; err != nil {
			return nil, &Error{Op: cmd, Msg: errorText(err)}
		}
	}
	return out, nil
}

// onBoth returns the keys that exist on both src and dst. A migrating
// node answers ASK for a key it no longer has: not there.
func onBoth(ctx context.Context, src, dst *Node, keys []any) ([]string, error) {
	inSrc, err := asking(ctx, src, "EXISTS", keys)
	if err != nil {
		return nil, err
	}
	inDst, err := asking(ctx, dst, "EXISTS", keys)
	if err != nil {
		return nil, err
	}
	var both []string
	for i, k := range keys {
		if inSrc[i].Val == int64(1) && inDst[i].Val == int64(1) {
			both = append(both, fmt.Sprint(k))
		}
	}
	return both, nil
}

// dropSourceCopies deletes from src the keys of a refused batch that dst
// has too (dst's copies win). The keys of the batch that dst accepted
// are already gone from src; any other key stays for the next batch.
func dropSourceCopies(ctx context.Context, src, dst *Node, keys []any, obs Observer) error {
	both, err := onBoth(ctx, src, dst, keys)
	if err != nil {
		return err
	}
	if len(both) == 0 {
		return nil
	}
	names := make([]any, len(both))
	for i, k := range both {
		names[i] = k
	}
	if _, err := asking(ctx, src, "DEL", names); err != nil {
		return err
	}
	obs.KeptCopies(dst, src, both)
	return nil
}

func (m *Mover) migrateArgs(dst *Node, keys []any, replace bool) []any {
	args := make([]any, 0, 12+len(keys))
	args = append(args, "MIGRATE", dst.Host, dst.Port, "", 0, cmp.Or(m.Opts.Timeout, DefaultTimeout))
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

// compareValues compares the values of keys on both nodes and returns the
// keys whose values differ. failed means a node could not answer. It asks
// for DEBUG DIGEST-VALUE, as redis-cli does; where DEBUG is disabled (the
// default since Redis 7) it compares DUMP payloads instead.
func compareValues(ctx context.Context, src, dst *Node, keys []any, obs Observer) (diffs []string, failed bool) {
	a, errA := digests(ctx, src, keys)
	b, errB := digests(ctx, dst, keys)
	if debugDisabled(errA) || debugDisabled(errB) {
		a, errA = dumps(ctx, src, keys)
		b, errB = dumps(ctx, dst, keys)
	}
	for _, side := range []struct {
		n   *Node
		err error
	}{{src, errA}, {dst, errB}} {
		if side.err != nil {
			obs.ValueCheckFailed(side.n, errorText(side.err))
			return nil, true
		}
	}
	for i := range keys {
		if i >= len(a) || i >= len(b) {
			break
		}
		if a[i] == "" || b[i] == "" { // missing on one side: nothing to compare
			continue
		}
		if a[i] != b[i] {
			diffs = append(diffs, fmt.Sprint(keys[i]))
		}
	}
	return diffs, false
}

// digests is DEBUG DIGEST-VALUE of keys ("" for a missing key).
func digests(ctx context.Context, n *Node, keys []any) ([]string, error) {
	v, err := n.Conn.Do(ctx, append([]any{"DEBUG", "DIGEST-VALUE"}, keys...)...)
	if err != nil {
		return nil, err
	}
	d, _ := v.([]any)
	out := make([]string, len(d))
	for i, x := range d {
		if s := fmt.Sprint(x); s != "0000000000000000000000000000000000000000" {
			out[i] = s
		}
	}
	return out, nil
}

// dumps is DUMP of keys ("" for a missing key).
func dumps(ctx context.Context, n *Node, keys []any) ([]string, error) {
	res, err := asking(ctx, n, "DUMP", keys)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(keys))
	for i, r := range res {
		if s, ok := r.Val.(string); ok {
			out[i] = s
		}
	}
	return out, nil
}

// debugDisabled reports whether err is the refusal of a server whose
// DEBUG command is off (enable-debug-command no).
func debugDisabled(err error) bool {
	msg, ok := replyText(err)
	return ok && strings.Contains(msg, "DEBUG command not allowed")
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
	// Open is told the slots open now (IMPORTING or MIGRATING on either
	// side) each time that set changes; nil at the end.
	Open func(slots []int)
	// Stop, checked after each window of slots moved, ends the move early:
	// the slots moved so far get their new owner and no other is opened.
	Stop func() bool
}

// ErrStopped is returned by MoveSlots when SlotHooks.Stop ended it early.
var ErrStopped = errors.New("stopped")

// LeftOpen is the error of a move that failed while slots were open: the
// slot it failed in and those opened with it, some of their keys perhaps
// on each node (fix repairs them).
type LeftOpen struct {
	Slots []int
	Err   error
}

func (e *LeftOpen) Error() string { return e.Err.Error() }
func (e *LeftOpen) Unwrap() error { return e.Err }

// DefaultWindow is how many slots of a move are open at once.
const DefaultWindow = 8

// MoveSlot moves one slot and its keys from src to dst and then tells every
// master in others (the cluster's masters; src and dst are skipped) that dst
// owns it (clusterManagerMoveSlot).
func (m *Mover) MoveSlot(ctx context.Context, src, dst *Node, slot int, others []*Node, o MoveOptions, h SlotHooks) error {
	_, err := m.MoveSlots(ctx, src, dst, []int{slot}, others, o, h)
	return err
}

// MoveSlots moves slots from src to dst with the protocol of MoveSlot:
// IMPORTING on dst, then MIGRATING on src, the keys, then dst and the other
// masters, and last src, learn the new owner. Round trips are paid per
// window of slots (Options.Window, open at once), not per slot: the
// window's SETSLOTs go in one pipeline per node, together with the next
// window's opening and, on the source, the next window's key names; the
// keys' sizes of the whole window come in one pipeline, and its MIGRATEs
// in another (the source runs them one after the other, each waiting for
// the target).
// It returns how many slots changed owner, the target claiming them (with
// the error, if any: a *LeftOpen names the slots left open, among them
// moved slots the source may still migrate).
func (m *Mover) MoveSlots(ctx context.Context, src, dst *Node, slots []int, others []*Node, o MoveOptions, h SlotHooks) (int, error) {
	var told []int
	open := func(s ...[]int) {
		if now := slices.Concat(s...); h.Open != nil && (told == nil || !slices.Equal(now, told)) {
			told = now
			h.Open(now)
		}
	}
	defer open(nil)
	if o.Cold {
		for i, s := range slots {
			open([]int{s}) // already open: its keys are in flight
			if err := m.moveKeysOf(ctx, src, dst, s, false, nil, h); err != nil {
				return i, err
			}
			if h.Stop != nil && h.Stop() && i+1 < len(slots) {
				return i + 1, ErrStopped
			}
		}
		return len(slots), nil
	}
	// A source that just gave away its last slot may already have turned
	// into a replica of the target (redis/redis#9223): not an error. In
	// redis-cli's fix (no error sink) no source error stops the move.
	srcTolerates := func(msg string) bool { return o.NoErrorSink || sourceTurnedReplica(msg) }
	window := slots[:min(m.window(), len(slots))]
	open(window)
	if err := m.setSlots(ctx, dst, o, nil, slotCmds(window, node.Importing, src.ID)...); err != nil {
		return 0, &LeftOpen{window, err}
	}
	names, err := m.openOnSource(ctx, src, dst, nil, window, o, nil)
	if err != nil {
		return 0, &LeftOpen{window, err}
	}
	moved := 0
	var stopped error
	for len(window) > 0 {
		if err := m.moveWindowKeys(ctx, src, dst, window, names, h); err != nil {
			return moved, &LeftOpen{window, err}
		}
		rest := slots[moved+len(window):]
		next := rest[:min(m.window(), len(rest))]
		if len(next) > 0 && h.Stop != nil && h.Stop() {
			next, stopped = nil, ErrStopped
		}
		open(window, next)
		// The target first: if it failed before learning it owns the slots,
		// they would be left without an owner (redis/redis#7116). The other
		// masters learn it at the same time, while the source still claims
		// the slots: a master that sees the owner it knows stop claiming a
		// slot marks it unclaimed, and Redis before 7.2.4 (and 7.0) keeps
		// that mark when SETSLOT gives the slot to another node; should
		// that master import the slot later, the first stale claim of it
		// would win and the master would drop the slot's keys
		// (redis/redis#12564). The source learns it last, in the round
		// trip that opens the next window.
		dstCmds := append(slotCmds(window, node.Owner, dst.ID), slotCmds(next, node.Importing, src.ID)...)
		var othersErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			othersErr = m.tellOwner(ctx, src, dst, window, others, sourceTurnedReplica)
		}()
		dstErr := m.setSlots(ctx, dst, o, nil, dstCmds...)
		wg.Wait()
		if dstErr != nil {
			return moved, &LeftOpen{slices.Concat(window, next), dstErr}
		}
		moved += len(window) // the target owns them: its claim wins
		if othersErr != nil {
			// The source is told all the same (the slots are the
			// target's; gossip tells the master that refused); the next
			// window, opened on the target only, is left to fix.
			if err := m.setSlots(ctx, src, o, srcTolerates, slotCmds(window, node.Owner, dst.ID)...); err != nil {
				return moved, &LeftOpen{slices.Concat(window, next), err}
			}
			if len(next) > 0 {
				return moved, &LeftOpen{next, othersErr}
			}
			return moved, othersErr
		}
		if names, err = m.openOnSource(ctx, src, dst, window, next, o, srcTolerates); err != nil {
			return moved, &LeftOpen{slices.Concat(window, next), err}
		}
		if window = next; len(window) > 0 {
			open(window)
		}
	}
	return moved, stopped
}

func (m *Mover) window() int {
	if m.Opts.Window > 0 {
		return m.Opts.Window
	}
	return DefaultWindow
}

func slotCmds(slots []int, state node.SlotState, id string) []node.Cmd {
	cmds := make([]node.Cmd, len(slots))
	for i, s := range slots {
		cmds[i] = node.SetSlotCmd(s, state, id)
	}
	return cmds
}

// openOnSource tells src in one round trip that dst owns the slots in
// closing and that it migrates the slots in opening to dst, and fetches
// the key names of each opened slot (nil for one whose fetch failed: its
// keys are fetched again on their own). Errors of the SETSLOTs are
// handled as setSlots does, with tolerate.
func (m *Mover) openOnSource(ctx context.Context, src, dst *Node, closing, opening []int, o MoveOptions, tolerate func(string) bool) ([][]any, error) {
	setslots := append(slotCmds(closing, node.Owner, dst.ID), slotCmds(opening, node.Migrating, dst.ID)...)
	cmds := slices.Clone(setslots)
	for _, s := range opening {
		cmds = append(cmds, node.GetKeysInSlotCmd(s, m.fetchSize()))
	}
	res := pipelineWaitingReplicas(ctx, src, cmds, tolerate)
	if err := m.setSlotErrors(src, o, tolerate, res[:len(setslots)]); err != nil {
		return nil, err
	}
	names := make([][]any, len(opening))
	for i, r := range res[len(setslots):] {
		if r.Err == nil {
			names[i], _ = r.Val.([]any)
			if names[i] == nil {
				names[i] = []any{}
			}
		}
	}
	return names, nil
}

// moveWindowKeys moves the keys of the window's slots whose names were
// fetched: their sizes in one pipeline, their MIGRATEs in another; then,
// slot by slot in the hooks, it reports them, handles refusals, and moves
// what is left of a slot (a fetch that may not have held every key) as
// MigrateKeys does.
func (m *Mover) moveWindowKeys(ctx context.Context, src, dst *Node, window []int, names [][]any, h SlotHooks) error {
	batches := make([][][]any, len(window))
	var all []any
	for i := range window {
		all = append(all, names[i]...)
	}
	sizes := m.sizes(ctx, src, all)
	var cmds []node.Cmd
	for i := range window {
		n := min(len(names[i]), len(sizes)) // no sizes with a fixed Opts.Pipeline
		batches[i] = m.cut(names[i], sizes[:n])
		sizes = sizes[n:]
		for _, b := range batches[i] {
			cmds = append(cmds, m.migrateArgs(dst, b, false))
		}
	}
	var replies []node.Result
	if len(cmds) > 0 {
		replies = src.Conn.Pipeline(ctx, cmds)
	}
	for i, s := range window {
		var sent []batchReply
		for _, b := range batches[i] {
			sent = append(sent, batchReply{keys: b, err: replies[0].Err, sent: true})
			replies = replies[1:]
		}
		if err := m.moveKeysOf(ctx, src, dst, s, true, &prefetched{names[i], sent}, h); err != nil {
			return err
		}
	}
	return nil
}

// batchReply is a batch of keys to MIGRATE and, once sent, its error.
type batchReply struct {
	keys []any
	err  error
	sent bool
}

// prefetched is what moveWindowKeys did for a slot before its turn: the
// names fetched (nil: none) and the MIGRATEs sent.
type prefetched struct {
	names   []any
	batches []batchReply
}

// moveKeysOf moves the keys of one slot between the hooks that redis-cli's
// lines are printed in.
func (m *Mover) moveKeysOf(ctx context.Context, src, dst *Node, slot int, migrating bool, pre *prefetched, h SlotHooks) error {
	if h.Start != nil {
		h.Start(slot)
	}
	err := m.migrateKeys(ctx, src, dst, slot, migrating, pre)
	if h.Done != nil {
		h.Done(slot)
	}
	return err
}

// setSlots sends cmds (CLUSTER SETSLOT) to n in one round trip. An error
// reply fails it unless tolerate accepts it; with o.NoErrorSink (fix) it is
// also reported through the Observer at once.
func (m *Mover) setSlots(ctx context.Context, n *Node, o MoveOptions, tolerate func(string) bool, cmds ...node.Cmd) error {
	return m.setSlotErrors(n, o, tolerate, pipelineWaitingReplicas(ctx, n, cmds, tolerate))
}

// setSlotErrors is setSlots' judgement of the SETSLOT replies res of n.
func (m *Mover) setSlotErrors(n *Node, o MoveOptions, tolerate func(string) bool, res []node.Result) error {
	for _, r := range res {
		if r.Err == nil {
			continue
		}
		msg, ok := replyText(r.Err)
		if !ok {
			return r.Err
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

// tellOwner tells every master in others but src and dst, at once, that
// dst owns slots. A master that gave away its last slot earlier in this
// run may have turned into a replica meanwhile; it needs no telling.
func (m *Mover) tellOwner(ctx context.Context, src, dst *Node, slots []int, others []*Node, tolerate func(string) bool) error {
	if len(slots) == 0 {
		return nil
	}
	cmds := make([]node.Cmd, len(slots))
	for i, s := range slots {
		cmds[i] = node.SetSlotCmd(s, node.Owner, dst.ID)
	}
	var rest []*Node
	for _, n := range others {
		if n.ID != src.ID && n.ID != dst.ID {
			rest = append(rest, n)
		}
	}
	errs := make([]error, len(rest))
	node.Each(len(rest), func(i int) { errs[i] = m.setSlots(ctx, rest[i], MoveOptions{}, tolerate, cmds...) })
	return firstError(errs)
}

// replicasWait bounds how long a SETSLOT is sent again while a Valkey
// master answers NOREPLICAS.
const replicasWait = 30 * time.Second

// pipelineWaitingReplicas sends the SETSLOTs and sends again, until
// replicasWait has passed, those a master answered NOREPLICAS (unless
// tolerated): Valkey 8 makes a SETSLOT wait (2 s) for the master's
// replicas, and refuses it when one lags, as after a big value moved; the
// replica catches up and the SETSLOT, which changes nothing twice, then
// goes through.
func pipelineWaitingReplicas(ctx context.Context, n *Node, cmds []node.Cmd, tolerate func(string) bool) []node.Result {
	results := n.Conn.Pipeline(ctx, cmds)
	deadline := time.Now().Add(replicasWait)
	for {
		var again []int
		for i, r := range results {
			if msg, ok := replyText(r.Err); ok && strings.HasPrefix(msg, "NOREPLICAS") && (tolerate == nil || !tolerate(msg)) {
				again = append(again, i)
			}
		}
		if len(again) == 0 || time.Now().After(deadline) {
			return results
		}
		select {
		case <-ctx.Done():
			return results
		case <-time.After(100 * time.Millisecond):
		}
		retry := make([]node.Cmd, len(again))
		for j, i := range again {
			retry[j] = cmds[i]
		}
		for j, r := range n.Conn.Pipeline(ctx, retry) {
			results[again[j]] = r
		}
	}
}

// sourceTurnedReplica tells the errors of a SETSLOT NODE sent to a master
// that turned into a replica meanwhile: Redis refuses it; Valkey 8, which
// makes the SETSLOT wait for the replicas, may unblock the waiting client
// (UNBLOCKED) on the role change, or fail it when its replicas migrated
// away (NOREPLICAS), errors valkey-cli accepts from the source.
func sourceTurnedReplica(msg string) bool {
	for _, prefix := range []string{"ERR Please use SETSLOT only with masters.", "ERR Please use SETSLOT only with primaries.", "UNBLOCKED", "NOREPLICAS"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
