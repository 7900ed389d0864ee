// Package redistest starts real redis-server processes for tests and for the
// golden-fixture capture program (internal/redistest/capture).
//
// It is a test-support package: import it only from _test.go files and from
// the capture program. Servers listen on loopback addresses (any address of
// 127.0.0.0/8 works on Linux without setup), each in its own directory with
// its own config file, log file and nodes.conf.
package redistest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/rcluster/rcluster/pkg/node"
)

// RequireEnv is the environment variable that turns a missing redis-server or
// redis-cli into a test failure instead of a skip.
const RequireEnv = "RCLUSTER_REQUIRE_REDIS"

// Binaries looked up in PATH.
const (
	ServerBinary = "redis-server"
	CLIBinary    = "redis-cli"
)

// Available reports whether redis-server and redis-cli are both in PATH; the
// error names the missing one.
func Available() error { return Redis.Available() }

// Require skips the test when redis-server or redis-cli is missing, unless
// RCLUSTER_REQUIRE_REDIS=1, in which case it fails the test.
func Require(t testing.TB) {
	t.Helper()
	Redis.Require(t)
}

// Options describes the servers to start.
type Options struct {
	Count int
	// Hosts are the loopback IPs cycled over the servers (server i listens on
	// Hosts[i%len(Hosts)]); default {"127.0.0.1"}.
	Hosts []string
	// Standalone starts the servers without cluster-enabled.
	Standalone bool
	// Password sets requirepass and masterauth.
	Password string
	// NodeTimeoutMS is cluster-node-timeout; default 2000.
	NodeTimeoutMS int
	// ExtraConfig holds extra "name value" config lines, appended after the
	// defaults (so they override them).
	ExtraConfig []string
	// Ports, when set, gives fixed ports (server i uses Ports[i]) instead of
	// random ones; used by the capture program. Both the port and port+10000
	// must be free.
	Ports []int
	// TLS, when set, makes the servers speak TLS only: "port 0" and
	// "tls-port" the server's Port, with tls-cluster and tls-replication on.
	// Clients of this package connect over TLS too.
	TLS *TLSFiles
	// User, with Password, disables the default user and creates this ACL
	// user with the password and every right (replication authenticates as
	// it: masteruser). Clients of this package log in as it.
	User string
	// Build is the server program (and CLI) to run; nil is Redis, the
	// redis-server and redis-cli in PATH.
	Build *Build
}

// TLSFiles are the PEM files of a TLS setup (see NewTLSFiles).
type TLSFiles struct {
	CACert     string // the CA that signed Cert (and ClientCert)
	Cert, Key  string // the servers' certificate (also used as a client)
	ClientCert string // a client certificate signed by CACert
	ClientKey  string
	// AuthClients is tls-auth-clients: "yes", "no" or "optional" (default).
	AuthClients string
}

// Config returns a client configuration that trusts CACert and presents
// the client certificate.
func (f *TLSFiles) Config() (*tls.Config, error) {
	pem, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("redistest: no certificate in %s", f.CACert)
	}
	cfg := &tls.Config{RootCAs: roots}
	if f.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Server is one redis-server process.
type Server struct {
	Host string
	Port int
	Dir  string

	opts      Options
	conf      string
	fixedPort bool

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
	stderr  *bytes.Buffer
	running bool
	// logOffset is the size of the log file when the process was launched.
	logOffset int64

	clientMu sync.Mutex
	client   *redis.Client
}

// Addr returns "host:port".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// String returns the address.
func (s *Server) String() string { return s.Addr() }

// Build returns the server's build (program and CLI).
func (s *Server) Build() *Build { return s.opts.build() }

// Password returns the password the server requires ("" for none).
func (s *Server) Password() string { return s.opts.Password }

// LogFile returns the path of the server's log file.
func (s *Server) LogFile() string { return filepath.Join(s.Dir, "redis.log") }

// ConfigFile returns the path of the server's config file.
func (s *Server) ConfigFile() string { return s.conf }

// Running reports whether the process is alive (started and not stopped or
// crashed).
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Client returns a go-redis client for the server (RESP2, no CLIENT SETINFO,
// the password set). The client is shared and owned by the Server: don't
// Close it. It survives Stop/Restart (go-redis reconnects).
func (s *Server) Client() *redis.Client {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if s.client == nil {
		s.client = redis.NewClient(s.clientOptions())
	}
	return s.client
}

// NewClient returns a new go-redis client for the server that the caller
// must Close (useful for commands that change connection state).
func (s *Server) NewClient() *redis.Client { return redis.NewClient(s.clientOptions()) }

func (s *Server) clientOptions() *redis.Options {
	var tlsConfig *tls.Config
	if s.opts.TLS != nil {
		tlsConfig, _ = s.opts.TLS.Config() // checked when the server started
	}
	return &redis.Options{
		Addr:                     s.Addr(),
		Username:                 s.opts.User,
		Password:                 s.opts.Password,
		TLSConfig:                tlsConfig,
		Protocol:                 2,
		DisableIdentity:          true,
		DialTimeout:              3 * time.Second,
		ReadTimeout:              30 * time.Second,
		WriteTimeout:             10 * time.Second,
		MaxRetries:               -1,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

func (s *Server) closeClient() {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if s.client != nil {
		_ = s.client.Close()
		s.client = nil
	}
}

// Do sends one command and returns the reply as go-redis decodes it (string,
// int64, []any, ...). A nil reply is returned as (nil, nil); a reply error
// as a non-nil error.
func (s *Server) Do(args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := s.Client().Do(ctx, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, err
}

// DoString is Do for commands that reply with a (bulk or status) string.
func (s *Server) DoString(args ...any) (string, error) {
	v, err := s.Do(args...)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	default:
		return fmt.Sprint(x), nil
	}
}

// DoInt is Do for commands that reply with an integer.
func (s *Server) DoInt(args ...any) (int64, error) {
	v, err := s.Do(args...)
	if err != nil {
		return 0, err
	}
	x, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%v: reply %T %v is not an integer", args, v, v)
	}
	return x, nil
}

// ID returns the node ID (CLUSTER MYID).
func (s *Server) ID() (string, error) { return s.DoString("CLUSTER", "MYID") }

// Stop kills the process with SIGKILL and waits for it. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.running = false
}

// Signal sends sig to the running process (SIGSTOP hangs it, SIGCONT
// resumes it). A stopped server is left to Stop, which kills it anyway.
func (s *Server) Signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return fmt.Errorf("%s is not running", s.Addr())
	}
	return s.cmd.Process.Signal(sig)
}

// Restart starts the server again with the same directory and config file
// (its nodes.conf and append-only file are kept) and waits until it answers.
func (s *Server) Restart() error {
	s.Stop()
	if err := s.launch(); err != nil {
		return err
	}
	return s.waitReady(15 * time.Second)
}

// Log returns the tail (at most max bytes) of the server's log file.
func (s *Server) Log(max int) string {
	b, _ := os.ReadFile(s.LogFile())
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Start starts opts.Count servers (in parallel) in directories made with
// t.TempDir and waits until each answers PING. t.Cleanup kills them. Ports
// are random (20000-29999, with port+10000 free for the cluster bus), so
// parallel tests don't collide. It skips (or fails) the test like Require
// when the binaries are missing.
func Start(t testing.TB, opts Options) []*Server {
	t.Helper()
	opts.build().Require(t)
	if opts.Count <= 0 {
		t.Fatalf("redistest.Start: Count must be positive")
	}
	dirs := make([]string, opts.Count)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	servers, err := startIn(opts, dirs)
	if err != nil {
		t.Fatalf("redistest.Start: %v", err)
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Stop()
			s.closeClient()
		}
	})
	return servers
}

// StartProcs is Start without a testing.TB: server i lives in baseDir/node<i>
// (created if needed). The caller must Stop every server.
func StartProcs(opts Options, baseDir string) ([]*Server, error) {
	if err := opts.build().Available(); err != nil {
		return nil, err
	}
	if opts.Count <= 0 {
		return nil, errors.New("redistest.StartProcs: Count must be positive")
	}
	dirs := make([]string, opts.Count)
	for i := range dirs {
		dirs[i] = filepath.Join(baseDir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dirs[i], 0o755); err != nil {
			return nil, err
		}
	}
	return startIn(opts, dirs)
}

// StopAll stops every server.
func StopAll(servers []*Server) {
	for _, s := range servers {
		s.Stop()
		s.closeClient()
	}
}

func startIn(opts Options, dirs []string) ([]*Server, error) {
	if len(opts.Hosts) == 0 {
		opts.Hosts = []string{"127.0.0.1"}
	}
	if opts.NodeTimeoutMS == 0 {
		opts.NodeTimeoutMS = 2000
	}
	if len(opts.Ports) > 0 && len(opts.Ports) < opts.Count {
		return nil, fmt.Errorf("redistest: %d fixed ports for %d servers", len(opts.Ports), opts.Count)
	}
	if opts.TLS != nil {
		if _, err := opts.TLS.Config(); err != nil {
			return nil, err
		}
	}
	servers := make([]*Server, opts.Count)
	for i := range servers {
		dir, err := filepath.Abs(dirs[i])
		if err != nil {
			return nil, err
		}
		servers[i] = &Server{Host: opts.Hosts[i%len(opts.Hosts)], Dir: dir, opts: opts, conf: filepath.Join(dir, "redis.conf")}
		if len(opts.Ports) > 0 {
			servers[i].Port = opts.Ports[i]
			servers[i].fixedPort = true
		}
	}
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.firstStart()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, s := range servers {
			s.Stop()
			s.closeClient()
		}
		return nil, err
	}
	return servers, nil
}

// firstStart picks a port (unless fixed), writes the config and starts the
// server, retrying with another port when the chosen one was taken in the
// meantime by another process.
func (s *Server) firstStart() error {
	var lastErr error
	for attempt := 0; attempt < 8; attempt++ {
		if !s.fixedPort {
			p, err := allocPort(s.Host)
			if err != nil {
				return err
			}
			s.Port = p
		} else if attempt == 0 {
			for _, p := range []int{s.Port, s.Port + 10000} {
				if !canBind(s.Host, p) {
					return fmt.Errorf("redistest: %s:%d is not free", s.Host, p)
				}
			}
		}
		if err := s.writeConfig(); err != nil {
			return err
		}
		_ = os.Remove(s.LogFile())
		if err := s.launch(); err != nil {
			return err
		}
		err := s.waitReady(15 * time.Second)
		if err == nil {
			return nil
		}
		lastErr = err
		s.Stop()
		if s.fixedPort || !strings.Contains(err.Error(), "in use") {
			return err
		}
	}
	return lastErr
}

func (s *Server) writeConfig() error {
	o := s.opts
	port := []string{"port " + strconv.Itoa(s.Port)}
	if t := o.TLS; t != nil {
		auth := t.AuthClients
		if auth == "" {
			auth = "optional"
		}
		port = []string{
			"port 0",
			"tls-port " + strconv.Itoa(s.Port),
			"tls-cert-file " + quoteConf(t.Cert),
			"tls-key-file " + quoteConf(t.Key),
			"tls-ca-cert-file " + quoteConf(t.CACert),
			"tls-auth-clients " + auth,
			"tls-cluster yes",
			"tls-replication yes",
		}
	}
	lines := []string{
		"bind " + s.Host,
		"protected-mode no",
		"daemonize no",
		"dir " + s.Dir,
		"logfile " + s.LogFile(),
		"loglevel notice",
		`save ""`,
		"appendonly yes",
		"appendfsync always",
		"enable-debug-command yes",
	}
	lines = append(port, lines...)
	if s.Host != "127.0.0.1" {
		// The cluster bus and replication connect from this address (else
		// from 127.0.0.1). Not on 127.0.0.1 itself: a bound source address
		// takes an ephemeral port of its own per connection, whatever the
		// destination, and 150 nodes' 22,000 bus links then exhaust the
		// 28,000 ports (issue 17: create's join never completed).
		lines = append(lines, "bind-source-addr "+s.Host)
	}
	if !o.Standalone {
		lines = append(lines,
			"cluster-enabled yes",
			"cluster-config-file nodes.conf",
			"cluster-node-timeout "+strconv.Itoa(o.NodeTimeoutMS),
		)
	}
	switch {
	case o.User != "":
		lines = append(lines, "user default off", "user "+o.User+" on "+quoteConf(">"+o.Password)+" ~* &* +@all",
			"masteruser "+quoteConf(o.User), "masterauth "+quoteConf(o.Password))
	case o.Password != "":
		lines = append(lines, "requirepass "+quoteConf(o.Password), "masterauth "+quoteConf(o.Password))
	}
	lines = append(lines, o.ExtraConfig...)
	return os.WriteFile(s.conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func quoteConf(v string) string { return strconv.Quote(v) }

func (s *Server) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return nil
	}
	path, err := s.opts.build().ServerPath()
	if err != nil {
		return err
	}
	s.logOffset = 0
	if fi, err := os.Stat(s.LogFile()); err == nil {
		s.logOffset = fi.Size()
	}
	cmd := exec.Command(path, s.conf)
	cmd.Dir = s.Dir
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	// Kill the server if this process dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting %s: %w", s.Addr(), err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.cmd, s.done, s.stderr, s.running = cmd, done, &stderr, true
	return nil
}

// waitReady polls the server with a raw PING until it answers +PONG (or
// -NOAUTH when a password is required).
func (s *Server) waitReady(timeout time.Duration) error {
	s.mu.Lock()
	done, logOffset := s.done, s.logOffset
	s.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-done:
			<-done
			return fmt.Errorf("redistest: redis-server %s exited at start-up: %s%s", s.Addr(), s.stderrText(), lastLines(s.Log(4000), 5))
		default:
		}
		// The log line proves that this process (not some other one that
		// happens to own the port) bound its sockets.
		if s.logSince(logOffset, "Ready to accept connections") && pingRaw(s.Addr(), s.opts.TLS) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: redis-server %s did not answer PING within %v: %s", s.Addr(), timeout, lastLines(s.Log(4000), 5))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) logSince(off int64, substr string) bool {
	b, err := os.ReadFile(s.LogFile())
	if err != nil || int64(len(b)) < off {
		return false
	}
	return bytes.Contains(b[off:], []byte(substr))
}

func (s *Server) stderrText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stderr == nil {
		return ""
	}
	return strings.TrimSpace(s.stderr.String()) + " "
}

func pingRaw(addr string, files *TLSFiles) bool {
	var c net.Conn
	var err error
	d := &net.Dialer{Timeout: 500 * time.Millisecond}
	if files != nil {
		var cfg *tls.Config
		if cfg, err = files.Config(); err != nil {
			return false
		}
		c, err = tls.DialWithDialer(d, "tcp", addr, cfg)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return false
	}
	defer c.Close()
	return node.PingConn(c)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

var (
	portMu   sync.Mutex
	usedPort = map[string]bool{} // "host:port" handed out by this process
)

// allocPort picks a random port P in 20000-29999 such that P and P+10000
// (the cluster bus port) can both be bound on host. Ports handed out are
// never handed out again by this process.
func allocPort(host string) (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 2000; i++ {
		p := 20000 + rand.IntN(10000)
		key := net.JoinHostPort(host, strconv.Itoa(p))
		if usedPort[key] {
			continue
		}
		if !canBind(host, p) || !canBind(host, p+10000) {
			continue
		}
		usedPort[key] = true
		return p, nil
	}
	return 0, fmt.Errorf("redistest: no free port pair on %s", host)
}

func canBind(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}
