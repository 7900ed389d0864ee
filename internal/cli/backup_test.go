package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
)

var backupWriting = regexp.MustCompile(`SYNC sent to (master|primary), writing (\d+) bytes to '([^']*)'`)

// backupRun runs one tool's backup into dir and returns its output with
// dir replaced by DIR and the RDB sizes by N, after checking that every
// RDB file has the size announced.
func backupRun(t *testing.T, tool func(*testing.T, string, string, []string, ...string) result, term string, global []string, addr, dir string) result {
	t.Helper()
	r := tool(t, "", term, global, "backup", addr, dir)
	if r.code == 0 {
		for _, m := range backupWriting.FindAllStringSubmatch(r.stderr, -1) {
			fi, err := os.Stat(m[3])
			if err != nil || strconv.FormatInt(fi.Size(), 10) != m[2] {
				t.Errorf("%s: %v, size announced %s", m[3], err, m[2])
			}
		}
	}
	dir = strings.TrimSuffix(dir, "/")
	r.stdout = strings.ReplaceAll(r.stdout, dir, "DIR")
	r.stderr = strings.ReplaceAll(r.stderr, dir, "DIR")
	r.stderr = backupWriting.ReplaceAllString(r.stderr, "SYNC sent to $1, writing N bytes to '$3'")
	return r
}

// backupFiles lists the names in dir and returns nodes.json.
func backupFiles(t *testing.T, dir string) ([]string, []byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	nodes, err := os.ReadFile(filepath.Join(dir, "nodes.json"))
	if err != nil {
		t.Fatal(err)
	}
	return names, nodes
}

// backupCompare runs both tools into fresh directories and compares output
// and files; it returns rcluster's directory.
func backupCompare(t *testing.T, b *redistest.Build, term string, global []string, addr string, suffix string) string {
	t.Helper()
	dirA, dirB := t.TempDir(), t.TempDir()
	want := backupRun(t, buildCLI(b), term, global, addr, dirA+suffix)
	got := backupRun(t, runRCluster, term, global, addr, dirB+suffix)
	sameAsRedisCLI(t, "backup (TERM="+term+")", got, want)
	namesA, jsonA := backupFiles(t, dirA)
	namesB, jsonB := backupFiles(t, dirB)
	if !slices.Equal(namesA, namesB) {
		t.Errorf("files %q, redis-cli wrote %q", namesB, namesA)
	}
	if !bytes.Equal(jsonA, jsonB) {
		t.Errorf("nodes.json differs\n--- rcluster\n%s\n--- redis-cli\n%s", jsonB, jsonA)
	}
	return dirB
}

// backupKeys counts the keys of the RDB files in dir with redis-check-rdb.
func backupKeys(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.rdb"))
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("REDIS0")) {
			t.Fatalf("%s is not an RDB file (%v)", f, err)
		}
		out, err := exec.Command("redis-check-rdb", f).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-check-rdb %s: %v\n%s", f, err, out)
		}
		m := regexp.MustCompile(`(\d+) keys read`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("redis-check-rdb %s: no key count\n%s", f, out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	return total
}

// buildCLI runs the build's CLI as backupRun's tool.
func buildCLI(b *redistest.Build) func(*testing.T, string, string, []string, ...string) result {
	return func(t *testing.T, stdin, term string, global []string, args ...string) result {
		t.Helper()
		return runBuildCLI(t, b, stdin, term, global, args...)
	}
}

// rdbKeysCheckable tells whether Debian's redis-check-rdb reads the build's
// RDB files (Redis 7.2 and Valkey 8 write RDB version 11, which it does not
// know).
func rdbKeysCheckable(b *redistest.Build) bool {
	_, err := exec.LookPath("redis-check-rdb")
	return err == nil && b == redistest.Redis
}

func TestBackupLikeRedisCLI(t *testing.T) {
	t.Parallel()
	eachBuild(t, backupLikeCLI)
}

func backupLikeCLI(t *testing.T, b *redistest.Build) {
	t.Parallel()
	servers := redistest.StartCluster(t, redistest.Options{Count: 6, Build: b}, 1)
	redistest.LoadKeys(t, servers, 500, "bk")
	a := servers[0].Addr()

	dir := backupCompare(t, b, "dumb", nil, a, "")
	if rdbKeysCheckable(b) {
		if n := backupKeys(t, dir); n != 500 {
			t.Errorf("the RDB files hold %d keys, want 500", n)
		}
	}
	backupCompare(t, b, "xterm-256color", nil, a, "/")

	// Open slots: the check fails, every node gets "cluster_errors" and the
	// migrating and importing slots are listed.
	var masters []*redistest.Server
	ids := map[*redistest.Server]string{}
	for _, s := range servers {
		me, err := s.Myself()
		if err != nil {
			t.Fatal(err)
		}
		if me.HasFlag("master") {
			masters = append(masters, s)
			ids[s] = me.ID
		}
	}
	src, dst := masters[0], masters[1]
	me, err := src.Myself()
	if err != nil {
		t.Fatal(err)
	}
	slots := me.SlotNumbers()[:2]
	for _, slot := range slots {
		if _, err := src.Do("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dst.Do("CLUSTER", "SETSLOT", slots[0], "IMPORTING", ids[src]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []*redistest.Server{src, dst} {
			for _, slot := range slots {
				s.Do("CLUSTER", "SETSLOT", slot, "STABLE")
			}
		}
	})
	dir = backupCompare(t, b, "xterm-256color", nil, a, "")
	// Valkey 8 replicates the slot states to the replicas: theirs count too.
	errors := `"cluster_errors": 2`
	if b == redistest.Valkey8 {
		errors = `"cluster_errors": 4`
	}
	if _, nodes := backupFiles(t, dir); !bytes.Contains(nodes, []byte(errors)) ||
		!bytes.Contains(nodes, []byte(`"importing": {"`+strconv.Itoa(slots[0])+`": "`+ids[src]+`"}`)) {
		t.Errorf("nodes.json does not show the open slots:\n%s", nodes)
	}

	// A missing directory: redis-cli fails on the first RDB file, rcluster
	// creates it and writes what redis-cli writes into an existing one.
	dirA := t.TempDir()
	want := runBuildCLI(t, b, "", "dumb", nil, "backup", a, dirA+"/missing")
	if want.code != 1 || !strings.Contains(want.stderr, "': No such file or directory\n") {
		t.Errorf("%s into a missing directory: exit %d, stderr %q", b.CLI, want.code, want.stderr)
	}
	okWant := backupRun(t, buildCLI(b), "dumb", nil, a, dirA)
	dirB := filepath.Join(t.TempDir(), "missing", "sub")
	got := backupRun(t, runRCluster, "dumb", nil, a, dirB)
	sameAsRedisCLI(t, "backup into a missing directory", got, okWant)
	namesA, jsonA := backupFiles(t, dirA)
	namesB, jsonB := backupFiles(t, dirB)
	if !slices.Equal(namesA, namesB) || !bytes.Equal(jsonA, jsonB) {
		t.Errorf("backup into a missing directory: files %q, want %q; nodes.json equal: %v", namesB, namesA, bytes.Equal(jsonA, jsonB))
	}

	// Existing files are truncated (redis-cli would keep the old tail).
	junk := bytes.Repeat([]byte("junk"), 1<<18)
	for _, name := range namesB {
		if err := os.WriteFile(filepath.Join(dirB, name), junk, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	backupRun(t, runRCluster, "dumb", nil, a, dirB) // checks the sizes
	if _, nodes := backupFiles(t, dirB); !bytes.Equal(nodes, jsonA) {
		t.Errorf("nodes.json over a longer file:\n%s", nodes)
	}

	// Argument errors.
	for _, args := range [][]string{
		{"backup", a},
		{"backup", a, dirA, "extra"},
		{"backup", servers[0].Host, strconv.Itoa(servers[0].Port)},
	} {
		bothToolsOn(t, b, "dumb", nil, args...)
	}
	unreachableLikeCLI(t, b, nil, "backup", "127.0.0.1:1", dirA)
}

func TestBackupWithPassword(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 3, Password: "bkpw"})
	redistest.Create(t, servers, 0)
	redistest.LoadKeys(t, servers, 50, "bkpw")
	global := []string{"-a", "bkpw"}
	dir := backupCompare(t, redistest.Redis, "dumb", global, servers[1].Addr(), "")
	if _, err := exec.LookPath("redis-check-rdb"); err == nil {
		if n := backupKeys(t, dir); n != 50 {
			t.Errorf("the RDB files hold %d keys, want 50", n)
		}
	}
}

// backupFakeNode is a one-node "cluster" that answers what the cluster
// manager sends (PING, INFO, CLUSTER NODES) and answers SYNC with sync,
// so that the transfers real servers never use can be compared with
// redis-cli's.
func backupFakeNode(t *testing.T, sync func(w io.Writer)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	nodes := fmt.Sprintf("0123456789abcdef0123456789abcdef01234567 127.0.0.1:%d@%d myself,master - 0 0 7 connected 0-16383\n", port, port+10000)
	bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					var args []string
					if n, ok := strings.CutPrefix(line, "*"); ok {
						count, _ := strconv.Atoi(n)
						for i := 0; i < count; i++ {
							if _, err := r.ReadString('\n'); err != nil { // $len
								return
							}
							a, err := r.ReadString('\n')
							if err != nil {
								return
							}
							args = append(args, strings.TrimRight(a, "\r\n"))
						}
					} else {
						args = strings.Fields(line)
					}
					if len(args) == 0 {
						continue
					}
					switch strings.ToUpper(strings.Join(args, " ")) {
					case "PING":
						io.WriteString(c, "+PONG\r\n")
					case "INFO":
						io.WriteString(c, bulk("# Cluster\r\ncluster_enabled:1\r\n"))
					case "CLUSTER NODES":
						io.WriteString(c, bulk(nodes))
					case "SYNC":
						sync(c)
						return
					default:
						io.WriteString(c, "-ERR unknown command\r\n")
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func TestBackupTransfersLikeRedisCLI(t *testing.T) {
	t.Parallel()
	redistest.Require(t)
	payload := "REDIS0010" + strings.Repeat("x", 10000)
	mark := strings.Repeat("m", 40)
	cases := []struct {
		name   string
		sync   func(w io.Writer)
		stderr string // the last line of stderr
	}{
		{"length after keep-alives", func(w io.Writer) {
			io.WriteString(w, "\n\n\n")
			fmt.Fprintf(w, "$%d\r\n%s", len(payload), payload)
		}, "Transfer finished with success.\n"},
		{"EOF mark", func(w io.Writer) {
			io.WriteString(w, "\n$EOF:"+mark+"\r\n")
			for i := 0; i < len(payload); i += 999 { // in pieces
				io.WriteString(w, payload[i:min(i+999, len(payload))])
			}
			io.WriteString(w, mark)
		}, "Transfer finished with success after 10009 bytes\n"},
		{"refused", func(w io.Writer) { io.WriteString(w, "-ERR no SYNC for you\r\n") }, "SYNC with master failed: -ERR no SYNC for you\r\n"},
		{"cut short", func(w io.Writer) { fmt.Fprintf(w, "$%d\r\n%s", len(payload), payload[:100]) }, "I/O Error reading RDB payload from socket\n"},
		{"no header", func(w io.Writer) {}, "Error reading bulk length while SYNCing\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := backupFakeNode(t, tc.sync)
			dirA, dirB := t.TempDir(), t.TempDir()
			want := backupRun(t, runRedisCLI, "dumb", nil, addr, dirA)
			got := backupRun(t, runRCluster, "dumb", nil, addr, dirB)
			sameAsRedisCLI(t, tc.name, got, want)
			if !strings.HasSuffix(got.stderr, tc.stderr) {
				t.Errorf("stderr %q, want it to end with %q", got.stderr, tc.stderr)
			}
			a, _ := filepath.Glob(filepath.Join(dirA, "*"))
			b, _ := filepath.Glob(filepath.Join(dirB, "*"))
			if len(a) != len(b) {
				t.Fatalf("files %q, redis-cli wrote %q", b, a)
			}
			for i := range a {
				x, _ := os.ReadFile(a[i])
				y, _ := os.ReadFile(b[i])
				if filepath.Base(a[i]) != filepath.Base(b[i]) || !bytes.Equal(x, y) {
					t.Errorf("%s (%d bytes) differs from redis-cli's %s (%d bytes)", b[i], len(y), a[i], len(x))
				}
			}
		})
	}
}
