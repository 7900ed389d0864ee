package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// ImportOptions are the settings of import.
type ImportOptions struct {
	// From is the standalone instance the keys come from.
	From Address
	// Dial connects to the source with the source's credentials
	// (--from-user, --from-pass).
	Dial node.Dialer
	// Copy and Replace add COPY and REPLACE to MIGRATE.
	Copy, Replace bool
	// Timeout is MIGRATE's timeout in milliseconds.
	Timeout int
	// Pipeline is the number of keys sent to one target in one MIGRATE.
	Pipeline int
	// User and Password are the cluster's credentials, given to MIGRATE.
	User, Password string
	// DryRun stops after every check and the key count: nothing moves.
	DryRun bool
}

// scanCount is the COUNT of every SCAN on the source, as redis-cli's.
const scanCount = 1000

// Import moves (or copies) every key of the source's database 0 to the
// master that owns its slot, after Load and Check (clusterManagerCommandImport).
//
// redis-cli sends one MIGRATE per key; rcluster sends one MIGRATE ... KEYS
// per target and batch of Pipeline keys, and still prints one line per key
// in SCAN order. Without Replace, the keys that already exist on their
// target (a MIGRATE of them fails with BUSYKEY) are found first with EXISTS:
// the keys before such a key are sent in batches, the key itself alone,
// exactly as redis-cli sends it, so the run stops at the same key with the
// same message and the keys after it stay on the source.
func (m *Manager) Import(ctx context.Context, o ImportOptions) error {
	if o.Pipeline <= 0 {
		o.Pipeline = 10
	}
	im := &importer{m: m, o: o, addr: o.From.String(), text: report.ImportText{P: m.P}}
	src, err := o.Dial(ctx, o.From.Host, o.From.Port)
	if err != nil {
		var ce *node.ConnectError
		var ae *node.AuthError
		switch {
		case errors.As(err, &ae):
			im.text.AuthFailed(ae.Msg)
		case errors.As(err, &ce):
			m.P.ConnectError(im.addr, ce.Reason+".")
		default:
			m.P.ConnectError(im.addr, err.Error()+".")
		}
		return ErrReported
	}
	defer src.Close()
	im.src = src

	info, err := node.Str(src.Do(ctx, "INFO"))
	if err != nil {
		return im.sourceError(err)
	}
	if v, ok := node.InfoField(info, "cluster_enabled"); !ok || cluster.Atoi(v) != 0 {
		im.text.SourceIsCluster()
		return ErrReported
	}
	size, err := node.Int(src.Do(ctx, "DBSIZE"))
	if err != nil {
		return im.sourceError(err)
	}
	im.text.Importing(int32(size))
	if o.DryRun {
		return nil
	}
	m.Progress.Start("import", 0, size)
	defer m.Progress.Done()

	// Slot map: the first master in list order that owns the slot.
	for _, n := range m.Nodes {
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
			return err
		}
		v, err := src.Do(ctx, "SCAN", cursor, "COUNT", scanCount)
		if err != nil {
			return im.sourceError(err)
		}
		next, keys, err := scanReply(v)
		if err != nil {
			return im.sourceError(err)
		}
		if err := im.migrate(ctx, keys); err != nil {
			return err
		}
		m.Progress.Keys(len(keys))
		cursor = next
		if cursor == "0" {
			return nil
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
	m     *Manager
	o     ImportOptions
	addr  string // the source, as typed
	src   node.Client
	owner [cluster.NumSlots]*Node
	text  report.ImportText
}

// sourceError reports a failed command on the source: its error reply as
// redis-cli does, or the I/O error.
func (im *importer) sourceError(err error) error {
	var re *node.ReplyError
	if errors.As(err, &re) {
		im.text.SourceError(im.addr, re.Msg)
	} else {
		im.text.SourceIOError(im.addr, err)
	}
	return ErrReported
}

// migrate moves the keys of one SCAN reply, printing a line per key.
func (im *importer) migrate(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	targets := make([]*Node, len(keys))
	for i, k := range keys {
		t := im.owner[cluster.KeySlot(k)]
		if t == nil { // the check refuses uncovered slots; kept as a guard
			im.text.NoOwner(cluster.KeySlot(k), cString(k))
			return ErrReported
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
func (im *importer) mustGoAlone(ctx context.Context, keys []string, targets []*Node) []bool {
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
	byTarget := map[*Node][]int{}
	var order []*Node
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
	target *Node
	keys   []int // indexes into the keys being migrated, in SCAN order
	err    error
	done   bool
}

// migrateBatched sends keys (none of which is expected to fail) in MIGRATE
// batches of up to Pipeline keys per target, in the order of their first
// key, and prints the OK lines in SCAN order. When a batch fails, the keys
// before its first key are printed as migrated and the failure is reported
// on its first key.
func (im *importer) migrateBatched(ctx context.Context, keys []string, targets []*Node) error {
	if len(keys) == 0 {
		return nil
	}
	open := map[*Node]*batch{}
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
		im.text.Migrating(cString(k), targets[i].Addr())
		if !b.done || b.err != nil {
			if b.err == nil { // cannot happen: batches run in first-key order
				b.err = errors.New("not migrated")
			}
			return im.sourceError(b.err)
		}
		im.text.Migrated()
	}
	return nil
}

// migrateOne sends one key alone, with redis-cli's exact command.
func (im *importer) migrateOne(ctx context.Context, key string, target *Node) error {
	im.text.Migrating(cString(key), target.Addr())
	args := []any{"MIGRATE", target.Host, target.Port, key, 0, im.o.Timeout}
	args = im.appendAuth(args)
	if im.o.Copy {
		args = append(args, "COPY")
	}
	if im.o.Replace {
		args = append(args, "REPLACE")
	}
	if _, err := im.src.Do(ctx, args...); err != nil {
		return im.sourceError(err)
	}
	im.text.Migrated()
	return nil
}

func (im *importer) appendAuth(args []any) []any {
	if im.o.Password == "" {
		return args
	}
	if im.o.User != "" {
		return append(args, "AUTH2", im.o.User, im.o.Password)
	}
	return append(args, "AUTH", im.o.Password)
}
