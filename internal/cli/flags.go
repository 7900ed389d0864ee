package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/prompt"
	"github.com/rcluster/rcluster/internal/report"
	"github.com/rcluster/rcluster/pkg/migrate"
	"github.com/rcluster/rcluster/pkg/node"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	pass           string
	user           string
	uri            string
	askpass        bool
	noAuthWarning  bool
	yes            bool
	connectTimeout float64
	replyTimeout   time.Duration
	passGiven      bool
	output         string
	dialect        string
	dialectOf      report.Dialect // parsed from dialect by prepare
	dialectAuto    bool
	tls            bool
	tlsOpts        node.TLSOptions
	tlsConfig      *tls.Config // built by prepare when --tls is given
	tlsErr         error       // the *node.TLSError every connection reports
}

func (f *factory) addGlobalFlags(fs *pflag.FlagSet) {
	g := &f.global
	fs.StringVarP(&g.pass, "pass", "a", "", "password for every node (also REDISCLI_AUTH)")
	fs.StringVar(&g.user, "user", "", "ACL user name, used with a password")
	fs.StringVarP(&g.uri, "uri", "u", "", "redis://[[user:]password@]host[:port][/db], or rediss:// for TLS (valkey:// and valkeys:// too): its user, password and TLS apply to every node")
	fs.BoolVar(&g.askpass, "askpass", false, "read the password from standard input (masked on a terminal)")
	fs.BoolVar(&g.noAuthWarning, "no-auth-warning", false, "do not warn about a password given on the command line")
	fs.BoolVar(&g.yes, "yes", false, "answer yes to confirmation prompts (also REDISCLI_CLUSTER_YES=1)")
	fs.Float64VarP(&g.connectTimeout, "connect-timeout", "t", 0, "connection timeout in seconds, the first reply included (0: 10s)")
	fs.DurationVar(&g.replyTimeout, "reply-timeout", node.DefaultReplyTimeout, "how long a node may take to answer a command before it counts as not answering (0: 10s; a MIGRATE also gets its --timeout)")
	fs.StringVarP(&g.output, "output", "o", "text", "output format: text (redis-cli's), json (see docs/json.md) or table (check and info)")
	fs.StringVar(&g.dialect, "dialect", "auto", "whose words to print: redis (redis-cli's), valkey (valkey-cli 8's: primary, replicas, ...) or auto: valkey when the entry node's INFO says server_name:valkey, redis otherwise")
	fs.BoolVar(&g.tls, "tls", false, "connect to every node over TLS")
	fs.StringVar(&g.tlsOpts.CACert, "cacert", "", "with --tls: CA certificate file to verify the nodes with (instead of the system's)")
	fs.StringVar(&g.tlsOpts.CACertDir, "cacertdir", "", "with --tls: directory of trusted CA certificates (instead of the system's)")
	fs.StringVar(&g.tlsOpts.Cert, "cert", "", "with --tls: client certificate to authenticate with")
	fs.StringVar(&g.tlsOpts.Key, "key", "", "with --tls: private key of the client certificate")
	fs.StringVar(&g.tlsOpts.SNI, "sni", "", "with --tls: server name to send (SNI)")
	fs.BoolVar(&g.tlsOpts.Insecure, "insecure", false, "with --tls: do not verify the nodes' certificates")
}

// prepare applies the environment and the password prompt after parsing.
func (f *factory) prepare() error {
	g := &f.global
	if g.uri != "" {
		u, err := parseURI(g.uri)
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "%v\n", err)
			return &exitError{ExitFailure}
		}
		// -a and --user, when given too, win over the URI's.
		if g.pass == "" {
			g.pass = u.pass
		}
		if g.user == "" {
			g.user = u.user
		}
		g.tls = g.tls || u.tls
	}
	g.passGiven = g.pass != ""
	if g.passGiven && !g.noAuthWarning {
		fmt.Fprint(f.IO.ErrOut, "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n")
	}
	if g.pass == "" {
		g.pass = f.Getenv("REDISCLI_AUTH")
	}
	if f.Getenv("REDISCLI_CLUSTER_YES") == "1" {
		g.yes = true
	}
	if g.askpass {
		pw, err := f.readPassword("Please input password: ")
		if err != nil {
			return err
		}
		g.pass = pw
	}
	if g.output == "" {
		g.output = "text"
	}
	if g.output != "text" && g.output != "json" && g.output != "table" {
		return &usageError{fmt.Sprintf("invalid --output %q: use text, json or table", g.output)}
	}
	var err error
	if g.dialectOf, g.dialectAuto, err = report.ParseDialect(g.dialect); err != nil {
		return &usageError{err.Error()}
	}
	if g.connectTimeout < 0 || math.IsNaN(g.connectTimeout) || math.IsInf(g.connectTimeout, 0) {
		fmt.Fprint(f.IO.ErrOut, "Invalid connection timeout for -t.\n")
		return &exitError{ExitFailure}
	}
	if g.replyTimeout < 0 {
		return &usageError{fmt.Sprintf("invalid --reply-timeout %s: it must be positive (0: 10s)", g.replyTimeout)}
	}
	if g.tls {
		// As redis-cli: unusable settings are reported at each connection.
		g.tlsConfig, g.tlsErr = node.TLSConfig(g.tlsOpts)
	}
	return nil
}

// readPassword prompts on stderr and reads a line, without echo on a terminal.
func (f *factory) readPassword(msg string) (string, error) {
	fmt.Fprint(f.IO.ErrOut, msg)
	if file, ok := f.IO.In.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
		b, err := term.ReadPassword(int(file.Fd()))
		fmt.Fprintln(f.IO.ErrOut)
		return string(b), err
	}
	p := f.prompter()
	line, err := p.Ask("")
	if err != nil {
		return "", fmt.Errorf("no password given: %w", err)
	}
	return line, nil
}

// printer writes redis-cli's text to stdout; with -o json or -o table the
// text is kept aside (it becomes the "error" of a failed run) and stdout
// gets one JSON document, or the table, instead.
func (f *factory) printer() *report.Printer {
	p := &report.Printer{Out: f.IO.Out, ErrOut: f.IO.ErrOut, Color: f.IO.Color,
		Dialect: f.global.dialectOf, AutoDialect: f.global.dialectAuto}
	if f.json() || f.table() {
		p.Out, p.ErrOut, p.Color = &f.text, io.MultiWriter(f.IO.ErrOut, &f.errText), false
	}
	return p
}

// prompter asks on stdout, or on stderr when stdout carries JSON or a table.
func (f *factory) prompter() *prompt.Prompter {
	out := f.IO.Out
	if f.json() || f.table() {
		out = f.IO.ErrOut
	}
	return &prompt.Prompter{In: f.IO.Reader(), Out: out}
}

func (f *factory) json() bool { return f.global.output == "json" }

func (f *factory) table() bool { return f.global.output == "table" }

// replyOrError is the text of a node's error reply, or of the error that
// kept it from replying.
func replyOrError(err error) string {
	var re *node.ReplyError
	if errors.As(err, &re) {
		return re.Msg
	}
	return err.Error()
}

// emit ends a command run with -o json: the cluster document (with the
// command's plan, if any) when the cluster was loaded, an error document
// otherwise. It returns err unchanged, so the exit code stays the text one.
func (f *factory) emit(m *manager.Manager, command string, plan any, ok bool, err error) error {
	if f.table() {
		if len(m.Nodes) == 0 {
			io.WriteString(f.IO.ErrOut, f.text.String()) // why: there is no table
			return err
		}
		report.WriteTable(f.IO.Out, m.Doc(ok && err == nil))
		return err
	}
	if !f.json() {
		return err
	}
	if len(m.Nodes) == 0 {
		report.WriteJSON(f.IO.Out, report.ErrorDoc{OK: false, Error: f.failure(err)})
		return err
	}
	doc := m.Doc(ok && err == nil)
	if command == "" {
		report.WriteJSON(f.IO.Out, doc)
	} else {
		report.WriteJSON(f.IO.Out, report.ResultDoc{Command: command, OK: ok && err == nil, Plan: plan, Cluster: &doc})
	}
	return err
}

// dialer returns the connection factory configured by the global flags.
func (f *factory) dialer() node.Dialer {
	newDialer := f.NewDialer
	if newDialer == nil {
		newDialer = node.NewDialer
	}
	return newDialer(f.nodeOptions())
}

// nodeOptions are the connection settings of the global flags.
func (f *factory) nodeOptions() node.Options {
	return node.Options{
		Auth:           node.Auth{User: f.global.user, Password: f.global.pass},
		ConnectTimeout: time.Duration(f.global.connectTimeout * float64(time.Second)),
		ReplyTimeout:   f.global.replyTimeout,
		ClientName:     f.operation,
		TLS:            f.global.tlsConfig,
		TLSErr:         f.global.tlsErr,
	}
}

func (f *factory) manager(o manager.Options) *manager.Manager {
	m := manager.New(f.printer(), f.dialer(), o)
	m.InFlight = &f.inFlight
	return m
}

// movingManager is the manager of a command that moves keys, with the
// progress bar its --progress flag asks for.
func (f *factory) movingManager(o manager.Options, progress string) (*manager.Manager, error) {
	bar, err := f.progress(progress)
	if err != nil {
		return nil, err
	}
	m := f.manager(o)
	m.Progress = bar
	if bar != nil {
		// Text on the bar's terminal goes above it, never into its line.
		m.P.ErrOut = bar.Above(m.P.ErrOut)
		if f.IO.OutTTY && m.P.Out == f.IO.Out {
			m.P.Out = bar.Above(m.P.Out)
		}
	}
	return m, nil
}

// loadToMove starts a command that moves slots: it checks the migration
// flags, loads the cluster through addr and makes sure no other rcluster
// operation runs on it. On failure the command's -o json document (if
// any) is written and the manager closed.
func (f *factory) loadToMove(ctx context.Context, command string, addr manager.Address, mo migrationOptions) (*manager.Manager, error) {
	if err := mo.validate(f); err != nil {
		return nil, err
	}
	m, err := f.movingManager(manager.Options{Migrate: f.migrate(mo), Parallel: mo.parallel}, mo.progress)
	if err != nil {
		return nil, err
	}
	if err := m.Load(ctx, addr.Host, addr.Port); err != nil {
		defer m.Close()
		return nil, f.emit(m, command, nil, false, err)
	}
	if err := f.aloneOnCluster(ctx, m, false); err != nil {
		defer m.Close()
		return nil, f.emit(m, command, nil, false, err)
	}
	return m, nil
}

// progress returns the progress bar the --progress setting asks for, or nil.
// In auto mode the bar appears only when stderr is a terminal and stdout is
// not the same terminal, so it never mixes with redis-cli's text.
func (f *factory) progress(mode string) (*report.Progress, error) {
	switch mode {
	case "always":
	case "auto":
		if !f.IO.ErrTTY || f.IO.OutTTY {
			return nil, nil
		}
	case "never":
		return nil, nil
	default:
		return nil, &usageError{fmt.Sprintf("invalid --progress %q: use auto, always or never", mode)}
	}
	return report.NewProgress(f.IO.ErrOut), nil
}

// errWrongArgs is redis-cli's message for a wrong number of arguments.
func (f *factory) errWrongArgs() error {
	fmt.Fprint(f.IO.ErrOut, "[ERR] Wrong number of arguments for specified --cluster sub command\n")
	return &exitError{ExitFailure}
}

// minArgs is a cobra argument validator with redis-cli's message.
func (f *factory) minArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return f.errWrongArgs()
		}
		return nil
	}
}

// exactArgs is a cobra argument validator with redis-cli's message.
func (f *factory) exactArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return f.errWrongArgs()
		}
		return nil
	}
}

// parseAddr splits "host:port" at the last colon (redis-cli's rule, so
// "::1:7000" is host ::1) and also accepts "[::1]:7000". The port must be a
// number from 1 to 65535 (redis-cli takes "7000x" as 7000: we refuse it).
func parseAddr(s string) (manager.Address, bool) {
	if i := strings.LastIndexByte(s, '@'); i >= 0 { // a bus port suffix is ignored
		s = s[:i]
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return manager.Address{}, false
	}
	host, portText := s[:i], s[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	port, ok := parsePort(portText)
	return manager.Address{Host: host, Port: port}, ok && host != ""
}

func parsePort(s string) (int, bool) {
	p, err := strconv.Atoi(s)
	return p, err == nil && p > 0 && p <= 65535 && s[0] != '+' && s[0] != '-'
}

// parseHostArgs reads redis-cli's "<host:port> or <host> <port>" arguments:
// one word is host:port, two are host and port. redis-cli ignores any more;
// rcluster refuses them, since a stray word may be a mistyped option.
func (f *factory) parseHostArgs(args []string) (manager.Address, error) {
	var a manager.Address
	if len(args) > 2 {
		return a, f.errWrongArgs()
	}
	ok := false
	if len(args) == 1 {
		a, ok = parseAddr(args[0])
	} else if len(args) >= 2 {
		var port int
		port, ok = parsePort(args[1])
		a = manager.Address{Host: strings.TrimSuffix(strings.TrimPrefix(args[0], "["), "]"), Port: port}
	}
	if !ok {
		fmt.Fprint(f.IO.ErrOut, report.InvalidAddress)
		return a, &exitError{ExitFailure}
	}
	entry := node.Addr(a.Host, a.Port)
	f.entry.CompareAndSwap(nil, &entry)
	return a, nil
}

// migrationOptions are the flags of the commands that move keys.
type migrationOptions struct {
	timeout    int
	pipeline   int
	batchKeys  int
	batchBytes int64
	replace    bool
	parallel   int
	progress   string
	settle     time.Duration
}

func (o *migrationOptions) addFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.timeout, "timeout", migrate.DefaultTimeout, "MIGRATE timeout in milliseconds")
	fs.IntVar(&o.pipeline, "pipeline", 0, "exactly N keys per GETKEYSINSLOT and MIGRATE, as redis-cli (its default is 10); 0 sizes batches by --batch-keys and --batch-bytes")
	fs.IntVar(&o.batchKeys, "batch-keys", migrate.DefaultBatchKeys, "without --pipeline: at most this many keys per MIGRATE")
	fs.Int64Var(&o.batchBytes, "batch-bytes", migrate.DefaultBatchBytes, "without --pipeline: at most this many bytes per MIGRATE (a bigger key moves alone)")
	fs.BoolVar(&o.replace, "replace", false, "replace keys that already exist on the target")
	fs.IntVar(&o.parallel, "parallel", 4, "moves between different nodes that may run at once (the output stays redis-cli's)")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal and stdout is not), always, never")
	addSettleFlag(fs, &o.settle)
}

func addSettleFlag(fs *pflag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "settle-timeout", time.Minute, "how long to wait for the cluster to settle after a change")
}

// validate refuses settings that make no sense, before anything is loaded.
func (o *migrationOptions) validate(f *factory) error {
	var bad string
	switch {
	case o.timeout < 1:
		bad = fmt.Sprintf("Invalid --timeout %d: it must be a number of milliseconds, 1 or more.", o.timeout)
	case o.pipeline < 0:
		bad = fmt.Sprintf("Invalid --pipeline %d: it must be 0 (adaptive batches) or more.", o.pipeline)
	case o.batchKeys < 1:
		bad = fmt.Sprintf("Invalid --batch-keys %d: it must be 1 or more.", o.batchKeys)
	case o.batchBytes < 1:
		bad = fmt.Sprintf("Invalid --batch-bytes %d: it must be 1 or more.", o.batchBytes)
	case o.parallel < 1:
		bad = fmt.Sprintf("Invalid --parallel %d: it must be 1 or more.", o.parallel)
	default:
		return f.refusePositive("--settle-timeout", o.settle)
	}
	return f.refuse(bad)
}

// refusePositive refuses a wait of d given by flag unless it is positive.
func (f *factory) refusePositive(flag string, d time.Duration) error {
	if d > 0 {
		return nil
	}
	return f.refuse(fmt.Sprintf("Invalid %s %s: it must be positive.", flag, d))
}

// refuse prints msg (when there is one) as a refusal of the command line,
// before anything was loaded or changed, and exits 1.
func (f *factory) refuse(msg string) error {
	if msg == "" {
		return nil
	}
	fmt.Fprintln(f.IO.ErrOut, msg)
	return &exitError{ExitFailure}
}

// migrate returns the migration settings, with the run's credentials.
func (f *factory) migrate(o migrationOptions) migrate.Options {
	return migrate.Options{
		Timeout:    o.timeout,
		Pipeline:   o.pipeline,
		BatchKeys:  o.batchKeys,
		BatchBytes: o.batchBytes,
		Replace:    o.replace,
		User:       f.global.user,
		Password:   f.global.pass,
	}
}

// parseAddrList parses "host:port" words (create's, reset's), with
// redis-cli's message for the first one that is not.
func (f *factory) parseAddrList(args []string) ([]manager.Address, error) {
	addrs := make([]manager.Address, 0, len(args))
	for _, arg := range args {
		a, ok := parseAddr(arg)
		if !ok {
			fmt.Fprintf(f.IO.ErrOut, "Invalid address format: %s\n", arg)
			return nil, &exitError{ExitFailure}
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// parseOneHost parses a single "host:port" word with redis-cli's message.
func (f *factory) parseOneHost(arg string) (manager.Address, error) {
	return f.parseHostArgs([]string{arg})
}

// emitChange ends a command that changes the cluster, with -o json: the
// plan, and the cluster as it is afterwards, loaded again over the run's
// own connections (as planned, without reloading, on a dry run).
func (f *factory) emitChange(ctx context.Context, m *manager.Manager, command string, dryRun bool, err error) error {
	if !f.json() {
		return err
	}
	if len(m.Nodes) == 0 {
		return f.emit(m, command, m.Plan, false, err)
	}
	res := report.ResultDoc{Command: command, OK: err == nil, DryRun: dryRun, Plan: m.Plan}
	if err != nil {
		res.Error = f.failure(err)
	}
	if !dryRun {
		// The cluster as the change (or the failure) left it, loaded again
		// and checked: a failed move's open slots are in its problems.
		// Loading writes its own text, which is not the command's.
		saved := f.text.Len()
		if m.Reload(ctx) == nil {
			m.ShowClusterInfo(ctx)
			doc := m.Doc(m.Check(ctx, true))
			f.text.Truncate(saved)
			res.Cluster = &doc
			return f.write(res, err)
		}
		f.text.Truncate(saved)
	}
	doc := m.Doc(err == nil)
	res.Cluster = &doc
	return f.write(res, err)
}

// failure is the text of a failed command for -o json's "error": what it
// wrote to stderr, else the last line of its redis-cli text, else err.
func (f *factory) failure(err error) string {
	if msg := strings.TrimSpace(f.errText.String()); msg != "" {
		return msg
	}
	text := strings.TrimSpace(f.text.String())
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	if text == "" && err != nil {
		text = err.Error()
	}
	return text
}

func (f *factory) write(v any, err error) error {
	report.WriteJSON(f.IO.Out, v)
	return err
}

// aloneOnCluster refuses to go on while another rcluster run is changing
// the cluster (its open slots are its work in progress, not problems).
// Runs that have shown no sign of life for manager.StaleAfter are passed
// over with a warning; fix ends their connections, so that a hung process
// that wakes up cannot go on writing.
func (f *factory) aloneOnCluster(ctx context.Context, m *manager.Manager, fixing bool) error {
	var live []*manager.Operation
	for _, op := range m.OtherOperations(ctx, f.operation) {
		switch {
		case !op.Stale():
			live = append(live, op)
		case fixing:
			m.EndOperation(ctx, op)
			fmt.Fprintf(f.IO.ErrOut, "*** Ended the connections of a stale rcluster run: %s.\n", op)
		default:
			fmt.Fprintf(f.IO.ErrOut, "*** Ignoring a stale rcluster run: %s.\n", op)
		}
	}
	if len(live) == 0 {
		return nil
	}
	for _, op := range live {
		fmt.Fprintf(f.IO.ErrOut, "*** Another rcluster operation is in progress: %s.\n", op)
	}
	entry := ""
	if e := f.entry.Load(); e != nil {
		entry = *e
	}
	fmt.Fprintf(f.IO.ErrOut, "*** Its open slots are its work, not problems to fix. Wait for it to end; if it was stopped and left slots open, run 'rcluster fix %s'.\n", entry)
	return &exitError{ExitFailure}
}

// dryRunNote tells on stderr that nothing was changed.
func (f *factory) dryRunNote() {
	fmt.Fprint(f.IO.ErrOut, "Dry run: nothing was changed.\n")
}

// onHostArgs is the RunE of the commands that take redis-cli's "<host:port>
// or <host> <port>" arguments: it parses them into *addr, then runs the
// command (or runF, the hook tests use to stop after parsing).
func onHostArgs[O any](f *factory, addr *manager.Address, o O, runF func(context.Context, O) error, run func(context.Context, *factory, O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a, err := f.parseHostArgs(args)
		if err != nil {
			return err
		}
		*addr = a
		if runF != nil {
			return runF(cmd.Context(), o)
		}
		return run(cmd.Context(), f, o)
	}
}
