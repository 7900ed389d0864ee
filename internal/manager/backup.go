package manager

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// BackupOptions are the settings of backup.
type BackupOptions struct {
	// Dir is the directory as typed; it is created when missing.
	Dir string
	// Auth, ConnectTimeout and TLS are used for the replication connection
	// that fetches every master's RDB.
	Auth           node.Auth
	ConnectTimeout time.Duration
	TLS            *tls.Config
}

// rdbEOFMarkSize is the length of the mark that ends a diskless transfer.
const rdbEOFMarkSize = 40

// Backup saves the RDB of every loaded master and the cluster layout in
// nodes.json (clusterManagerCommandBackup), after Load and Check; checkOK is
// the result of the check. The RDB comes through the replication protocol:
// SYNC on a connection of its own, one master after the other, as redis-cli
// does, so that the masters do not all fork at the same time.
func (m *Manager) Backup(ctx context.Context, checkOK bool, o BackupOptions) error {
	errorCount := 0
	if !checkOK {
		errorCount = len(m.Errors)
	}
	// Unlike redis-cli, a missing directory is created. A failure shows up
	// as redis-cli's "Error opening" message on the first RDB file.
	_ = os.MkdirAll(o.Dir, 0o755)

	text := report.BackupText{P: m.P}
	var json strings.Builder
	json.WriteString("[\n")
	for i, n := range m.Nodes {
		if i > 0 {
			json.WriteString(",\n")
		}
		json.WriteString(nodeJSON(n, errorCount))
		if n.IsReplica() {
			continue
		}
		text.SavingRDB(n.Addr())
		if err := m.saveRDB(ctx, n, o); err != nil {
			return err
		}
	}
	json.WriteString("\n]")

	path := dirFile(o.Dir, "nodes.json")
	text.SavingLayout(path)
	if err := os.WriteFile(path, []byte(json.String()), 0o666); err != nil {
		text.LayoutNotSaved(path)
		return ErrReported
	}
	if !checkOK {
		text.ClusterHasProblems()
	}
	text.Created(o.Dir)
	return nil
}

// dirFile joins the directory as typed and a file name the way redis-cli
// does: a "/" is added unless the directory ends with one.
func dirFile(dir, name string) string {
	if !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return dir + name
}

// RDBFileName is the name of a node's RDB file in the backup directory.
func (m *Manager) RDBFileName(dir string, n *Node) string {
	return dirFile(dir, fmt.Sprintf(m.P.Words().BackupFile, n.Host, n.Port, n.ID))
}

// nodeJSON is one node's object in nodes.json, byte for byte as redis-cli's
// clusterManagerNodeGetJSON writes it.
func nodeJSON(n *Node, errorCount int) string {
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
		peers []struct{ slot, id string }
	}{{"migrating", peers(n.Migrating)}, {"importing", peers(n.Importing)}} {
		if len(open.peers) == 0 {
			continue
		}
		fmt.Fprintf(&b, ",\n    \"%s\": {", open.name)
		for i, p := range open.peers {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "\"%s\": \"%s\"", p.slot, p.id)
		}
		b.WriteByte('}')
	}
	b.WriteString("\n  }")
	return b.String()
}

func peers(l []cluster.SlotPeer) []struct{ slot, id string } {
	out := make([]struct{ slot, id string }, len(l))
	for i, p := range l {
		out[i] = struct{ slot, id string }{strconv.Itoa(p.Slot), p.NodeID}
	}
	return out
}

// saveRDB fetches n's RDB into its file as redis-cli's getRDB does, with
// its messages on stderr. Every failure is reported and ends the run.
func (m *Manager) saveRDB(ctx context.Context, n *Node, o BackupOptions) error {
	conn, err := m.replicationConn(ctx, n, o)
	if err != nil {
		return err
	}
	defer conn.Close()
	text := report.BackupText{P: m.P}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	if _, err := conn.Write([]byte("SYNC\r\n")); err != nil {
		text.SyncNotSent()
		return ErrReported
	}
	r := bufio.NewReaderSize(conn, 64*1024)
	// The header: "$<length>" or "$EOF:<mark>", after any "\n" keep-alives.
	var line []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			text.NoBulkLength()
			return ErrReported
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
		text.SyncFailed(string(line))
		return ErrReported
	}
	var mark []byte
	var payload uint64
	if len(line) >= 5 && string(line[1:5]) == "EOF:" && len(line)-5 >= rdbEOFMarkSize {
		mark = line[5 : 5+rdbEOFMarkSize]
	} else if payload = strtoull(line[1:]); payload == 0 {
		mark = make([]byte, rdbEOFMarkSize) // redis-cli's (zeroed) mark
	}
	file := m.RDBFileName(o.Dir, n)
	if mark != nil {
		text.SyncSentUntilEOF(file)
	} else {
		text.SyncSent(payload, file)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		text.CannotOpen(file, strerror(err))
		return ErrReported
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
				return ctx.Err()
			}
			text.ReadFailed()
			return ErrReported
		}
		if nw, err := f.Write(buf[:nr]); err != nil || nw != nr {
			msg := "short write"
			if err != nil {
				msg = strerror(err)
			}
			text.WriteFailed(msg)
			return ErrReported
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
	if mark != nil {
		size := written - rdbEOFMarkSize
		if err := f.Truncate(int64(size)); err != nil {
			text.TruncateFailed(strerror(err))
		}
		text.TransferredUntilEOF(size)
	} else {
		text.Transferred()
	}
	conn.Close() // as redis-cli: before the fsync, which may take time
	if err := f.Sync(); err != nil {
		text.FsyncFailed(file, strerror(err))
		return ErrReported
	}
	if err := f.Close(); err != nil {
		text.WriteFailed(strerror(err))
		return ErrReported
	}
	return nil
}

// replicationConn opens a raw connection to n for SYNC (go-redis cannot
// read the RDB transfer) and authenticates it as every node connection is.
func (m *Manager) replicationConn(ctx context.Context, n *Node, o BackupOptions) (net.Conn, error) {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	conn, err := node.DialConn(ctx, node.Options{ConnectTimeout: timeout, TLS: o.TLS}, n.Host, n.Port)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		m.reportConnect(n.Addr(), err)
		return nil, ErrReported
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
		m.P.ConnectError(n.Addr(), err.Error())
		return nil, ErrReported
	case strings.HasPrefix(reply, "-"):
		conn.Close()
		m.P.ReplyError(n.Addr(), reply[1:])
		return nil, ErrReported
	}
	return conn, nil
}

// strerror words an OS error as C's strerror does ("No such file or
// directory"): Go's text of the error number, capitalised.
func strerror(err error) string {
	var errno syscall.Errno
	msg := err.Error()
	if errors.As(err, &errno) {
		msg = errno.Error()
	}
	if msg != "" && 'a' <= msg[0] && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
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
