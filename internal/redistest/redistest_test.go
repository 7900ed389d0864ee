package redistest

import (
	"strings"
	"testing"
)

func TestKeySlot(t *testing.T) {
	for key, want := range map[string]int{
		"":           0,
		"foo":        12182,
		"aga":        609,
		"{t11071}:b": 10,
		"{user}:1":   KeySlot("user"),
		"a{}b":       KeySlot("a{}b"),
		"123456789":  12739, // 0x31C3 & 16383
	} {
		if got := KeySlot(key); got != want {
			t.Errorf("KeySlot(%q) = %d, want %d", key, got, want)
		}
	}
	for _, k := range KeysInSlot(10, 3, "x") {
		if KeySlot(k) != 10 {
			t.Errorf("KeysInSlot gave %q in slot %d", k, KeySlot(k))
		}
	}
}

func TestClusterSelfTest(t *testing.T) {
	t.Parallel()
	servers := Start(t, Options{Count: 3})
	Create(t, servers, 0)
	LoadKeys(t, servers, 300, "self")
	VerifyKeys(t, servers, 300, "self")

	// The local CRC16 agrees with the server.
	for _, k := range []string{"self:0", "self:1", "{tag}x", "aga"} {
		n, err := servers[0].DoInt("CLUSTER", "KEYSLOT", k)
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != KeySlot(k) {
			t.Errorf("KeySlot(%q) = %d, server says %d", k, KeySlot(k), n)
		}
	}
	var total int64
	for _, s := range servers {
		n, err := s.DoInt("DBSIZE")
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != 300 {
		t.Errorf("DBSIZE total %d, want 300", total)
	}

	// A restarted master comes back with its ID and its keys.
	id, err := servers[1].ID()
	if err != nil {
		t.Fatal(err)
	}
	if err := servers[1].Restart(); err != nil {
		t.Fatal(err)
	}
	if id2, err := servers[1].ID(); err != nil || id2 != id {
		t.Fatalf("after restart ID %q (%v), want %q", id2, err, id)
	}
	WaitStable(t, servers)
	VerifyKeys(t, servers, 300, "self")
}

func TestStandaloneWithPassword(t *testing.T) {
	t.Parallel()
	servers := Start(t, Options{Count: 2, Standalone: true, Password: "s3cret", Hosts: []string{"127.0.0.1", "127.0.0.2"}})
	if servers[0].Port == servers[1].Port && servers[0].Host == servers[1].Host {
		t.Fatal("two servers on one address")
	}
	if servers[1].Host != "127.0.0.2" {
		t.Errorf("host %q, want 127.0.0.2", servers[1].Host)
	}
	for _, s := range servers {
		if _, err := s.Do("SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
		if v, err := s.DoString("GET", "k"); err != nil || v != "v" {
			t.Fatalf("GET k = %q, %v", v, err)
		}
		if v, err := s.Do("GET", "missing"); err != nil || v != nil {
			t.Fatalf("GET missing = %v, %v", v, err)
		}
		info, err := s.DoString("INFO", "cluster")
		if err != nil {
			t.Fatal(err)
		}
		if want := "cluster_enabled:0"; !strings.Contains(info, want) {
			t.Errorf("INFO cluster lacks %s: %q", want, info)
		}
	}
	s := servers[0]
	s.Stop()
	if s.Running() {
		t.Fatal("running after Stop")
	}
	if _, err := s.Do("PING"); err == nil {
		t.Fatal("PING answered after Stop")
	}
}

func TestParallelStarts(t *testing.T) {
	t.Parallel()
	for i := 0; i < 4; i++ {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			servers := Start(t, Options{Count: 3, Standalone: true})
			for _, s := range servers {
				if _, err := s.Do("PING"); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestOtherBuilds starts a cluster of each shared build with its own CLI
// and checks that the nodes are what the build says.
func TestOtherBuilds(t *testing.T) {
	for _, b := range []struct {
		build *Build
		info  string // a line of INFO server
	}{
		{Redis72, "redis_version:7.2.3"},
		{Valkey8, "valkey_version:8.0.1"},
	} {
		t.Run(b.build.Name, func(t *testing.T) {
			t.Parallel()
			servers := StartCluster(t, Options{Count: 3, Build: b.build}, 0)
			info, err := servers[0].DoString("INFO", "server")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(info, b.info+"\r\n") {
				t.Errorf("INFO server has no %q:\n%s", b.info, info)
			}
		})
	}
}
