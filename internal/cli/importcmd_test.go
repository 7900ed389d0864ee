package cli

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// importFixture is a cluster (with a password, so that MIGRATE carries
// AUTH) and a standalone source.
type importFixture struct {
	servers []*redistest.Server
	src     *redistest.Server
	global  []string
}

// reset empties the cluster and the source, then writes n keys "imp:i" to
// the source in one transaction (so that the source's hash table, hence its
// SCAN order, is the same after every reset: no timer-driven rehashing
// happens in the middle) and the busy keys to both
// the source and the cluster, with different values.
func (fx *importFixture) reset(t *testing.T, n int, busy []string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range append([]*redistest.Server{fx.src}, fx.servers...) {
		if importIsReplica(t, s) {
			continue
		}
		if _, err := s.Do("FLUSHALL"); err != nil {
			t.Fatalf("%s: FLUSHALL: %v", s.Addr(), err)
		}
	}
	pipe := fx.src.Client().TxPipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, redistest.KeyName("imp", i), redistest.KeyValue("imp", i), 0)
	}
	for _, k := range busy {
		pipe.Set(ctx, k, "src:"+k, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := redistest.SetKeys(fx.servers, busy, func(k string) string { return "dst:" + k }); err != nil {
		t.Fatal(err)
	}
	// The source's hash table may still be growing (rehashing) after the
	// transaction; SCAN's order depends on how far that went, so wait for
	// the end of it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stats, err := fx.src.DoString("DEBUG", "HTSTATS", "0")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stats, "rehashing target") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the source's hash table is still rehashing")
		}
	}
}

// snapshot lists every key and value of the masters and of the source.
func (fx *importFixture) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	for i, s := range append([]*redistest.Server{fx.src}, fx.servers...) {
		if importIsReplica(t, s) {
			continue
		}
		keys, err := s.Client().Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			v, err := s.Client().Get(ctx, k).Result()
			if err != nil {
				t.Fatalf("%s: GET %s: %v", s.Addr(), k, err)
			}
			lines = append(lines, fmt.Sprintf("%d %s=%s", i, k, v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func importIsReplica(t *testing.T, s *redistest.Server) bool {
	t.Helper()
	v, err := s.Do("ROLE")
	if err != nil {
		t.Fatalf("%s: ROLE: %v", s.Addr(), err)
	}
	return strings.HasPrefix(fmt.Sprint(v), "[slave")
}

var importMigrateCalls = regexp.MustCompile(`cmdstat_migrate:calls=(\d+)`)

func (fx *importFixture) migrateCalls(t *testing.T) int {
	t.Helper()
	info, err := fx.src.DoString("INFO", "commandstats")
	if err != nil {
		t.Fatal(err)
	}
	m := importMigrateCalls.FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestImportLikeRedisCLI(t *testing.T) {
	t.Parallel()
	eachBuild(t, importLikeCLI)
}

func importLikeCLI(t *testing.T, b *redistest.Build) {
	t.Parallel()
	fx := &importFixture{
		servers: redistest.Start(t, redistest.Options{Count: 6, Password: "clusterpw", Build: b}),
		global:  []string{"-a", "clusterpw", "--no-auth-warning"},
	}
	redistest.Create(t, fx.servers, 1)
	fx.src = redistest.Start(t, redistest.Options{Count: 1, Standalone: true, Build: b})[0]
	a, from := fx.servers[0].Addr(), fx.src.Addr()
	busy := []string{"imp:5", "imp:17", "imp:250"}

	cases := []struct {
		name     string
		keys     int
		busy     []string
		flags    []string
		rcluster []string // rcluster's own options, on top of flags
		term     string
		code     int
	}{
		{"copy stops at BUSYKEY", 300, busy, []string{"--cluster-copy"}, nil, "dumb", 1},
		{"copy replace", 300, busy, []string{"--cluster-copy", "--cluster-replace"}, nil, "xterm-256color", 0},
		{"move stops at BUSYKEY", 300, busy, nil, nil, "xterm-256color", 1},
		{"move replace", 300, busy, []string{"--cluster-replace"}, nil, "dumb", 0},
		{"move", 300, nil, nil, nil, "dumb", 0},
		{"move one key per MIGRATE", 300, nil, nil, []string{"--pipeline", "1"}, "dumb", 0},
		{"move in big batches", 300, nil, nil, []string{"--pipeline", "500"}, "dumb", 0},
		{"move BUSYKEY big batches", 300, busy, nil, []string{"--pipeline", "500"}, "dumb", 1},
		// Several SCAN replies. The source is not changed by a copy, so its
		// SCAN order stays the same whatever the timing.
		{"copy many", 2500, nil, []string{"--cluster-copy", "--cluster-timeout", "20000"}, nil, "dumb", 0},
		{"copy many BUSYKEY", 2500, []string{"imp:2100"}, []string{"--cluster-copy"}, nil, "dumb", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"import", a, "--cluster-from", from}, tc.flags...)
			fx.reset(t, tc.keys, tc.busy)
			want := runBuildCLI(t, b, "", tc.term, fx.global, args...)
			wantState := fx.snapshot(t)
			fx.reset(t, tc.keys, tc.busy)
			if _, err := fx.src.Do("CONFIG", "RESETSTAT"); err != nil {
				t.Fatal(err)
			}
			got := runRCluster(t, "", tc.term, fx.global, append(args, tc.rcluster...)...)
			sameAsRedisCLI(t, tc.name, got, want)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d", got.code, tc.code)
			}
			if gotState := fx.snapshot(t); gotState != wantState {
				t.Errorf("keys after the import differ from redis-cli's run\n--- rcluster\n%s\n--- redis-cli\n%s", gotState, wantState)
			}
			if tc.code == 0 && tc.busy == nil && !strings.Contains(strings.Join(tc.flags, " "), "copy") {
				redistest.VerifyKeys(t, fx.servers, tc.keys, "imp")
			}
			// Batches: far fewer MIGRATE calls than keys (a batch per master
			// is cut short at the end of every SCAN reply and at every key
			// sent alone).
			pipeline := 10
			if len(tc.rcluster) == 2 {
				pipeline, _ = strconv.Atoi(tc.rcluster[1])
			}
			moved := strings.Count(got.stdout, "Migrating ")
			if calls := fx.migrateCalls(t); calls > moved/pipeline+3*(tc.keys/1000+1)+2*len(tc.busy) {
				t.Errorf("%d MIGRATE calls for %d keys with batches of %d", calls, moved, pipeline)
			}
		})
	}

	// Refusals and errors.
	fx.reset(t, 3, nil)
	for _, args := range [][]string{
		{"import", a, "--cluster-from", fx.servers[1].Addr()}, // a cluster node
		{"import", a, "--cluster-from", "127.0.0.1:1"},
		{"import", a},
		{"import", a, "--cluster-from", "foo"},
		{"import", a, "--cluster-from", ""},
		{"import", a, "--cluster-from", "127.0.0.1:0"},
		{"import", fx.servers[0].Host, strconv.Itoa(fx.servers[0].Port), "--cluster-from", from},
		{"import", "--cluster-from", from},
	} {
		bothToolsOn(t, b, "dumb", fx.global, args...)
	}
	unreachableLikeCLI(t, b, fx.global, "import", "nohost", "--cluster-from", from)
	// Without the cluster's password: the load fails.
	bothToolsOn(t, b, "dumb", nil, "import", a, "--cluster-from", from)
}

func TestImportSourceWithPassword(t *testing.T) {
	t.Parallel()
	fx := &importFixture{servers: redistest.Start(t, redistest.Options{Count: 3})}
	redistest.Create(t, fx.servers, 0)
	fx.src = redistest.Start(t, redistest.Options{Count: 1, Standalone: true, Password: "srcpw"})[0]
	if _, err := fx.src.Do("ACL", "SETUSER", "bob", "on", ">bobpw", "~*", "+@all"); err != nil {
		t.Fatal(err)
	}
	a, from := fx.servers[0].Addr(), fx.src.Addr()
	for _, flags := range [][]string{
		nil, // NOAUTH from INFO
		{"--cluster-from-pass", "wrong"},
		{"--cluster-from-user", "bob", "--cluster-from-pass", "nope"},
		{"--cluster-from-user", "bob"}, // a user without a password sends no AUTH
		{"--cluster-from-pass", "srcpw", "--cluster-copy", "--cluster-replace"},
		{"--cluster-from-user", "bob", "--cluster-from-pass", "bobpw", "--cluster-copy", "--cluster-replace"},
	} {
		fx.reset(t, 20, nil)
		bothTools(t, "dumb", nil, append([]string{"import", a, "--cluster-from", from}, flags...)...)
	}

	// --from-askpass reads the password from stdin (redis-cli does too, but
	// rcluster prompts on stderr).
	fx.reset(t, 20, nil)
	got := runRCluster(t, "srcpw\n", "dumb", nil, "import", a, "--from", from, "--from-askpass")
	if got.code != 0 || got.stderr != "Please input import source node password: " || strings.Count(got.stdout, ": OK\n") != 20 {
		t.Errorf("--from-askpass: exit %d\n%s\nstderr %q", got.code, got.stdout, got.stderr)
	}
	redistest.VerifyKeys(t, fx.servers, 20, "imp")
	if strings.Contains(got.stdout+got.stderr, "srcpw") {
		t.Error("the source password was printed")
	}
}
