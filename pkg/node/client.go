// Package node connects to Redis nodes over go-redis the way redis-cli's
// cluster manager does (RESP2, database 0, AUTH right after connecting, no
// retries) and classifies what can go wrong: a connection that cannot be
// opened, an AUTH that is refused, or an error reply.
package node

import (
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

	"github.com/redis/go-redis/v9"
)

// Auth holds the credentials sent to every node. A user without a password
// sends nothing, as redis-cli does.
type Auth struct {
	User     string
	Password string
}

// Options configure every connection of a run.
type Options struct {
	Auth           Auth
	ConnectTimeout time.Duration // 0: 10s
	// ReplyTimeout bounds the wait for every reply (0: DefaultReplyTimeout).
	// A MIGRATE waits for its own timeout argument on top of it.
	ReplyTimeout time.Duration
	PoolSize     int // 0: 4
	// ClientName, when set, names every connection (CLIENT SETNAME), so
	// that other clients can see who is connected (see OperationName).
	ClientName string
	// TLS, when set, wraps every connection in TLS (redis-cli's --tls).
	TLS *tls.Config
	// TLSErr, when set, is the *TLSError every connection fails with: the
	// TLS settings could not be loaded (redis-cli reports it per node).
	TLSErr error
}

// Client is a connection to one node. Replies are RESP2 values: string,
// int64, []any or nil; an error reply is a *ReplyError.
type Client interface {
	// Do sends one command.
	Do(ctx context.Context, args ...any) (any, error)
	// Pipeline sends cmds in one round trip and returns their replies in
	// order.
	Pipeline(ctx context.Context, cmds []Cmd) []Result
	// Transaction sends cmds wrapped in MULTI/EXEC on one connection and
	// returns the reply of each queued command; the error is set when MULTI
	// or EXEC itself failed.
	Transaction(ctx context.Context, cmds []Cmd) ([]Result, error)
	Close() error
}

// Dialer opens a Client to host:port.
type Dialer func(ctx context.Context, host string, port int) (Client, error)

// ReplyError is an error reply of a node ("ERR ...", "MOVED ...").
type ReplyError struct{ Msg string }

func (e *ReplyError) Error() string { return e.Msg }

// ConnectError means no connection could be opened. Reason is worded as
// hiredis words it ("Connection refused"), for redis-cli's message.
type ConnectError struct {
	Reason string
	Err    error
}

func (e *ConnectError) Error() string { return e.Reason }

// AuthError means the node refused the credentials.
type AuthError struct{ Msg string }

func (e *AuthError) Error() string { return e.Msg }

// Addr joins host and port; IPv6 literals are bracketed for dialing.
func Addr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// NewDialer returns a Dialer over go-redis with the given options.
func NewDialer(o Options) Dialer {
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = DefaultReplyTimeout
	}
	if o.PoolSize == 0 {
		o.PoolSize = 4
	}
	return func(ctx context.Context, host string, port int) (Client, error) {
		c := redis.NewClient(&redis.Options{
			Addr:            Addr(host, port),
			Protocol:        2,
			DisableIdentity: true,
			MaxRetries:      -1,
			DialerRetries:   1, // one dial, as redis-cli: a refused node is reported at once
			DialTimeout:     o.ConnectTimeout,
			// No fixed socket timeout: every call's context carries its
			// deadline (see client.bounded), so MIGRATE can wait longer
			// than an admin command.
			ReadTimeout:           -1,
			WriteTimeout:          -1,
			ContextTimeoutEnabled: true,
			PoolSize:              o.PoolSize,
			MinIdleConns:          0,
			// Small buffers, and pipelines on the same connections as the
			// other commands (go-redis would open more, with 128 KiB
			// buffers each): a large cluster is one connection per node.
			ReadBufferSize:   8 << 10,
			WriteBufferSize:  8 << 10,
			PipelinePoolSize: -1,
			Dialer: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return DialConn(ctx, o, host, port)
			},
			OnConnect: func(ctx context.Context, cn *redis.Conn) error {
				if o.Auth.Password != "" {
					args := []any{"AUTH"}
					if o.Auth.User != "" {
						args = append(args, o.Auth.User)
					}
					args = append(args, o.Auth.Password)
					if err := cn.Do(ctx, args...).Err(); err != nil {
						var re redis.Error
						if !errors.As(err, &re) { // an I/O error, not a refusal
							return err
						}
						return &AuthError{Msg: err.Error()}
					}
				}
				if o.ClientName != "" {
					// A node that refuses it (an ACL without CLIENT) only
					// loses the marker: nothing depends on it but the
					// warning to other runs.
					var re redis.Error
					if err := cn.Do(ctx, "CLIENT", "SETNAME", o.ClientName).Err(); err != nil && !errors.As(err, &re) {
						return err
					}
				}
				return nil
			},
		})
		cl := &client{c: c, replyTimeout: o.ReplyTimeout}
		// Open the first connection now, so that connection and AUTH failures
		// are reported where redis-cli reports them: when connecting. A node
		// that accepts the connection but never answers (stopped, hung) is
		// reported as a connection that timed out, within the connect timeout.
		pingCtx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
		var pingErr error
		if err := cl.bounded(pingCtx, 0, func(ctx context.Context) {
			cn := c.Conn()
			defer func() { _ = cn.Close() }()
			pingErr = cn.Ping(ctx).Err()
		}); err != nil {
			c.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &ConnectError{Reason: "Connection timed out", Err: err}
		}
		if err := classify(pingErr); err != nil {
			var re *ReplyError
			if !errors.As(err, &re) { // a NOAUTH reply is INFO's business
				c.Close()
				return nil, closedAtOnce(err, o.TLS != nil)
			}
		}
		return cl, nil
	}
}

// go-redis logs dial failures on its own; rcluster reports them in
// redis-cli's words instead.
type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(silentLogger{}) }

// DefaultReplyTimeout is how long a node may take to answer a command
// (MIGRATE excepted: see Options.ReplyTimeout).
const DefaultReplyTimeout = 10 * time.Second

// ErrNoReply means a node did not answer within the reply timeout: it is
// hung, stopped, or too slow to be waited for.
var ErrNoReply = errors.New("no reply in time")

type client struct {
	c            *redis.Client
	replyTimeout time.Duration
}

// bounded runs call with a deadline of the reply timeout plus extra, and
// returns as soon as ctx is cancelled even if the node never answers (the
// call itself then ends at its deadline, in the background). call must
// only write its results once bounded has returned nil.
func (cl *client) bounded(ctx context.Context, extra time.Duration, call func(context.Context)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, cl.replyTimeout+extra)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		call(callCtx)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// migrateWait is how long the server itself may take to run cmds: the sum
// of their MIGRATE timeouts ("MIGRATE host port key db timeout ...", in
// milliseconds).
func migrateWait(cmds ...Cmd) time.Duration {
	var d time.Duration
	for _, args := range cmds {
		if len(args) < 6 {
			continue
		}
		if name, ok := args[0].(string); !ok || !strings.EqualFold(name, "MIGRATE") {
			continue
		}
		if ms, err := strconv.Atoi(fmt.Sprint(args[5])); err == nil && ms > 0 {
			d += time.Duration(ms) * time.Millisecond
		}
	}
	return d
}

func (cl *client) Do(ctx context.Context, args ...any) (any, error) {
	var v any
	var err error
	if berr := cl.bounded(ctx, migrateWait(args), func(ctx context.Context) {
		v, err = cl.c.Do(ctx, args...).Result()
	}); berr != nil {
		return nil, berr
	}
	if err == redis.Nil {
		return nil, nil
	}
	if err != nil {
		return nil, classify(err)
	}
	return v, nil
}

func (cl *client) Close() error { return cl.c.Close() }

func classify(err error) error {
	if err == nil {
		return nil
	}
	var ce *ConnectError
	var ae *AuthError
	var re redis.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ae):
		if ce != nil {
			return ce
		}
		return ae
	case errors.As(err, &re):
		return &ReplyError{Msg: re.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w (%w)", ErrNoReply, err)
	}
	return err
}

// closedAtOnce words an I/O error on a connection that was just opened,
// before any reply: typically a TLS port reached without --tls (the server
// drops the connection), which is worth saying.
func closedAtOnce(err error, tlsOn bool) error {
	var ce *ConnectError
	var ae *AuthError
	var te *TLSError
	switch {
	case errors.As(err, &te):
		return te
	case errors.As(err, &ce), errors.As(err, &ae):
		return err
	}
	reason := ConnectReason(err)
	if tlsOn && strings.Contains(err.Error(), "certificate required") {
		reason = "SSL_connect failed: " + clientCertRequired
	}
	if !tlsOn && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		reason += " (is it a TLS port? then use --tls)"
	}
	return &ConnectError{Reason: reason, Err: err}
}

// ConnectReason words a dial error as hiredis does ("Connection refused").
func ConnectReason(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "Connection reset by peer"
	case errors.Is(err, io.EOF):
		return "Server closed the connection"
	case errors.As(err, &dnsErr):
		return "Name or service not known"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "Connection timed out"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "No route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "Network is unreachable"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "Cannot assign requested address"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return fmt.Sprint(err)
}

// Result is the reply to one command of a pipeline.
type Result struct {
	Val any
	Err error
}

func (cl *client) Pipeline(ctx context.Context, cmds []Cmd) []Result {
	res := make([]*redis.Cmd, len(cmds))
	if err := cl.bounded(ctx, migrateWait(cmds...), func(ctx context.Context) {
		pipe := cl.c.Pipeline()
		for i, cmd := range cmds {
			res[i] = pipe.Do(ctx, cmd...)
		}
		_, _ = pipe.Exec(ctx)
	}); err != nil {
		out := make([]Result, len(cmds))
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	return results(res)
}

// results reads the replies of queued commands: a nil reply is nil, not an
// error, and errors are classified as Do classifies them.
func results(res []*redis.Cmd) []Result {
	out := make([]Result, len(res))
	for i, r := range res {
		v, err := r.Result()
		if err == redis.Nil {
			v, err = nil, nil
		}
		out[i] = Result{v, classify(err)}
	}
	return out
}

func (cl *client) Transaction(ctx context.Context, cmds []Cmd) ([]Result, error) {
	res := make([]*redis.Cmd, len(cmds))
	var err error
	if berr := cl.bounded(ctx, migrateWait(cmds...), func(ctx context.Context) {
		pipe := cl.c.TxPipeline()
		for i, cmd := range cmds {
			res[i] = pipe.Do(ctx, cmd...)
		}
		_, err = pipe.Exec(ctx)
	}); berr != nil {
		return nil, berr
	}
	out := results(res)
	if err != nil {
		var re redis.Error
		if !errors.As(err, &re) { // an I/O error, not a failed command inside EXEC
			return out, classify(err)
		}
	}
	return out, nil
}
