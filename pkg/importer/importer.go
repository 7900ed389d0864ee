package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Options are the choices of an import.
type Options struct {
	// Copy and Replace add COPY (the keys stay on the source) and REPLACE
	// (a key that exists on its target is overwritten) to MIGRATE.
	Copy, Replace bool
	// Timeout is MIGRATE's timeout in milliseconds (0: DefaultTimeout).
	Timeout int
	// Pipeline is the number of keys sent to one target in one MIGRATE
	// (0: DefaultPipeline).
	Pipeline int
	// Auth are the cluster's credentials, which MIGRATE passes to the
	// targets.
	Auth node.Auth
	// DryRun stops after the source's checks and its key count: nothing
	// moves.
	DryRun bool
}

// DefaultTimeout and DefaultPipeline are redis-cli's.
const (
	DefaultTimeout  = 60000
	DefaultPipeline = 10
)

// scanCount is the COUNT of every SCAN on the source, as redis-cli's.
const scanCount = 1000

// Result is what an import did, also when it failed.
type Result struct {
	// Keys is the source's key count before the import (DBSIZE).
	Keys int64
	// Migrated counts the keys reported to Observer.Migrated.
	Migrated int
}

// Observer hears an import, as redis-cli prints it. The calls come from
// the goroutine of Run.
type Observer interface {
	// Counted: the source is a standalone instance holding keys keys; the
	// scan starts unless Options.DryRun.
	Counted(keys int64)
	// Migrated: key is on target now (copied with Options.Copy). Keys are
	// told in SCAN order.
	Migrated(key string, target *inspect.Node)
	// Scanned: the n keys of one SCAN reply were migrated.
	Scanned(n int)
}

// NopObserver hears nothing; embed it to hear only some moments.
type NopObserver struct{}

func (NopObserver) Counted(int64)                  {}
func (NopObserver) Migrated(string, *inspect.Node) {}
func (NopObserver) Scanned(int)                    {}

// ErrClusterSource refuses a source that is a cluster node.
var ErrClusterSource = errors.New("importer: the source is a cluster node")

// SourceError is a command the source refused (Err is a *node.ReplyError)
// or did not answer (any other error), other than a MIGRATE.
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "importer: source: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// KeyError is the failed MIGRATE of Key to Target, sent by the source:
// Err is the source's error reply (a *node.ReplyError, such as BUSYKEY
// for a key that exists on its target) or the I/O error. The keys
// reported before it were migrated; Key and those after it, in SCAN
// order, may still be on the source.
type KeyError struct {
	Key    string
	Target *inspect.Node
	Err    error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("importer: key %q to %s: %v", e.Key, e.Target.Addr(), e.Err)
}
func (e *KeyError) Unwrap() error { return e.Err }

// NoOwnerError: no master of the cluster owns Slot, the slot of Key. A
// checked cluster covers every slot; nothing of the SCAN reply holding
// Key was migrated.
type NoOwnerError struct {
	Slot int
	Key  string
}

func (e *NoOwnerError) Error() string {
	return fmt.Sprintf("importer: no master owns slot %d of key %q", e.Slot, e.Key)
}

// Run checks that src, a connection to the source, is not a cluster node,
// counts its keys, then scans its database 0 and migrates every key to the
// master of c that owns its slot (the first in c's order): one
// MIGRATE ... KEYS per target and batch of Options.Pipeline keys, except
// the keys that must go alone as redis-cli sends them (without
// Options.Replace, those that exist on their target already, found with
// EXISTS). The first failure stops it: ErrClusterSource, a *SourceError, a
// *KeyError or a *NoOwnerError, or the context's error. obs may be nil.
func Run(ctx context.Context, c *inspect.Cluster, src node.Client, o Options, obs Observer) (Result, error) {
	if o.Pipeline <= 0 {
		o.Pipeline = DefaultPipeline
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if obs == nil {
		obs = NopObserver{}
	}
	im := &importer{o: o, src: src, obs: obs}

	info, err := node.Str(src.Do(ctx, "INFO"))
	if err != nil {
		return im.res, &SourceError{err}
	}
	if v, ok := node.InfoField(info, "cluster_enabled"); !ok || cluster.Atoi(v) != 0 {
		return im.res, ErrClusterSource
	}
	if im.res.Keys, err = node.Int(src.Do(ctx, "DBSIZE")); err != nil {
		return im.res, &SourceError{err}
	}
	obs.Counted(im.res.Keys)
	if o.DryRun {
		return im.res, nil
	}

	// Slot map: the first master in c's order that owns the slot.
	for _, n := range c.Nodes {
		if n.IsReplica() || n.Slots.Count() == 0 {
			continue
		}
		for s := 0; s < cluster.NumSlots; s++ {
			if im.owner[s] == nil && n.Slots.Has(s) {
				im.owner[s] = n
			}
		}
	}

	cursor := "0"
	for {
		if err := ctx.Err(); err != nil {
			return im.res, err
		}
		v, err := src.Do(ctx, "SCAN", cursor, "COUNT", scanCount)
		if err != nil {
			return im.res, &SourceError{err}
		}
		next, keys, err := scanReply(v)
		if err != nil {
			return im.res, &SourceError{err}
		}
		if err := im.migrate(ctx, keys); err != nil {
			return im.res, err
		}
		obs.Scanned(len(keys))
		cursor = next
		if cursor == "0" {
			return im.res, nil
		}
	}
}

func scanReply(v any) (cursor string, keys []string, err error) {
	arr, ok := v.([]any)
	if !ok || len(arr) < 2 {
		return "", nil, fmt.Errorf("unexpected SCAN reply %v", v)
	}
	if cursor, err = node.Str(arr[0], nil); err != nil {
		return "", nil, err
	}
	keys, err = node.Strings(arr[1], nil)
	return cursor, keys, err
}

type importer struct {
	o     Options
	src   node.Client
	obs   Observer
	owner [cluster.NumSlots]*inspect.Node
	res   Result
}

func (im *importer) migrated(key string, target *inspect.Node) {
	im.res.Migrated++
	im.obs.Migrated(key, target)
}

// migrate moves the keys of one SCAN reply.
func (im *importer) migrate(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	targets := make([]*inspect.Node, len(keys))
	for i, k := range keys {
		t := im.owner[cluster.KeySlot(k)]
		if t == nil { // a checked cluster covers every slot; kept as a guard
			return &NoOwnerError{Slot: cluster.KeySlot(k), Key: k}
		}
		targets[i] = t
	}
	alone := im.mustGoAlone(ctx, keys, targets)
	start := 0
	for i := 0; i <= len(keys); i++ {
		if i < len(keys) && !alone[i] {
			continue
		}
		if err := im.migrateBatched(ctx, keys[start:i], targets[start:i]); err != nil {
			return err
		}
		if i < len(keys) {
			if err := im.migrateOne(ctx, keys[i], targets[i]); err != nil {
				return err
			}
		}
		start = i + 1
	}
	return nil
}

// mustGoAlone marks the keys that are sent in a MIGRATE of their own, as
// redis-cli sends them: without Replace the keys that exist on their target
// (or whose check failed), and any key seen earlier in the same reply (SCAN
// may return a key twice).
func (im *importer) mustGoAlone(ctx context.Context, keys []string, targets []*inspect.Node) []bool {
	alone := make([]bool, len(keys))
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if seen[k] {
			alone[i] = true
		}
		seen[k] = true
	}
	if im.o.Replace {
		return alone
	}
	byTarget := map[*inspect.Node][]int{}
	var order []*inspect.Node
	for i, t := range targets {
		if _, ok := byTarget[t]; !ok {
			order = append(order, t)
		}
		byTarget[t] = append(byTarget[t], i)
	}
	node.Each(len(order), func(j int) {
		idx := byTarget[order[j]]
		cmds := make([]node.Cmd, len(idx))
		for x, i := range idx {
			cmds[x] = node.Cmd{"EXISTS", keys[i]}
		}
		for x, r := range order[j].Client.Pipeline(ctx, cmds) {
			if n, err := node.Int(r.Val, r.Err); err != nil || n != 0 {
				alone[idx[x]] = true
			}
		}
	})
	return alone
}

// batch is one MIGRATE ... KEYS to one target.
type batch struct {
	target *inspect.Node
	keys   []int // indexes into the keys being migrated, in SCAN order
	err    error
	done   bool
}

// migrateBatched sends keys (none of which is expected to fail) in MIGRATE
// batches of up to Pipeline keys per target, in the order of their first
// key, and reports them migrated in SCAN order. When a batch fails, the
// keys before its first key are reported migrated and the failure is a
// *KeyError on its first key.
func (im *importer) migrateBatched(ctx context.Context, keys []string, targets []*inspect.Node) error {
	if len(keys) == 0 {
		return nil
	}
	open := map[*inspect.Node]*batch{}
	var batches []*batch
	batchOf := make([]*batch, len(keys))
	for i, t := range targets {
		b := open[t]
		if b == nil || len(b.keys) >= im.o.Pipeline {
			b = &batch{target: t}
			open[t] = b
			batches = append(batches, b)
		}
		b.keys = append(b.keys, i)
		batchOf[i] = b
	}
	for _, b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		args := make([]any, 0, 16+len(b.keys))
		args = append(args, "MIGRATE", b.target.Host, b.target.Port, "", 0, im.o.Timeout)
		if im.o.Copy {
			args = append(args, "COPY")
		}
		if im.o.Replace {
			args = append(args, "REPLACE")
		}
		args = im.appendAuth(args)
		args = append(args, "KEYS")
		for _, i := range b.keys {
			args = append(args, keys[i])
		}
		_, b.err = im.src.Do(ctx, args...)
		b.done = true
		if b.err != nil {
			break
		}
	}
	for i, k := range keys {
		b := batchOf[i]
		if !b.done || b.err != nil {
			if b.err == nil { // cannot happen: batches run in first-key order
				b.err = errors.New("not migrated")
			}
			return &KeyError{Key: k, Target: targets[i], Err: b.err}
		}
		im.migrated(k, targets[i])
	}
	return nil
}

// migrateOne sends one key alone, with redis-cli's exact command.
func (im *importer) migrateOne(ctx context.Context, key string, target *inspect.Node) error {
	args := []any{"MIGRATE", target.Host, target.Port, key, 0, im.o.Timeout}
	args = im.appendAuth(args)
	if im.o.Copy {
		args = append(args, "COPY")
	}
	if im.o.Replace {
		args = append(args, "REPLACE")
	}
	if _, err := im.src.Do(ctx, args...); err != nil {
		return &KeyError{Key: key, Target: target, Err: err}
	}
	im.migrated(key, target)
	return nil
}

func (im *importer) appendAuth(args []any) []any {
	if im.o.Auth.Password == "" {
		return args
	}
	if im.o.Auth.User != "" {
		return append(args, "AUTH2", im.o.Auth.User, im.o.Auth.Password)
	}
	return append(args, "AUTH", im.o.Auth.Password)
}
