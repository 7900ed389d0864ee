package local

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

func TestConfigText(t *testing.T) {
	got := Config{Host: "127.0.0.2", Port: 30001, Dir: "/x/30001"}.Text()
	want := `# Written by rcluster local up; rewritten at every start.
port 30001
bind 127.0.0.2
daemonize yes
dir "/x/30001"
pidfile "/x/30001/redis.pid"
logfile "/x/30001/redis.log"
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
save 3600 1
appendonly no
`
	if got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
	got = Config{Host: "127.0.0.1", Port: 1, Dir: "/d", NodeTimeoutMS: 900, Password: `p"w`}.Text()
	for _, line := range []string{"cluster-node-timeout 900\n", `requirepass "p\"w"` + "\n", `masterauth "p\"w"` + "\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("config lacks %q:\n%s", line, got)
		}
	}
}

func TestWriteConfigStartsClean(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "30001")
	old := func() {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(dir, "appendonlydir"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{NodesFile, PidFile, LogFile, DataFile, "appendonlydir/x.aof"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	}
	old()
	c := Config{Host: "127.0.0.1", Port: 30001, Dir: dir, Password: "secret"}
	path, err := WriteConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != c.Text() {
		t.Fatalf("%s = %q, %v", path, b, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("a config with a password has mode %v, want 0600", fi.Mode().Perm())
	}
	for _, name := range []string{NodesFile, PidFile, DataFile, "appendonlydir"} {
		if exists(name) {
			t.Errorf("%s of the last run was not removed", name)
		}
	}
	if !exists(LogFile) {
		t.Error("the log was removed")
	}
	if HasClusterConfig(dir) {
		t.Error("HasClusterConfig after a fresh start")
	}

	// KeepData keeps the membership and the keys; the pid file still goes.
	old()
	c.KeepData = true
	if _, err := WriteConfig(c); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{NodesFile, DataFile, "appendonlydir/x.aof", LogFile} {
		if !exists(name) {
			t.Errorf("KeepData removed %s", name)
		}
	}
	if exists(PidFile) {
		t.Error("KeepData kept the pid file")
	}
	if !HasClusterConfig(dir) {
		t.Error("HasClusterConfig with a nodes.conf: false")
	}
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadState(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadState of an empty dir: %v, want ErrNotExist", err)
	}
	s := &State{Dir: dir, Server: "/usr/bin/redis-server", Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Nodes: []Node{{Host: "127.0.0.1", Port: 30001, Pid: 42, Dir: filepath.Join(dir, "30001")}}}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir != s.Dir || got.Server != s.Server || !got.Started.Equal(s.Started) || len(got.Nodes) != 1 || got.Nodes[0] != s.Nodes[0] {
		t.Errorf("LoadState = %+v, want %+v", got, s)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != StateFileName {
		t.Errorf("dir holds %v, want only %s", entries, StateFileName)
	}
	for range 2 {
		if err := RemoveState(dir); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(StatePath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file still there: %v", err)
	}
	if err := os.WriteFile(StatePath(dir), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(dir); err == nil || !strings.Contains(err.Error(), StateFileName) {
		t.Errorf("LoadState of a broken file: %v", err)
	}
}

func TestBusyPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	busy := BusyPorts("127.0.0.1", []int{port})
	if len(busy) == 0 || busy[0] != (BusyPort{Port: port}) {
		t.Errorf("BusyPorts(%d) = %v, want the port itself first", port, busy)
	}
	if port > BusPortOffset {
		busy = BusyPorts("127.0.0.1", []int{port - BusPortOffset})
		if len(busy) == 0 || busy[len(busy)-1] != (BusyPort{Port: port, Bus: true}) {
			t.Errorf("BusyPorts(%d) = %v, want the bus port %d", port-BusPortOffset, busy, port)
		}
	}
}

func TestOwns(t *testing.T) {
	dir := t.TempDir()
	n := Node{Host: "127.0.0.1", Port: 47001, Pid: 1, Dir: dir}
	tests := []struct {
		info procInfo
		want Ownership
	}{
		{procInfo{cmdline: "/usr/bin/redis-server 127.0.0.1:47001 [cluster]", cwd: "/elsewhere"}, Ours},
		{procInfo{cmdline: "redis-server *:47001"}, Ours},
		{procInfo{cmdline: "/usr/bin/redis-server 127.0.0.1:9999 [cluster]", cwd: dir}, Ours},
		{procInfo{cmdline: "valkey-server 127.0.0.1:47001 [cluster]"}, Ours},
		{procInfo{cmdline: "/usr/bin/redis-server 127.0.0.1:147001 [cluster]", cwd: "/elsewhere"}, Foreign},
		{procInfo{cmdline: "/usr/bin/redis-server 127.0.0.1:9999 [cluster]", cwd: "/elsewhere"}, Foreign},
		{procInfo{cmdline: "sleep 127.0.0.1:47001", cwd: dir}, Foreign},
		{procInfo{cmdline: "/bin/redis-server-wrapper 127.0.0.1:47001"}, Foreign},
		{procInfo{cmdline: "", cwd: dir}, Foreign},
	}
	for _, tt := range tests {
		if got := owns(n, tt.info); got != tt.want {
			t.Errorf("owns(%+v) = %v, want %v", tt.info, got, tt.want)
		}
	}
}

func TestCheckOtherProcesses(t *testing.T) {
	self := Node{Host: "127.0.0.1", Port: 47001, Pid: os.Getpid(), Dir: t.TempDir()}
	if got := Check(self); got != Foreign {
		t.Errorf("Check(the test process) = %v, want %v", got, Foreign)
	}
	if res, err := Stop(self, time.Second); res != LeftAlone || err != nil {
		t.Errorf("Stop(the test process) = %v, %v; want LeftAlone", res, err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	gone := Node{Host: "127.0.0.1", Port: 47001, Pid: cmd.Process.Pid, Dir: self.Dir}
	if got := Check(gone); got != Gone {
		t.Errorf("Check(an exited pid) = %v, want %v", got, Gone)
	}
	if res, err := Stop(gone, time.Second); res != NotRunning || err != nil {
		t.Errorf("Stop(an exited pid) = %v, %v; want NotRunning", res, err)
	}
}

// freePorts returns n consecutive ports that, with their bus ports, can be
// listened on at 127.0.0.1 (11000-16999, below Linux's ephemeral range).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	for range 500 {
		base := 11000 + rand.IntN(5900)
		ports := make([]int, n)
		for i := range ports {
			ports[i] = base + i
		}
		if len(BusyPorts("127.0.0.1", ports)) == 0 {
			return ports
		}
	}
	t.Fatal("no free port range")
	return nil
}

func TestStartStop(t *testing.T) {
	redistest.Require(t)
	server, err := FindServer()
	if err != nil {
		t.Fatal(err)
	}
	port := freePorts(t, 1)[0]
	c := Config{Host: "127.0.0.1", Port: port, Dir: filepath.Join(t.TempDir(), strconv.Itoa(port))}
	n, err := Start(context.Background(), server, c, 15*time.Second)
	t.Cleanup(func() { _, _ = Stop(n, 5*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	if n.Pid <= 0 || n.Pid != readPid(filepath.Join(c.Dir, PidFile)) {
		t.Errorf("pid %d, pid file says %d", n.Pid, readPid(filepath.Join(c.Dir, PidFile)))
	}
	if got := Check(n); got != Ours {
		t.Fatalf("Check(started node) = %v, want %v", got, Ours)
	}
	if !ping(n.Addr()) {
		t.Error("the node does not answer PING")
	}
	// The same pid recorded for another node's directory and port is not ours.
	other := Node{Host: n.Host, Port: n.Port + 1, Pid: n.Pid, Dir: t.TempDir()}
	if got := Check(other); got != Foreign {
		t.Errorf("Check(pid of another node) = %v, want %v", got, Foreign)
	}
	if res, err := Stop(n, 10*time.Second); res != Stopped || err != nil {
		t.Fatalf("Stop = %v, %v; want Stopped", res, err)
	}
	if Alive(n.Pid) || ping(n.Addr()) {
		t.Error("the node still runs after Stop")
	}
	if res, err := Stop(n, time.Second); res != NotRunning || err != nil {
		t.Errorf("second Stop = %v, %v; want NotRunning", res, err)
	}
	for _, name := range []string{ConfigFile, LogFile} {
		if _, err := os.Stat(filepath.Join(c.Dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A node that cannot start makes StartAll stop the nodes it had started and
// leave no state file, quickly (the daemon's exit is seen in its log).
func TestStartAllCleansUpAfterFailure(t *testing.T) {
	redistest.Require(t)
	server, err := FindServer()
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	start := time.Now()
	st, err := StartAll(context.Background(), UpOptions{Server: server, Dir: dir, Host: "127.0.0.1", Ports: ports})
	if err == nil {
		StopAll(st)
		t.Fatal("StartAll succeeded with a busy port")
	}
	if !strings.Contains(err.Error(), strconv.Itoa(ports[1])) {
		t.Errorf("error %q does not name port %d", err, ports[1])
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the failure took %v", d)
	}
	first := Node{Host: "127.0.0.1", Port: ports[0], Dir: filepath.Join(dir, strconv.Itoa(ports[0]))}
	first.Pid = readPid(filepath.Join(first.Dir, PidFile))
	if first.Pid == 0 {
		// The pid file is removed by redis-server on a clean shutdown.
		if ping(first.Addr()) {
			t.Errorf("%s still answers", first.Addr())
		}
	} else if Check(first) != Gone {
		_, _ = Stop(first, 5*time.Second)
		t.Errorf("the first node (pid %d) was left running", first.Pid)
	}
	if _, err := os.Stat(StatePath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file left behind: %v", err)
	}
}

func TestStartAllRefusesRunningCluster(t *testing.T) {
	redistest.Require(t)
	server, err := FindServer()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, err := StartAll(context.Background(), UpOptions{Server: server, Dir: dir, Host: "127.0.0.1", Ports: freePorts(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { StopAll(st) })
	saved, err := LoadState(dir)
	if err != nil || len(saved.Nodes) != 1 || saved.Nodes[0] != st.Nodes[0] {
		t.Fatalf("state file %+v, %v; want %+v", saved, err, st)
	}
	if _, err := StartAll(context.Background(), UpOptions{Server: server, Dir: dir, Host: "127.0.0.1", Ports: freePorts(t, 1)}); !errors.Is(err, ErrRunning) {
		t.Errorf("second StartAll: %v, want ErrRunning", err)
	}
}
