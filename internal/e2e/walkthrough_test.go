package e2e

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/redistest"
)

// walkPassword is the walkthrough's requirepass and masterauth.
const walkPassword = "123456"

// redirectLine is the line redis-cli -c prints when it follows a redirect.
var redirectLine = regexp.MustCompile(`(?m)^-> Redirected to slot \[(\d+)\] located at (\S+)$`)

// TestWalkthrough plays the set-up of the walkthrough this project started
// from (../shared/seeds/): two "servers" (the loopback addresses 127.0.0.2
// and 127.0.0.3) with six nodes each, requirepass/masterauth,
// cluster-announce-ip and AOF on (redistest's default). On each: create,
// check, redis-cli -c's own session, verify, a second create that fails as
// "not empty" (stdout as redis-cli's, stderr naming the reset command),
// reset refusing without --flush and --force, the named command run as is,
// and create, check and verify again, without restarting any process.
func TestWalkthrough(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	for _, host := range []string{"127.0.0.2", "127.0.0.3"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			walkthrough(t, host)
		})
	}
}

func walkthrough(t *testing.T, host string) {
	servers := redistest.Start(t, redistest.Options{Count: 6, Hosts: []string{host}, Password: walkPassword, Build: serverBuild,
		NodeTimeoutMS: 15000, ExtraConfig: []string{"cluster-announce-ip " + host}})
	auth := []string{"-a", walkPassword, "--no-auth-warning"}
	addrs := make([]string, len(servers))
	for i, s := range servers {
		addrs[i] = s.Addr()
	}
	pids := processIDs(t, servers)
	withAuth := func(args ...string) []string { return append(slices.Clone(auth), args...) }
	createArgs := withAuth(append(append([]string{"create"}, addrs...), "--replicas", "1", "--yes")...)

	// Create and check, as the walkthrough's section 3.
	wantCode(t, "create", rc(t, createArgs...), 0)
	r := rc(t, withAuth("check", addrs[0])...)
	wantCode(t, "check", r, 0)
	contains(t, "check", r.Stdout, "[OK] All 16384 slots covered.")

	// The walkthrough's section 4, by hand with redis-cli -c on the sixth
	// node: its redirects name the owners of the slots.
	session := runTool(t, "set name test\nset age 18\nget name\n", cliBin(t),
		withAuth("-c", "-h", host, "-p", strconv.Itoa(servers[5].Port))...)
	cliRedirects := redirectsTo(t, servers, "redis-cli -c", session.Stdout)
	if len(cliRedirects) == 0 {
		t.Fatalf("redis-cli -c followed no redirect:\n%s", session)
	}

	// verify through the same node: every master took its keys, the
	// redirects are printed as redis-cli -c prints them, no key is left.
	r = rc(t, withAuth("verify", addrs[5], "--trace", "--replica-timeout", "1m")...) // the replicas may still be syncing
	wantCode(t, "verify", r, 0)
	contains(t, "verify", r.Stdout, "[OK] All 3 masters took writes and served reads, 3/3 replicas caught up, no test key left.\n")
	if got := redirectsTo(t, servers, "rcluster verify --trace", r.Stdout); len(got) == 0 {
		t.Errorf("verify --trace printed no redirect:\n%s", r.Stdout)
	}
	noVerifyKeys(t, servers)

	// A second create fails as the walkthrough's section 5: stdout and exit
	// code are redis-cli's, stderr adds the reset command to run.
	again := rc(t, createArgs...)
	want := runTool(t, "", cliBin(t), withAuth(append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "1", "--cluster-yes")...)...)
	wantCode(t, "second create", again, 1)
	sameText(t, "second create's stdout", "redis-cli", want.Stdout, "rcluster", again.Stdout)
	contains(t, "second create", again.Stdout, "[ERR] Node "+addrs[0]+" is not empty.")
	hint := "Nodes that are not empty can be emptied with: rcluster --askpass reset " + strings.Join(addrs, " ") + " --flush --force\n"
	if again.Stderr != want.Stderr+hint {
		t.Fatalf("second create's stderr:\n%q\nwant redis-cli's and the hint:\n%q", again.Stderr, want.Stderr+hint)
	}

	// reset refuses without --flush and --force, changing nothing.
	ids := nodeIDs(t, servers)
	r = rc(t, withAuth(append([]string{"reset"}, addrs...)...)...)
	wantCode(t, "reset without --flush and --force", r, 1)
	contains(t, "reset without --flush and --force", r.Stdout,
		"[ERR] Node "+addrs[0]+" serves a healthy cluster (masters "+addrs[0]+" "+addrs[1]+" "+addrs[2]+")",
		"has keys in database 0: reset it with --flush to delete them.")
	if after := nodeIDs(t, servers); !slices.Equal(after, ids) {
		t.Fatalf("a refused reset changed node IDs: %v -> %v", ids, after)
	}

	// The command create named, as is: --askpass reads the password, then
	// the question is answered.
	words := strings.Fields(strings.TrimPrefix(strings.TrimSpace(hint), "Nodes that are not empty can be emptied with: rcluster "))
	r = rcIn(t, walkPassword+"\nyes\n", words...)
	wantCode(t, "the reset create named", r, 0)
	contains(t, "reset", r.Stdout, "Can I delete the keys of the above nodes and reset them? (type 'yes' to accept): ",
		"[OK] 6 nodes reset: create can use them now.\n")
	for i, s := range servers {
		info := must(s.DoString("CLUSTER", "INFO"))
		if !strings.Contains(info, "cluster_known_nodes:1\r\n") || !strings.Contains(info, "cluster_slots_assigned:0\r\n") {
			t.Errorf("%s after reset:\n%s", s.Addr(), info)
		}
		if n := must(s.DoInt("DBSIZE")); n != 0 {
			t.Errorf("%s has %d keys after reset --flush", s.Addr(), n)
		}
		if id := must(s.ID()); id == ids[i] {
			t.Errorf("%s kept its node ID %s through CLUSTER RESET HARD", s.Addr(), id)
		}
	}

	// Create again: no process was restarted, no file deleted.
	wantCode(t, "create after reset", rc(t, createArgs...), 0)
	wantCode(t, "check after reset", rc(t, withAuth("check", addrs[0])...), 0)
	r = rc(t, withAuth("verify", addrs[0], "--replica-timeout", "1m")...)
	wantCode(t, "verify after reset", r, 0)
	contains(t, "verify after reset", r.Stdout, "3/3 replicas caught up")
	noVerifyKeys(t, servers)
	if after := processIDs(t, servers); !slices.Equal(after, pids) {
		t.Errorf("processes were restarted: %v -> %v", pids, after)
	}
}

// redirectsTo returns the redirect lines of out and fails the test when
// one names an address that does not own the slot.
func redirectsTo(t *testing.T, servers []*redistest.Server, what, out string) []string {
	t.Helper()
	owners := must(redistest.SlotOwners(servers))
	var lines []string
	for _, m := range redirectLine.FindAllStringSubmatch(out, -1) {
		slot, _ := strconv.Atoi(m[1])
		if owner := owners[slot]; owner == nil || owner.Addr() != m[2] {
			t.Errorf("%s: %q, but slot %d is owned by %v", what, m[0], slot, owner)
		}
		lines = append(lines, m[0])
	}
	return lines
}

// noVerifyKeys fails the test when a node still holds a key of verify's,
// after giving the replicas a moment to apply the deletes.
func noVerifyKeys(t *testing.T, servers []*redistest.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range servers {
		for {
			keys := must(s.Do("KEYS", "__rcluster_verify:*")).([]any)
			if len(keys) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still holds verify's keys %v", s.Addr(), keys)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func nodeIDs(t *testing.T, servers []*redistest.Server) []string {
	t.Helper()
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = must(s.ID())
	}
	return out
}

func processIDs(t *testing.T, servers []*redistest.Server) []string {
	t.Helper()
	out := make([]string, len(servers))
	for i, s := range servers {
		info := must(s.DoString("INFO", "server"))
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "process_id:"); ok {
				out[i] = v
			}
		}
	}
	return out
}

// TestVerifyLaggingReplica cuts a replica off its master (a wrong
// masterauth, its link killed): verify warns that it did not catch up and
// exits 0, after --replica-timeout; then a SIGINT in that wait ends verify
// at once (exit 130, "Interrupted."), and no test key is left either time.
func TestVerifyLaggingReplica(t *testing.T) {
	serverBuild.Require(t)
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 6, Password: walkPassword, Build: serverBuild})
	redistest.Create(t, servers, 1)
	auth := []string{"-a", walkPassword, "--no-auth-warning"}
	var replica, master *redistest.Server
	for _, s := range servers {
		me := must(s.Myself())
		if !me.HasFlag("slave") {
			continue
		}
		replica = s
		for _, m := range servers {
			if must(m.ID()) == me.MasterID {
				master = m
			}
		}
		break
	}
	must(replica.Do("CONFIG", "SET", "masterauth", "not-the-password"))
	must(replica.Do("CLIENT", "KILL", "TYPE", "master"))

	// The linked replicas catch up in milliseconds; 10 s leaves room for a
	// loaded machine.
	start := time.Now()
	r := rc(t, append(slices.Clone(auth), "verify", servers[0].Addr(), "--replica-timeout", "10s")...)
	wantCode(t, "verify with a replica cut off", r, 0)
	contains(t, "verify", r.Stdout, "[WARNING] Replica "+replica.Addr(), " of "+master.Addr()+" did not serve the keys within 10s\n",
		"2/3 replicas caught up, no test key left.\n")
	if d := time.Since(start); d < 10*time.Second {
		t.Errorf("verify took %v: it did not wait --replica-timeout 10s for the replica cut off", d)
	}
	noVerifyKeys(t, servers)

	// SIGINT while verify waits for the replica (up to a minute).
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rclusterBin, append(slices.Clone(auth), "verify", servers[0].Addr(), "--replica-timeout", "1m")...)
	cmd.Env = toolEnv()
	out, errOut := newSyncBuffer(), newSyncBuffer()
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, ok := out.waitFor(">>> Verifying the cluster", 0, time.Now().Add(time.Minute)); !ok {
		t.Fatalf("verify never started:\n%s", out)
	}
	time.Sleep(time.Second) // the writes take milliseconds; the replica wait a minute
	start = time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("verify after SIGINT: %v, want exit 130\n%s\n%s", err, out, errOut)
	}
	if d := time.Since(start); d > 30*time.Second { // far from the minute it would wait (2 s grace, normally)
		t.Errorf("verify took %v to stop after SIGINT", d)
	}
	contains(t, "verify's stderr after SIGINT", errOut.String(), "Interrupted.\n")
	noVerifyKeys(t, servers)
}
