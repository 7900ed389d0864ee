package cli

import (
	"errors"
	"fmt"
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

	"github.com/rcluster/rcluster/internal/local"
	"github.com/rcluster/rcluster/internal/redistest"
)

// freeLocalBase returns a base port such that n ports from it, and their
// cluster bus ports, are free on 127.0.0.1: ports 11000-16999 (bus ports
// 21000-26999), below Linux's ephemeral range so that outgoing connections
// do not take them, and away from the documented default 7000.
func freeLocalBase(t *testing.T, n int) int {
	t.Helper()
	for range 500 {
		base := 11000 + rand.IntN(6000-n)
		ports := make([]int, n)
		for i := range ports {
			ports[i] = base + i
		}
		if len(local.BusyPorts("127.0.0.1", ports)) == 0 {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// stopLocalOnCleanup stops whatever dir's state file records at the end of
// the test, so that a failing test leaves no redis-server behind.
func stopLocalOnCleanup(t *testing.T, dir string) {
	t.Cleanup(func() {
		if st, err := local.LoadState(dir); err == nil {
			local.StopAll(st)
		}
	})
}

func localRedisCLI(t *testing.T, port int, args ...string) string {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v: %s", args, err, out)
	}
	return string(out)
}

func TestLocalUpStatusDown(t *testing.T) {
	redistest.Require(t)
	dir := filepath.Join(t.TempDir(), "c")
	base := freeLocalBase(t, 6)
	stopLocalOnCleanup(t, dir)
	portArg := strconv.Itoa(base)

	out, errOut, code := runCLI(t, "local", "up", "--dir", dir, "--port", portArg)
	if code != 0 {
		t.Fatalf("local up: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		fmt.Sprintf("Starting 6 redis-server nodes on 127.0.0.1 ports %d-%d in %s\n", base, base+5, dir),
		">>> Performing hash slots allocation on 6 nodes...\n",
		"[OK] All 16384 slots covered.\n",
		fmt.Sprintf("\nThe local cluster is up on 127.0.0.1 ports %d-%d: 6 nodes, 1 replica(s) per master.\n", base, base+5),
		fmt.Sprintf("  rcluster check 127.0.0.1:%d\n", base),
		fmt.Sprintf("  redis-cli -c -p %d\n", base),
		"  rcluster local status --dir " + dir + "\n",
		"  rcluster local down --dir " + dir + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("local up output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("local up stderr: %q", errOut)
	}

	st, err := local.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 6 || st.Dir != dir {
		t.Fatalf("state %+v", st)
	}
	for i, n := range st.Nodes {
		if n.Port != base+i || n.Host != "127.0.0.1" || n.Dir != filepath.Join(dir, strconv.Itoa(base+i)) {
			t.Errorf("node %d recorded as %+v", i, n)
		}
		if local.Check(n) != local.Ours {
			t.Errorf("node %s (pid %d) does not run", n.Addr(), n.Pid)
		}
		conf, err := os.ReadFile(filepath.Join(n.Dir, local.ConfigFile))
		if err != nil || !strings.Contains(string(conf), "cluster-enabled yes\n") || !strings.Contains(string(conf), "daemonize yes\n") {
			t.Errorf("%s: %v\n%s", n.Dir, err, conf)
		}
	}
	// The cluster itself, seen by redis-cli.
	info := localRedisCLI(t, base, "cluster", "info")
	for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:6", "cluster_size:3", "cluster_slots_assigned:16384"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %s:\n%s", want, info)
		}
	}
	if got := localRedisCLI(t, base, "-c", "set", "greeting", "hello"); strings.TrimSpace(got) != "OK" {
		t.Errorf("SET through the cluster: %q", got)
	}

	out, errOut, code = runCLI(t, "local", "status", "--dir", dir)
	if code != 0 {
		t.Fatalf("local status: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, n := range st.Nodes {
		want := fmt.Sprintf("  %-21s pid %-8d running\n", n.Addr(), n.Pid)
		if !strings.Contains(out, want) {
			t.Errorf("local status lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{">>> Performing Cluster Check (using node 127.0.0.1:" + portArg + ")\n", "[OK] All 16384 slots covered.\n", "[OK] 1 keys in 3 masters.\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("local status lacks %q:\n%s", want, out)
		}
	}

	// A second up on the same directory starts nothing.
	other := freeLocalBase(t, 6)
	out, errOut, code = runCLI(t, "local", "up", "--dir", dir, "--port", strconv.Itoa(other))
	wantRunning := fmt.Sprintf("A local cluster is already running in %s (127.0.0.1:%d is up).\n"+
		"See it with: rcluster local status --dir %s\nStop it with: rcluster local down --dir %s\n"+
		"Or start another one beside it, in another directory and on other ports: rcluster local up --dir %s-2 --port %d\n",
		dir, base, dir, dir, dir, base+6)
	if code != 1 || errOut != wantRunning || out != "" {
		t.Errorf("second local up: exit %d, stdout %q, stderr %q\nwant stderr %q", code, out, errOut, wantRunning)
	}
	if local.CanListen("127.0.0.1", other) == false {
		t.Errorf("second local up left something on port %d", other)
	}

	out, errOut, code = runCLI(t, "local", "down", "--dir", dir)
	if code != 0 || errOut != "" {
		t.Fatalf("local down: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var want strings.Builder
	for _, n := range st.Nodes {
		fmt.Fprintf(&want, "Stopped %s (pid %d).\n", n.Addr(), n.Pid)
	}
	fmt.Fprintf(&want, "The local cluster in %s is down.\n", dir)
	fmt.Fprintf(&want, "The nodes' data (nodes.conf, dump.rdb) is kept in %s.\n", dir)
	fmt.Fprintf(&want, "  Start this cluster again, with its keys: rcluster local up --keep-data --dir %s --port %d\n", dir, base)
	fmt.Fprintf(&want, "  Start a fresh, empty one (wipes the data): rcluster local up --dir %s --port %d\n", dir, base)
	fmt.Fprintf(&want, "  Wipe it now: rm -rf %s\n", dir)
	if out != want.String() {
		t.Errorf("local down:\n%s\nwant:\n%s", out, want.String())
	}
	for _, n := range st.Nodes {
		// "Stopped" means gone: the ports are free for the next up.
		if local.Alive(n.Pid) || !local.CanListen(n.Host, n.Port) || !local.CanListen(n.Host, n.Port+local.BusPortOffset) {
			t.Errorf("%s (pid %d) still runs after down", n.Addr(), n.Pid)
		}
		// down removes only its state file.
		for _, name := range []string{local.ConfigFile, local.LogFile} {
			if _, err := os.Stat(filepath.Join(n.Dir, name)); err != nil {
				t.Errorf("down removed %s: %v", name, err)
			}
		}
	}
	if _, err := os.Stat(local.StatePath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file after down: %v", err)
	}

	out, errOut, code = runCLI(t, "local", "status", "--dir", dir)
	if code != 1 || out != "" || errOut != fmt.Sprintf("No local cluster in %s (no local.json). Start one with: rcluster local up --dir %s\n", dir, dir) {
		t.Errorf("status after down: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "local", "down", "--dir", dir)
	if code != 0 || out != fmt.Sprintf("No local cluster in %s: nothing to stop.\n", dir) || errOut != "" {
		t.Errorf("second down: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// --keep-data brings the stopped cluster back with its key.
	out, errOut, code = runCLI(t, "local", "up", "--dir", dir, "--port", portArg, "--keep-data")
	if code != 0 {
		t.Fatalf("local up --keep-data: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"[OK] 1 keys in 3 masters.\n", "[OK] All 16384 slots covered.\n",
		fmt.Sprintf("\nThe local cluster kept in %s is up again on 127.0.0.1 ports %d-%d: 6 nodes.\n", dir, base, base+5)} {
		if !strings.Contains(out, want) {
			t.Errorf("local up --keep-data lacks %q:\n%s", want, out)
		}
	}
	if got := localRedisCLI(t, base, "-c", "get", "greeting"); strings.TrimSpace(got) != "hello" {
		t.Errorf("GET greeting after --keep-data: %q", got)
	}
	if _, _, code = runCLI(t, "local", "down", "--dir", dir); code != 0 {
		t.Fatalf("down after --keep-data: exit %d", code)
	}

	// --keep-data on other ports than the kept data's changes nothing.
	out, errOut, code = runCLI(t, "local", "up", "--dir", dir, "--port", strconv.Itoa(base+3), "--keep-data")
	wantMixed := fmt.Sprintf("Nothing was started: in %s, the nodes of ports %d, %d, %d have the data of an earlier cluster but those of ports %d, %d, %d do not.\n"+
		"Give the --port and --nodes of the stopped cluster (\"rcluster local down\" printed them), or start a fresh cluster without --keep-data (it wipes the data).\n",
		dir, base+3, base+4, base+5, base+6, base+7, base+8)
	if code != 1 || out != "" || errOut != wantMixed {
		t.Errorf("local up --keep-data on other ports: exit %d, stdout %q\nstderr %q\nwant   %q", code, out, errOut, wantMixed)
	}
	if _, err := os.Stat(local.StatePath(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("state file after a refused up: %v", err)
	}

	// Without --keep-data the same directory and ports give a fresh, empty
	// cluster although its nodes held a key (issue 15).
	out, errOut, code = runCLI(t, "local", "up", "--dir", dir, "--port", portArg)
	if code != 0 {
		t.Fatalf("local up again: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for port := base; port < base+6; port++ {
		if got := localRedisCLI(t, port, "dbsize"); strings.TrimSpace(got) != "0" {
			t.Errorf("node %d has %s keys after a fresh up", port, strings.TrimSpace(got))
		}
	}
	if _, _, code = runCLI(t, "local", "down", "--dir", dir); code != 0 {
		t.Errorf("final down: exit %d", code)
	}
}

func TestLocalStatusNodeDown(t *testing.T) {
	redistest.Require(t)
	dir := t.TempDir()
	base := freeLocalBase(t, 3)
	stopLocalOnCleanup(t, dir)
	// --keep-data with nothing kept starts a fresh cluster.
	out, errOut, code := runCLI(t, "local", "up", "--dir", dir, "--port", strconv.Itoa(base), "--nodes", "3", "--replicas", "0", "--keep-data")
	if code != 0 {
		t.Fatalf("local up: exit %d\n%s\n%s", code, out, errOut)
	}
	if want := fmt.Sprintf("No data of an earlier cluster on ports %d-%d in %s: starting a fresh cluster.\n", base, base+2, dir); !strings.HasPrefix(out, want) {
		t.Errorf("local up --keep-data in an empty directory:\n%s\nwant it to start with %q", out, want)
	}
	st, err := local.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	victim := st.Nodes[1]
	if res, err := local.Stop(victim, 10*time.Second); res != local.Stopped || err != nil {
		t.Fatalf("stopping %s: %v %v", victim.Addr(), res, err)
	}
	out, _, code = runCLI(t, "local", "status", "--dir", dir)
	if code != 1 {
		t.Errorf("status with a node down: exit %d, want 1", code)
	}
	want := fmt.Sprintf("  %-21s pid %-8d not running\n", victim.Addr(), victim.Pid)
	if !strings.Contains(out, want) {
		t.Errorf("status lacks %q:\n%s", want, out)
	}
	out, errOut, code = runCLI(t, "local", "down", "--dir", dir)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%s (pid %d) was not running.\n", victim.Addr(), victim.Pid)) {
		t.Errorf("down: exit %d\n%s\n%s", code, out, errOut)
	}
}

// down signals only processes that are still the recorded redis-server: a
// recorded pid now used by another program, or by a redis-server of another
// directory and port, is left alone.
func TestLocalDownLeavesOtherProcesses(t *testing.T) {
	redistest.Require(t)
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Skip("no sleep(1):", err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	servers := redistest.Start(t, redistest.Options{Count: 1})
	serverInfo, err := servers[0].DoString("INFO", "server")
	if err != nil {
		t.Fatal(err)
	}
	var serverPid int
	for _, line := range strings.Split(serverInfo, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			serverPid, _ = strconv.Atoi(v)
		}
	}
	if serverPid == 0 {
		t.Fatalf("no process_id in INFO:\n%s", serverInfo)
	}

	dir := t.TempDir()
	base := freeLocalBase(t, 2)
	st := &local.State{Dir: dir, Server: "redis-server", Nodes: []local.Node{
		{Host: "127.0.0.1", Port: base, Pid: sleeper.Process.Pid, Dir: filepath.Join(dir, strconv.Itoa(base))},
		{Host: "127.0.0.1", Port: base + 1, Pid: serverPid, Dir: filepath.Join(dir, strconv.Itoa(base+1))},
	}}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	// A file of the user's in DIR: the wipe command names the node directories.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "local", "down", "--dir", dir)
	want := fmt.Sprintf("127.0.0.1:%d: pid %d is no longer its redis-server; left alone.\n"+
		"127.0.0.1:%d: pid %d is no longer its redis-server; left alone.\n"+
		"The local cluster in %s is down.\n"+
		"The nodes' data (nodes.conf, dump.rdb) is kept in %s.\n"+
		"  Start this cluster again, with its keys: rcluster local up --keep-data --dir %s --port %d --nodes 2\n"+
		"  Start a fresh, empty one (wipes the data): rcluster local up --dir %s --port %d --nodes 2\n"+
		"  Wipe it now: rm -rf %s/%d %s/%d\n",
		base, sleeper.Process.Pid, base+1, serverPid, dir, dir, dir, base, dir, base, dir, base, dir, base+1)
	if code != 0 || out != want || errOut != "" {
		t.Errorf("down: exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %q", code, out, want, errOut)
	}
	if !servers[0].Running() {
		t.Error("down stopped a redis-server it had not started")
	}
	if !local.Alive(sleeper.Process.Pid) {
		t.Error("down killed an unrelated process")
	}
}

func TestLocalUpRefusesBusyPorts(t *testing.T) {
	redistest.Require(t)
	base := freeLocalBase(t, 3)
	var listeners []net.Listener
	for _, p := range []int{base + 1, base + 2 + 10000} {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
	}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	dir := filepath.Join(t.TempDir(), "c")
	stopLocalOnCleanup(t, dir)
	out, errOut, code := runCLI(t, "local", "up", "--dir", dir, "--port", strconv.Itoa(base), "--nodes", "3", "--replicas", "0")
	want := fmt.Sprintf("Nothing was started: these ports of 127.0.0.1 are already in use: %d, %d (cluster bus port of %d).\n"+
		"Choose another base port with --port, or stop what listens there.\n", base+1, base+10002, base+2)
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was created: %v", dir, err)
	}
	if !local.CanListen("127.0.0.1", base) {
		t.Errorf("something listens on %d", base)
	}
}

func TestLocalUpWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "c")
	out, errOut, code := runCLI(t, "local", "up", "--dir", dir)
	want := "redis-server was not found in PATH: rcluster local up starts redis-server processes.\n" +
		"On Debian or Ubuntu, install the redis-server package: sudo apt-get install redis-server\n"
	if code != 1 || out != "" || errOut != want {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, out, errOut, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was created: %v", dir, err)
	}
}

func TestLocalArguments(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"local", "up", "--nodes", "5"}, 1, "5 nodes are too few for 1 replicas per master: a cluster needs at least 3 masters, so at least 6 nodes.\n"},
		{[]string{"local", "up", "--nodes", "0"}, 1, "Invalid node count 0: it must be 1 or more.\n"},
		{[]string{"local", "up", "--replicas", "-1"}, 1, "Invalid replica count -1: it must be 0 or more.\n"},
		{[]string{"local", "up", "--port", "60000"}, 1, "Invalid base port 60000: ports 60000 to 60005 and their cluster bus ports (10000 higher) must be at most 65535.\n"},
		{[]string{"local", "up", "--host", "localhost"}, 1, "Invalid --host \"localhost\": give an IP address, such as 127.0.0.1.\n"},
		{[]string{"local", "up", "extra"}, 2, "\"rcluster local up\" takes no arguments, got \"extra\"\nRun 'rcluster --help' for usage.\n"},
		{[]string{"local", "nosuch"}, 2, "unknown command \"nosuch\" for \"rcluster local\"\nRun 'rcluster --help' for usage.\n"},
		{[]string{"local", "up", "--nosuch"}, 2, "unknown flag: --nosuch\nRun 'rcluster --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			out, errOut, code := runCLI(t, append(tt.args, "--dir", dir)...)
			if code != tt.code || errOut != tt.wantErr || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stderr %q", code, out, errOut, tt.code, tt.wantErr)
			}
		})
	}
	out, _, code := runCLI(t, "local")
	if code != 0 || !strings.Contains(out, "rcluster local [command]") {
		t.Errorf("rcluster local: exit %d\n%s", code, out)
	}
}
