package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rcluster/rcluster/internal/redistest"
)

func TestSetTimeoutLikeRedisCLI(t *testing.T) {
	t.Parallel()
	eachBuild(t, setTimeoutLikeCLI)
}

func setTimeoutLikeCLI(t *testing.T, b *redistest.Build) {
	t.Parallel()
	servers := redistest.StartCluster(t, redistest.Options{Count: 6, Build: b}, 1)
	a := servers[0].Addr()

	for _, tc := range []struct {
		term string
		ms   string
	}{{"dumb", "3000"}, {"xterm-256color", "4000"}} {
		bothToolsOn(t, b, tc.term, nil, "set-timeout", a, tc.ms)
		for _, s := range servers {
			v, err := s.Do("CONFIG", "GET", "cluster-node-timeout")
			if err != nil || fmt.Sprint(v) != fmt.Sprint([]any{"cluster-node-timeout", tc.ms}) {
				t.Errorf("%s: CONFIG GET cluster-node-timeout = %v (%v), want %s", s.Addr(), v, err, tc.ms)
			}
			conf, err := os.ReadFile(s.ConfigFile())
			if err != nil || !strings.Contains(string(conf), "\ncluster-node-timeout "+tc.ms+"\n") {
				t.Errorf("%s: config file does not hold the new timeout %s (%v)", s.Addr(), tc.ms, err)
			}
		}
	}
	for _, args := range [][]string{
		{"set-timeout", a, "99"},
		{"set-timeout", a, "100"},
		{"set-timeout", a},
		{"set-timeout", servers[0].Host, strconv.Itoa(servers[0].Port), "2000"},
		{"set-timeout", servers[0].Host, "2000"},
	} {
		bothToolsOn(t, b, "dumb", nil, args...)
	}
	unreachableLikeCLI(t, b, nil, "set-timeout", "127.0.0.1:1", "2000")

	// redis-cli reads "abc" as 0 (refused as under 100 ms) and "5000x" as
	// 5000; rcluster wants a number.
	for _, v := range []string{"abc", "5000x", ""} {
		got := runRCluster(t, "", "dumb", nil, "set-timeout", a, v)
		want := "Invalid node timeout " + v + ": it must be a number of milliseconds.\n"
		if got.code != 1 || got.stderr != want || got.stdout != "" {
			t.Errorf("set-timeout %q: exit %d, stderr %q, stdout %q; want 1, %q", v, got.code, got.stderr, got.stdout, want)
		}
	}
}

// Nodes started without a config file refuse CONFIG REWRITE: every node is
// reported, the timeout is set in memory anyway, and the exit status is 0.
func TestSetTimeoutWithoutConfigFile(t *testing.T) {
	t.Parallel()
	redistest.Require(t)
	addrs := opsStartWithoutConfig(t, 3)
	args := append([]string{"--cluster", "create"}, addrs...)
	if _, err := redistest.RunCLI(time.Minute, append(args, "--cluster-yes")...); err != nil {
		t.Fatal(err)
	}
	opsWaitJoined(t, addrs)
	// The same text as redis-cli, but exit 1 where redis-cli exits 0: no
	// node kept the timeout across a restart.
	for _, term := range []string{"dumb", "xterm-256color"} {
		args := []string{"set-timeout", addrs[0], "2500"}
		want := runRedisCLI(t, "", term, nil, args...)
		got := runRCluster(t, "", term, nil, args...)
		if want.code != 0 || got.code != 1 {
			t.Errorf("exit %d (redis-cli %d), want 1 (redis-cli 0)", got.code, want.code)
		}
		got.code = want.code
		sameAsRedisCLI(t, "set-timeout (TERM="+term+")", got, want)
		if !strings.Contains(got.stdout, "ERR The server is running without a config file") {
			t.Errorf("no CONFIG REWRITE error reported:\n%s", got.stdout)
		}
	}
}

// opsStartWithoutConfig starts n cluster nodes on 127.0.0.1 with their
// settings on the command line only (no config file).
func opsStartWithoutConfig(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		var cmd *exec.Cmd
		var addr string
		for attempt := 0; ; attempt++ {
			port := opsFreePort(t)
			addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			cmd = exec.Command(redistest.ServerBinary, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
				"--dir", dir, "--save", "", "--appendonly", "no", "--logfile", "redis.log", "--protected-mode", "no")
			cmd.Dir = dir
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
			if opsWaitPing(addr, done) {
				break
			}
			if attempt == 5 {
				t.Fatalf("redis-server on %s did not start", addr)
			}
		}
		addrs = append(addrs, addr)
	}
	return addrs
}

// opsFreePort picks a port P such that P and P+10000 (the cluster bus) are
// free, away from redistest's range.
func opsFreePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 1000; i++ {
		p := 40000 + rand.IntN(15000)
		ok := true
		for _, q := range []int{p, p + 10000} {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(q)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

func opsWaitPing(addr string, exited <-chan struct{}) bool {
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return false
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// opsWaitJoined waits until every node knows every other one, none in
// handshake, and reports cluster_state:ok.
func opsWaitJoined(t *testing.T, addrs []string) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready := true
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
			info, _ := c.ClusterInfo(ctx).Result()
			nodes, _ := c.ClusterNodes(ctx).Result()
			c.Close()
			if !strings.Contains(info, "cluster_state:ok") || strings.Count(nodes, "\n") != len(addrs) ||
				strings.Contains(nodes, "handshake") || strings.Contains(nodes, "fail") {
				ready = false
			}
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster of %v did not settle", addrs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
