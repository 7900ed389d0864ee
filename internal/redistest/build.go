package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Build is a server program and its CLI: Debian's redis in PATH, or one of
// the builds in the shared servers directory (see ServersDir).
type Build struct {
	Name   string // "redis", "redis-7.2.3", "valkey-8.0.1"
	Server string // the server program: a name looked up in PATH, or a path
	CLI    string // its --cluster tool
	// dir is the build's folder in the shared servers directory ("" for
	// programs in PATH).
	dir string
}

// The builds the tests run against.
var (
	// Redis is redis-server and redis-cli in PATH (Debian's 7.0).
	Redis = &Build{Name: "redis", Server: ServerBinary, CLI: CLIBinary}
	// Redis72 is Redis 7.2.3 from the shared servers directory.
	Redis72 = &Build{Name: "redis-7.2.3", Server: "redis-server", CLI: "redis-cli", dir: "redis-7.2.3"}
	// Valkey8 is Valkey 8.0.1 from the shared servers directory.
	Valkey8 = &Build{Name: "valkey-8.0.1", Server: "valkey-server", CLI: "valkey-cli", dir: "valkey-8.0.1"}
)

// ServersEnv names a directory that holds the shared builds
// (redis-7.2.3/, valkey-8.0.1/); by default it is the first shared/servers
// found in the module root's parent directories (../shared/servers in CI).
const ServersEnv = "RCLUSTER_SERVERS"

// ServersDir returns the shared servers directory, or "" when none is found.
func ServersDir() string {
	if d := os.Getenv(ServersEnv); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "shared", "servers")
		if fi, err := os.Stat(cand); err == nil && fi.IsDir() {
			return cand
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

func (b *Build) path(prog string) (string, error) {
	if b.dir == "" {
		return exec.LookPath(prog)
	}
	dir := ServersDir()
	if dir == "" {
		return "", fmt.Errorf("%s: no shared servers directory (set %s, or put it at ../shared/servers)", b.Name, ServersEnv)
	}
	return exec.LookPath(filepath.Join(dir, b.dir, prog))
}

// ServerPath is the path of the build's server program.
func (b *Build) ServerPath() (string, error) { return b.path(b.Server) }

// CLIPath is the path of the build's CLI.
func (b *Build) CLIPath() (string, error) { return b.path(b.CLI) }

// Available reports whether the build's server and CLI are both there; the
// error names the missing one.
func (b *Build) Available() error {
	for _, p := range []string{b.Server, b.CLI} {
		if _, err := b.path(p); err != nil {
			return fmt.Errorf("%s %s not found: %w", b.Name, p, err)
		}
	}
	return nil
}

// Require skips the test when the build is missing, unless
// RCLUSTER_REQUIRE_REDIS=1, in which case it fails the test.
func (b *Build) Require(t testing.TB) {
	t.Helper()
	if err := b.Available(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redistest: %v (and %s=1)", err, RequireEnv)
		}
		t.Skipf("redistest: %v", err)
	}
}

// MustCLI returns the path of the build's CLI, failing the test when it is
// missing (call Require first to skip instead).
func (b *Build) MustCLI(t testing.TB) string {
	t.Helper()
	p, err := b.CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (o Options) build() *Build {
	if o.Build == nil {
		return Redis
	}
	return o.Build
}

// valkeyPhrases turns phrases of redis-cli's output into valkey-cli 8's,
// as measured on valkey-cli 8.0.1 (written here, apart from
// internal/report, so that tests do not check rcluster's words with
// rcluster's own table).
var valkeyPhrases = strings.NewReplacer(
	"Master[", "Primary[",
	"optimize slaves allocation", "optimize replicas allocation",
	"Some slaves are in the same host as their master", "Some replicas are in the same host as their primary",
	"Some slaves of the same master", "Some replicas of the same primary",
	"Redis Cluster requires at least 3 master nodes", "Valkey Cluster requires at least 3 primary nodes",
	" slaves.", " replicas.",
	" masters.", " primaries.",
	"slave of unknown", "replica of unknown",
	"Could not connect to Redis at", "Could not connect to Valkey at",
	"No such master node", "No such primary node",
	"No such master ID", "No such primary ID",
	"Automatically selected master", "Automatically selected primary",
	"not a master, please retry", "not a primary, please retry",
	"redis-cli can't fix", "valkey-cli can't fix",
	"redis-node-", "valkey-node-",
)

// CLIWords returns a phrase of redis-cli's output as the build's CLI
// prints it.
func (b *Build) CLIWords(phrase string) string {
	if b == Valkey8 {
		return valkeyPhrases.Replace(phrase)
	}
	return phrase
}
