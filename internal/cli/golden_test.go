package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/node"
)

// replayDialer answers the read-only commands of check and info from a
// fixture, and refuses connections to nodes that were down. The nodes of a
// fixture whose runs give a password require that password.
func replayDialer(fx *redistest.Fixture) func(node.Options) node.Dialer {
	requirePass := ""
	for _, r := range fx.Runs {
		if r.Password != "" {
			requirePass = r.Password
		}
	}
	return func(o node.Options) node.Dialer {
		return func(_ context.Context, host string, port int) (node.Client, error) {
			n, ok := fx.Nodes[host+":"+strconv.Itoa(port)]
			if !ok || n.Down {
				return nil, &node.ConnectError{Reason: "Connection refused"}
			}
			authed := requirePass == ""
			if o.Auth.Password != "" {
				if requirePass != "" && o.Auth.Password != requirePass {
					return nil, &node.AuthError{Msg: "WRONGPASS invalid username-password pair or user is disabled."}
				}
				authed = true
			}
			return &replayClient{n: n, authed: authed}, nil
		}
	}
}

type replayClient struct {
	mu     sync.Mutex
	n      *redistest.FixtureNode
	authed bool
}

func (c *replayClient) Close() error { return nil }

func (c *replayClient) Pipeline(ctx context.Context, cmds []node.Cmd) []node.Result {
	return node.DoEach(ctx, c.Do, cmds)
}

func (c *replayClient) Transaction(context.Context, []node.Cmd) ([]node.Result, error) {
	return nil, errors.New("replayed nodes have no transactions")
}

func (c *replayClient) Do(_ context.Context, args ...any) (any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = strings.ToUpper(fmt.Sprint(a))
	}
	if !c.authed {
		return nil, &node.ReplyError{Msg: "NOAUTH Authentication required."}
	}
	switch {
	case len(words) == 1 && words[0] == "INFO":
		return c.n.Info, nil
	case len(words) == 2 && words[0] == "CLUSTER" && words[1] == "NODES":
		return c.n.ClusterNodes, nil
	case len(words) == 1 && words[0] == "DBSIZE":
		return c.n.DBSize, nil
	case len(words) == 3 && words[1] == "COUNTKEYSINSLOT":
		return c.n.CountKeysInSlot[words[2]], nil
	case len(words) == 4 && words[1] == "GETKEYSINSLOT":
		var out []any
		for i, k := range c.n.GetKeysInSlot[words[2]] {
			if i < cluster.Atoi(words[3]) {
				out = append(out, k)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("replay: no captured reply for %q", words)
}

func loadFixtures(t *testing.T) []*redistest.Fixture {
	t.Helper()
	// testdata/golden holds redis-cli 7.0's; a folder per other tool
	// (valkey-8.0.1/) holds that tool's.
	paths, err := filepath.Glob("../../testdata/golden/*.json")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("../../testdata/golden/*/*.json")
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, more...)
	if len(paths) == 0 {
		t.Fatal("no fixtures in testdata/golden")
	}
	var out []*redistest.Fixture
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fx := &redistest.Fixture{}
		if err := json.Unmarshal(b, fx); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, fx)
	}
	return out
}

// TestGoldenRedisCLI replays every captured cluster state and requires
// rcluster to print what redis-cli (or valkey-cli, on Valkey nodes) printed
// on it, byte for byte, on stdout and stderr, with the same exit code, in
// both TERM modes. The dialect follows the replayed entry node's INFO.
func TestGoldenRedisCLI(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		tool := "redis-cli-7.0"
		if fx.CLI != "" {
			tool = strings.ReplaceAll(fx.CLI, " ", "-")
		}
		for _, r := range fx.Runs {
			name := tool + "/" + fx.Scenario + "/" + strings.Join(r.Args, "_") + "/" + r.Term
			t.Run(name, func(t *testing.T) {
				ios, _, out, errOut := iostreams.Test()
				ios.Color = iostreams.ColorFromEnv(func(k string) string {
					if k == "TERM" {
						return r.Term
					}
					return ""
				})
				args := append([]string(nil), r.Args...)
				if r.Password != "" {
					args = append([]string{"-a", r.Password}, args...)
				}
				f := &factory{IO: ios, Getenv: func(string) string { return "" }, NewDialer: replayDialer(fx)}
				code := run(args, f)
				wantOut, wantExit := onPurpose(fx.Scenario, r)
				if code != wantExit {
					t.Errorf("exit code %d, redis-cli %d (rcluster on purpose: %d)", code, r.Exit, wantExit)
				}
				if got := out.String(); got != wantOut {
					t.Errorf("stdout differs from redis-cli's (with rcluster's additions)\n--- rcluster\n%s\n--- want\n%s", got, wantOut)
				}
				if got := errOut.String(); got != r.Stderr {
					t.Errorf("stderr differs from redis-cli's\n--- rcluster\n%q\n--- redis-cli\n%q", got, r.Stderr)
				}
			})
		}
	}
}

// onPurpose is redis-cli's stdout and exit code for run, with what
// rcluster adds on purpose where redis-cli is silent (docs/compat.md):
// check reports the keys a master holds in a slot it does not own
// (scenario multi-owner: slot 200's keys on the entry node), unless
// --cluster-search-multiple-owners reports them redis-cli's way.
func onPurpose(scenario string, r *redistest.FixtureRun) (stdout string, exit int) {
	if scenario != "multi-owner" || r.Args[0] != "check" || slices.Contains(r.Args, "--cluster-search-multiple-owners") {
		return r.Stdout, r.Exit
	}
	after := ">>> Check for open slots...\n"
	line := "[WARNING] Node " + r.Args[1] + " has keys in slots it does not own: [200].\n"
	if r.Term != "dumb" {
		after = "\x1b[29;1m" + after + "\x1b[0m"
		line = "\x1b[31;1m" + line + "\x1b[0m"
	}
	return strings.Replace(r.Stdout, after, after+line, 1), 1
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestOutputWriteErrorExits1 runs a check that succeeds on a healthy
// cluster, with a stdout that cannot be written: the run fails (exit 1)
// and says why on stderr, in text and in JSON.
func TestOutputWriteErrorExits1(t *testing.T) {
	var healthy *redistest.Fixture
	for _, fx := range loadFixtures(t) {
		if fx.Scenario == "healthy-3" && fx.CLI == "" {
			healthy = fx
		}
	}
	if healthy == nil {
		t.Fatal("no healthy-3 fixture")
	}
	for _, r := range healthy.Runs {
		if r.Exit != 0 || len(r.Args) == 0 || r.Args[0] != "check" {
			continue
		}
		for _, extra := range [][]string{nil, {"-o", "json"}} {
			ios, _, _, errOut := iostreams.Test()
			ios.Out = failingWriter{}
			f := &factory{IO: ios, Getenv: func(string) string { return "" }, NewDialer: replayDialer(healthy)}
			args := append(append([]string(nil), r.Args...), extra...)
			if code := run(args, f); code != ExitFailure || !strings.Contains(errOut.String(), "no space left on device") {
				t.Errorf("%v: exit %d, stderr %q; want exit 1 and the write error", args, code, errOut.String())
			}
		}
		return
	}
	t.Fatal("no successful check run in the healthy-3 fixture")
}

// TestDialectForced replays the same Valkey and Redis states with
// --dialect: the forced words win over the entry node's server_name.
func TestDialectForced(t *testing.T) {
	replayed := map[string]bool{}
	for _, fx := range loadFixtures(t) {
		if fx.Scenario != "healthy-3x1-keys" {
			continue
		}
		replayed[fx.CLI] = true
		entry := ""
		for _, r := range fx.Runs {
			if len(r.Args) == 2 && r.Args[0] == "info" {
				entry = r.Args[1]
			}
		}
		for dialect, want := range map[string]string{
			"redis":  "[OK] 200 keys in 3 masters.\n",
			"valkey": "[OK] 200 keys in 3 primaries.\n",
		} {
			ios, _, out, _ := iostreams.Test()
			f := &factory{IO: ios, Getenv: func(string) string { return "" }, NewDialer: replayDialer(fx)}
			if code := run([]string{"--dialect", dialect, "info", entry}, f); code != 0 || !strings.Contains(out.String(), want) {
				t.Errorf("%s fixture, --dialect %s: exit %d, no %q in\n%s", fx.CLI, dialect, code, want, out.String())
			}
		}
	}
	if !replayed["valkey-cli 8.0.1"] || !replayed[""] {
		t.Errorf("healthy-3x1-keys replayed from %v, want redis-cli 7.0's and valkey-cli 8.0.1's", replayed)
	}
}
