package e2e

import (
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
)

// TestBigValuesMove moves a slot holding 1 MB strings and a hash of
// 1,000,000 fields together with slots of small keys: no MIGRATE timeout,
// no failover of the target, the big hash moves alone while the small keys
// still move in large batches.
func TestBigValuesMove(t *testing.T) {
	serverBuild.Require(t)
	if testing.Short() {
		t.Skip("loads a hash of 1,000,000 fields")
	}
	// Redis blocks inside MIGRATE while it serializes the hash and the
	// target restores it: seconds on a quiet machine, more than 15 s (the
	// default node timeout) with the load of a parallel test run, and the
	// source's replica takes over mid-move (MOVED 0 <replica>). That is
	// Redis' single big key, not the batching this test is about: the node
	// timeout is set past any such stall.
	servers := redistest.Start(t, redistest.Options{Count: 6, NodeTimeoutMS: 120000})
	redistest.Create(t, servers, 1)
	c := &cluster{t: t, servers: servers}
	owners, err := redistest.SlotOwners(c.servers)
	if err != nil {
		t.Fatal(err)
	}
	src := owners[0]
	var dst *redistest.Server
	for _, s := range []int{16383, 8000} {
		if owners[s] != src {
			dst = owners[s]
		}
	}
	srcID, _ := src.ID()
	dstID, _ := dst.ID()

	// Slot 0: five 1 MB strings and a hash of a million fields.
	big := redistest.KeysInSlot(0, 6, "big")
	mb := strings.Repeat("x", 1<<20)
	for _, k := range big[:5] {
		if _, err := src.Do("SET", k, mb); err != nil {
			t.Fatal(err)
		}
	}
	hash := big[5]
	for i := 0; i < 1_000_000; i += 10_000 {
		args := []any{"HSET", hash}
		for j := i; j < i+10_000; j++ {
			args = append(args, "f"+strconv.Itoa(j), "v"+strconv.Itoa(j))
		}
		if _, err := src.Do(args...); err != nil {
			t.Fatal(err)
		}
	}
	redistest.LoadKeys(t, c.servers, 20_000, "small")
	before, _ := src.DoString("INFO", "commandstats")

	r := rc(t, "reshard", src.Addr(), "--from", srcID, "--to", dstID, "--slots", "100", "--yes")
	wantCode(t, "reshard", r, 0)

	c.healthy(0)
	// No failover: the three masters are still the masters.
	for _, s := range []*redistest.Server{src, dst} {
		if role, _ := s.DoString("ROLE"); role == "" {
			t.Fatalf("%s: no ROLE", s.Addr())
		}
		info, _ := s.DoString("INFO", "replication")
		if !strings.Contains(info, "role:master") {
			t.Fatalf("%s is no longer a master after the move (failover):\n%s", s.Addr(), info)
		}
	}
	for _, k := range big[:5] {
		if n, err := dst.DoInt("STRLEN", k); err != nil || n != 1<<20 {
			t.Fatalf("%s on the target: %d bytes, %v", k, n, err)
		}
	}
	if n, err := dst.DoInt("HLEN", hash); err != nil || n != 1_000_000 {
		t.Fatalf("hash on the target: %d fields, %v", n, err)
	}
	redistest.VerifyKeys(t, c.servers, 20_000, "small")

	// About 12 small keys per slot: one MIGRATE per slot, and slot 0 needs
	// one for the strings and one for the hash alone.
	after, _ := src.DoString("INFO", "commandstats")
	calls := migrateCalls(after) - migrateCalls(before)
	if calls > 100+3 {
		t.Fatalf("%d MIGRATE calls for 100 slots: small keys did not move in large batches", calls)
	}
	t.Logf("%d MIGRATE calls for 100 slots", calls)
}

func migrateCalls(commandstats string) int {
	for _, l := range strings.Split(commandstats, "\n") {
		if rest, ok := strings.CutPrefix(l, "cmdstat_migrate:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}
