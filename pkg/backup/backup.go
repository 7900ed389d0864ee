package backup

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
	"github.com/rcluster/rcluster/pkg/node"
)

// Options are the settings of a backup.
type Options struct {
	// Dir is the directory the files go to, as typed: it is created when
	// missing, and a file's path is Dir, a "/" unless Dir ends with one,
	// and the file's name.
	Dir string
	// FileName names a master's RDB file; nil is redis-cli's
	// "redis-node-HOST-PORT-ID.rdb".
	FileName func(n *inspect.Node) string
	// Auth, ConnectTimeout (0: 10 seconds) and TLS are used for the
	// replication connection that fetches every master's RDB.
	Auth           node.Auth
	ConnectTimeout time.Duration
	TLS            *tls.Config
	// ClusterErrors, when above 0, is written into every node's object of
	// nodes.json as "cluster_errors": redis-cli writes the number of errors
	// its check found.
	ClusterErrors int
}

// Result is what a backup wrote, also when it failed.
type Result struct {
	// RDB are the RDB files saved, one per master in c's order.
	RDB []File
	// Layout is the path of nodes.json once written.
	Layout string
}

// File is one master's RDB file.
type File struct {
	Node *inspect.Node
	Path string
	Size uint64 // bytes
}

// Observer hears a backup, as redis-cli prints it. The calls come from the
// goroutine of Run.
type Observer interface {
	// Saving: master n's RDB is about to be fetched.
	Saving(n *inspect.Node)
	// Receiving: n answered SYNC; its RDB goes to file, size bytes, or,
	// when untilEOF (a diskless transfer), as many as come before the end
	// mark.
	Receiving(n *inspect.Node, file string, size uint64, untilEOF bool)
	// TruncateFailed: the end mark of a diskless transfer could not be cut
	// off file (err is the OS error); the backup goes on.
	TruncateFailed(n *inspect.Node, file string, err error)
	// Received: n's RDB has come whole, size bytes; it is synced to disk
	// next.
	Received(n *inspect.Node, size uint64, untilEOF bool)
	// SavingLayout: nodes.json is about to be written to path.
	SavingLayout(path string)
}

// NopObserver hears nothing; embed it to hear only some moments.
type NopObserver struct{}

func (NopObserver) Saving(*inspect.Node)                          {}
func (NopObserver) Receiving(*inspect.Node, string, uint64, bool) {}
func (NopObserver) TruncateFailed(*inspect.Node, string, error)   {}
func (NopObserver) Received(*inspect.Node, uint64, bool)          {}
func (NopObserver) SavingLayout(string)                           {}

// ConnectError: no replication connection to Node could be opened. Err is
// the dialer's error (a *node.ConnectError, a *node.TLSError...), a
// *node.AuthError when AUTH was refused, or the I/O error of AUTH.
type ConnectError struct {
	Node *inspect.Node
	Err  error
}

func (e *ConnectError) Error() string { return "backup: " + e.Node.Addr() + ": " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// Step is where fetching or saving an RDB failed.
type Step int

const (
	SendSync    Step = iota // SYNC could not be sent
	ReadHeader              // no bulk length came back
	SyncRefused             // the master replied with an error (RDBError.Reply)
	OpenFile                // the file could not be created
	ReadPayload             // the transfer was cut short
	WriteFile               // the file could not be written
	SyncFile                // the file could not be synced to disk
	CloseFile               // the file could not be closed
)

var stepNames = [...]string{"sending SYNC", "reading the bulk length", "SYNC refused",
	"opening the file", "reading the payload", "writing the file", "syncing the file", "closing the file"}

func (s Step) String() string {
	if s >= 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return fmt.Sprintf("step %d", int(s))
}

// RDBError is a master's RDB that could not be fetched or saved.
type RDBError struct {
	Node *inspect.Node
	Step Step
	// File is the RDB file's path, once the master answered SYNC.
	File string
	// Reply is the master's reply line to SYNC, as received (after a
	// SyncRefused).
	Reply string
	// Err is the I/O or OS error, when there is one.
	Err error
}

func (e *RDBError) Error() string {
	msg := fmt.Sprintf("backup: %s: RDB: %v", e.Node.Addr(), e.Step)
	if e.File != "" {
		msg += " (" + e.File + ")"
	}
	switch {
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	case e.Reply != "":
		msg += ": " + strings.TrimSpace(e.Reply)
	}
	return msg
}
func (e *RDBError) Unwrap() error { return e.Err }

// LayoutError: nodes.json could not be written to Path.
type LayoutError struct {
	Path string
	Err  error
}

func (e *LayoutError) Error() string { return "backup: " + e.Path + ": " + e.Err.Error() }
func (e *LayoutError) Unwrap() error { return e.Err }

// rdbEOFMarkSize is the length of the mark that ends a diskless transfer.
const rdbEOFMarkSize = 40

// Run saves the RDB of every master of c and c's layout in nodes.json
// (clusterManagerCommandBackup). The RDB comes through SYNC on a
// connection of its own, one master after the other. The first failure
// stops it: a *ConnectError, an *RDBError, a *LayoutError, or the
// context's error. obs may be nil.
func Run(ctx context.Context, c *inspect.Cluster, o Options, obs Observer) (Result, error) {
	if obs == nil {
		obs = NopObserver{}
	}
	if o.FileName == nil {
		o.FileName = func(n *inspect.Node) string {
			return fmt.Sprintf("redis-node-%s-%d-%s.rdb", n.Host, n.Port, n.ID)
		}
	}
	var res Result
	// Unlike redis-cli, a missing directory is created. A failure shows up
	// as an OpenFile error on the first RDB file.
	_ = os.MkdirAll(o.Dir, 0o755)

	var json strings.Builder
	json.WriteString("[\n")
	for i, n := range c.Nodes {
		if i > 0 {
			json.WriteString(",\n")
		}
		json.WriteString(nodeJSON(n, o.ClusterErrors))
		if n.IsReplica() {
			continue
		}
		obs.Saving(n)
		f, err := saveRDB(ctx, n, o, obs)
		if err != nil {
			return res, err
		}
		res.RDB = append(res.RDB, f)
	}
	json.WriteString("\n]")

	path := dirFile(o.Dir, "nodes.json")
	obs.SavingLayout(path)
	if err := os.WriteFile(path, []byte(json.String()), 0o666); err != nil {
		return res, &LayoutError{Path: path, Err: err}
	}
	res.Layout = path
	return res, nil
}

// dirFile joins the directory as typed and a file name the way redis-cli
// does: a "/" is added unless the directory ends with one.
func dirFile(dir, name string) string {
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return dir + name
}

// nodeJSON is one node's object in nodes.json, byte for byte as redis-cli's
// clusterManagerNodeGetJSON writes it.
func nodeJSON(n *inspect.Node, errorCount int) string {
	var b strings.Builder
	replicate := "null"
	if n.MasterID != "" {
		replicate = `"` + n.MasterID + `"`
	}
	fmt.Fprintf(&b, "  {\n"+
		"    \"name\": \"%s\",\n"+
		"    \"host\": \"%s\",\n"+
		"    \"port\": %d,\n"+
		"    \"replicate\": %s,\n"+
		"    \"slots\": [%s],\n"+
		"    \"slots_count\": %d,\n"+
		"    \"flags\": \"%s\",\n"+
		"    \"current_epoch\": %d",
		n.ID, n.Host, n.Port, replicate,
		strings.ReplaceAll(n.Slots.String(), "-", ","),
		n.Slots.Count(), n.FlagString(), uint64(n.ConfigEpoch))
	if errorCount > 0 {
		fmt.Fprintf(&b, ",\n    \"cluster_errors\": %d", errorCount)
	}
	for _, open := range []struct {
		name  string
		peers []cluster.SlotPeer
	}{{"migrating", n.Migrating}, {"importing", n.Importing}} {
		if len(open.peers) == 0 {
			continue
		}
		fmt.Fprintf(&b, ",\n    \"%s\": {", open.name)
		for i, p := range open.peers {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "\"%s\": \"%s\"", strconv.Itoa(p.Slot), p.NodeID)
		}
		b.WriteByte('}')
	}
	b.WriteString("\n  }")
	return b.String()
}

// saveRDB fetches n's RDB into its file as redis-cli's getRDB does.
func saveRDB(ctx context.Context, n *inspect.Node, o Options, obs Observer) (File, error) {
	conn, err := replicationConn(ctx, n, o)
	if err != nil {
		return File{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	fail := func(step Step, file string, err error) (File, error) {
		return File{}, &RDBError{Node: n, Step: step, File: file, Err: err}
	}

	if _, err := conn.Write([]byte("SYNC\r\n")); err != nil {
		return fail(SendSync, "", err)
	}
	r := bufio.NewReaderSize(conn, 64*1024)
	// The header: "$<length>" or "$EOF:<mark>", after any "\n" keep-alives.
	var line []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if ctx.Err() != nil {
				return File{}, ctx.Err()
			}
			return fail(ReadHeader, "", err)
		}
		if c == '\n' {
			if len(line) > 0 {
				break
			}
			continue
		}
		line = append(line, c)
	}
	if line[0] == '-' {
		return File{}, &RDBError{Node: n, Step: SyncRefused, Reply: string(line)}
	}
	var mark []byte
	var payload uint64
	if len(line) >= 5 && string(line[1:5]) == "EOF:" && len(line)-5 >= rdbEOFMarkSize {
		mark = line[5 : 5+rdbEOFMarkSize]
	} else if payload = strtoull(line[1:]); payload == 0 {
		mark = make([]byte, rdbEOFMarkSize) // redis-cli's (zeroed) mark
	}
	file := dirFile(o.Dir, o.FileName(n))
	obs.Receiving(n, file, payload, mark != nil)
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fail(OpenFile, file, err)
	}
	defer f.Close()

	var written uint64
	buf := make([]byte, 64*1024)
	var last []byte // the last bytes received, to find the EOF mark
	for mark != nil || written < payload {
		want := len(buf)
		if mark == nil && payload-written < uint64(want) {
			want = int(payload - written)
		}
		nr, err := r.Read(buf[:want])
		if nr <= 0 {
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return File{}, ctx.Err()
			}
			return fail(ReadPayload, file, err)
		}
		if nw, err := f.Write(buf[:nr]); err != nil || nw != nr {
			if err == nil {
				err = io.ErrShortWrite
			}
			return fail(WriteFile, file, err)
		}
		written += uint64(nr)
		if mark != nil {
			last = append(last, buf[:nr]...)
			if len(last) > rdbEOFMarkSize {
				last = last[len(last)-rdbEOFMarkSize:]
			}
			if len(last) == rdbEOFMarkSize && string(last) == string(mark) {
				break
			}
		}
	}
	size := written
	if mark != nil {
		size = written - rdbEOFMarkSize
		if err := f.Truncate(int64(size)); err != nil {
			obs.TruncateFailed(n, file, err)
		}
	}
	obs.Received(n, size, mark != nil)
	conn.Close() // as redis-cli: before the fsync, which may take time
	if err := f.Sync(); err != nil {
		return fail(SyncFile, file, err)
	}
	if err := f.Close(); err != nil {
		return fail(CloseFile, file, err)
	}
	return File{Node: n, Path: file, Size: size}, nil
}

// replicationConn opens a raw connection to n for SYNC (go-redis cannot
// read the RDB transfer) and authenticates it as every node connection is.
func replicationConn(ctx context.Context, n *inspect.Node, o Options) (net.Conn, error) {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	conn, err := node.DialConn(ctx, node.Options{ConnectTimeout: timeout, TLS: o.TLS}, n.Host, n.Port)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnectError{Node: n, Err: err}
	}
	if o.Auth.Password == "" {
		return conn, nil
	}
	args := []string{"AUTH"}
	if o.Auth.User != "" {
		args = append(args, o.Auth.User)
	}
	args = append(args, o.Auth.Password)
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	reply, err := func() (string, error) {
		if _, err := io.WriteString(conn, req.String()); err != nil {
			return "", err
		}
		// Read byte by byte: nothing after the reply may be consumed.
		var b []byte
		one := make([]byte, 1)
		for {
			if _, err := conn.Read(one); err != nil {
				return "", err
			}
			if one[0] == '\n' {
				return strings.TrimSuffix(string(b), "\r"), nil
			}
			b = append(b, one[0])
		}
	}()
	conn.SetDeadline(time.Time{})
	switch {
	case err != nil:
		conn.Close()
		return nil, &ConnectError{Node: n, Err: err}
	case strings.HasPrefix(reply, "-"):
		conn.Close()
		return nil, &ConnectError{Node: n, Err: &node.AuthError{Msg: reply[1:]}}
	}
	return conn, nil
}

// strtoull is C's strtoull(s, NULL, 10) for the digits that start s.
func strtoull(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + uint64(c-'0')
	}
	return v
}
