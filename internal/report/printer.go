package report

import (
	"errors"
	"fmt"
	"io"

	"github.com/rcluster/rcluster/pkg/node"
)

// Level is a redis-cli log level; each has its own escape code.
type Level int

// The levels of redis-cli's clusterManagerLog.
const (
	Info Level = iota
	Warn
	Err
	Success
)

// redis-cli writes ESC[<code>m, the message (with its newline) and ESC[0m.
var levelCode = [...]string{Info: "29;1", Warn: "33;1", Err: "31;1", Success: "32;1"}

// Printer writes redis-cli text to stdout and stderr, in redis-cli's or
// valkey-cli's words.
type Printer struct {
	Out    io.Writer
	ErrOut io.Writer
	Color  bool
	// Dialect chooses the words; with AutoDialect the first node whose
	// INFO the run reads (the entry node) chooses it (FollowServer).
	Dialect     Dialect
	AutoDialect bool
}

// FollowServer sets the dialect from a node's INFO reply, once, when it is
// not forced: the entry node's INFO is the first a run reads.
func (p *Printer) FollowServer(info string) {
	if p.AutoDialect {
		p.Dialect = DialectOfServer(info)
		p.AutoDialect = false
	}
}

// Words returns the messages of the printer's dialect.
func (p *Printer) Words() *Words { return p.Dialect.Words() }

// WithOut returns a printer like p that writes to out and errOut.
func (p *Printer) WithOut(out, errOut io.Writer) *Printer {
	return &Printer{Out: out, ErrOut: errOut, Color: p.Color, Dialect: p.Dialect, AutoDialect: p.AutoDialect}
}

// Log writes a formatted message at a level, colored as redis-cli does.
func (p *Printer) Log(l Level, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if p.Color {
		msg = "\033[" + levelCode[l] + "m" + msg + "\033[0m"
	}
	io.WriteString(p.Out, msg)
}

// Info logs at info level (bold).
func (p *Printer) Info(format string, a ...any) { p.Log(Info, format, a...) }

// Warn logs at warning level (yellow).
func (p *Printer) Warn(format string, a ...any) { p.Log(Warn, format, a...) }

// Err logs at error level (red). redis-cli sends these to stdout too.
func (p *Printer) Err(format string, a ...any) { p.Log(Err, format, a...) }

// Success logs at success level (green).
func (p *Printer) Success(format string, a ...any) { p.Log(Success, format, a...) }

// Plain is redis-cli's printf to stdout: never colored.
func (p *Printer) Plain(format string, a ...any) { fmt.Fprintf(p.Out, format, a...) }

// Stderr is redis-cli's fprintf(stderr, ...).
func (p *Printer) Stderr(format string, a ...any) { fmt.Fprintf(p.ErrOut, format, a...) }

// ReplyError is the message redis-cli prints when a node answers with an error.
func (p *Printer) ReplyError(addr, msg string) {
	p.Err("Node %s replied with error:\n%s\n", addr, msg)
}

// ConnectFailed is redis-cli's message for a connection to addr that the
// dialer could not open (err: a *node.TLSError, *node.ConnectError or
// *node.AuthError, or any other error).
func (p *Printer) ConnectFailed(addr string, err error) {
	var ce *node.ConnectError
	var ae *node.AuthError
	var te *node.TLSError
	switch {
	case errors.As(err, &te):
		p.TLSError(te.Msg)
	case errors.As(err, &ce):
		p.ConnectError(addr, ce.Reason)
	case errors.As(err, &ae):
		p.ReplyError(addr, ae.Msg)
	default:
		p.ConnectError(addr, err.Error())
	}
}

// ConnectError is redis-cli's message for a node it cannot connect to.
func (p *Printer) ConnectError(addr, reason string) {
	p.Stderr(p.Words().CouldNotConnect, addr, reason)
}

// TLSError is redis-cli's message for a TLS connection that failed.
func (p *Printer) TLSError(msg string) { p.Stderr("TLS Error: %s\n", msg) }

// NotClusterNode reports a node outside cluster mode, or the error its INFO gave.
func (p *Printer) NotClusterNode(addr, infoErr string) {
	if infoErr == "" {
		infoErr = "is not configured as a cluster node."
	}
	p.Err("[ERR] Node %s %s\n", addr, infoErr)
}

// NotEmpty reports a node that cannot join a new cluster.
func (p *Printer) NotEmpty(addr, cmdErr string) {
	if cmdErr == "" {
		cmdErr = "is not empty. Either the node already knows other nodes (check with CLUSTER NODES) or contains some key in database 0."
	}
	p.Err("[ERR] Node %s %s\n", addr, cmdErr)
}

// BadNodesReply is redis-cli's message for a CLUSTER NODES reply it cannot
// parse.
func (p *Printer) BadNodesReply() { p.Stderr("Error: invalid CLUSTER NODES reply\n") }

// InvalidHost is redis-cli's message for a host that does not resolve to the
// IP CLUSTER MEET needs.
func (p *Printer) InvalidHost(host string) {
	p.Stderr("Invalid IP address or hostname specified: %s\n", host)
}

// InvalidAddress is redis-cli's message for a bad "host:port" or "host port".
const InvalidAddress = "[ERR] Invalid arguments: you need to pass either a valid address (ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)\n"
