package plan

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
)

// parseNodes turns "host:port" words into CreateNodes.
func parseNodes(t testing.TB, words ...string) []CreateNode {
	t.Helper()
	out := make([]CreateNode, len(words))
	for i, w := range words {
		j := strings.LastIndexByte(w, ':')
		port, err := strconv.Atoi(w[j+1:])
		if j < 0 || err != nil {
			t.Fatalf("bad address %q", w)
		}
		out[i] = CreateNode{Host: w[:j], Port: port}
	}
	return out
}

func addr(n CreateNode) string { return n.Host + ":" + strconv.Itoa(n.Port) }

func parseRanges(t *testing.T, s string) []cluster.Range {
	t.Helper()
	var out []cluster.Range
	for _, f := range strings.Fields(s) {
		a, b, ok := strings.Cut(f, "-")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			t.Fatalf("bad range %q", f)
		}
		out = append(out, cluster.Range{Start: x, End: y})
	}
	return out
}

func TestSlotRanges(t *testing.T) {
	// 3..12 from the spec (3.1 phase 3.4); 20, 30 and 60 computed by the
	// original C expression (gcc, x86-64).
	tests := []struct {
		m    int
		want string
	}{
		{3, "0-5460 5461-10922 10923-16383"},
		{4, "0-4095 4096-8191 8192-12287 12288-16383"},
		{5, "0-3276 3277-6553 6554-9829 9830-13106 13107-16383"},
		{6, "0-2730 2731-5460 5461-8191 8192-10922 10923-13652 13653-16383"},
		{7, "0-2340 2341-4680 4681-7021 7022-9361 9362-11702 11703-14042 14043-16383"},
		{8, "0-2047 2048-4095 4096-6143 6144-8191 8192-10239 10240-12287 12288-14335 14336-16383"},
		{9, "0-1819 1820-3640 3641-5460 5461-7281 7282-9101 9102-10922 10923-12742 12743-14563 14564-16383"},
		{10, "0-1637 1638-3276 3277-4914 4915-6553 6554-8191 8192-9829 9830-11468 11469-13106 13107-14745 14746-16383"},
		{11, "0-1488 1489-2978 2979-4467 4468-5957 5958-7446 7447-8936 8937-10425 10426-11915 11916-13404 13405-14894 14895-16383"},
		{12, "0-1364 1365-2730 2731-4095 4096-5460 5461-6826 6827-8191 8192-9556 9557-10922 10923-12287 12288-13652 13653-15018 15019-16383"},
		{20, "0-818 819-1637 1638-2457 2458-3276 3277-4095 4096-4914 4915-5733 5734-6553 6554-7372 7373-8191 8192-9010 9011-9829 9830-10649 10650-11468 11469-12287 12288-13106 13107-13925 13926-14745 14746-15564 15565-16383"},
		{30, "0-545 546-1091 1092-1637 1638-2184 2185-2730 2731-3276 3277-3822 3823-4368 4369-4914 4915-5460 5461-6006 6007-6553 6554-7099 7100-7645 7646-8191 8192-8737 8738-9283 9284-9829 9830-10376 10377-10922 10923-11468 11469-12014 12015-12560 12561-13106 13107-13652 13653-14198 14199-14745 14746-15291 15292-15837 15838-16383"},
		{60, "0-272 273-545 546-818 819-1091 1092-1364 1365-1637 1638-1910 1911-2184 2185-2457 2458-2730 2731-3003 3004-3276 3277-3549 3550-3822 3823-4095 4096-4368 4369-4641 4642-4914 4915-5187 5188-5460 5461-5733 5734-6006 6007-6280 6281-6553 6554-6826 6827-7099 7100-7372 7373-7645 7646-7918 7919-8191 8192-8464 8465-8737 8738-9010 9011-9283 9284-9556 9557-9829 9830-10102 10103-10376 10377-10649 10650-10922 10923-11195 11196-11468 11469-11741 11742-12014 12015-12287 12288-12560 12561-12833 12834-13106 13107-13379 13380-13652 13653-13925 13926-14198 14199-14472 14473-14745 14746-15018 15019-15291 15292-15564 15565-15837 15838-16110 16111-16383"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.m), func(t *testing.T) {
			want := parseRanges(t, tt.want)
			if got := slotRanges(tt.m); !reflect.DeepEqual(got, want) {
				t.Errorf("slotRanges(%d) = %v, want %v", tt.m, got, want)
			}
			// The same ranges come out of Create with m nodes on one host.
			nodes := make([]CreateNode, tt.m)
			for i := range nodes {
				nodes[i] = CreateNode{"127.0.0.1", 30001 + i}
			}
			p, err := Create(nodes, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Ranges, want) {
				t.Errorf("Create ranges = %v, want %v", p.Ranges, want)
			}
		})
	}
}

func TestMasterCount(t *testing.T) {
	tests := []struct{ nodes, replicas, want int }{
		{6, 1, 3}, {7, 1, 3}, {9, 2, 3}, {8, 1, 4}, {3, 0, 3}, {5, 1, 2}, {60, 2, 20}, {4, -1, 0},
	}
	for _, tt := range tests {
		if got := MasterCount(tt.nodes, tt.replicas); got != tt.want {
			t.Errorf("MasterCount(%d, %d) = %d, want %d", tt.nodes, tt.replicas, got, tt.want)
		}
	}
}

func TestCreateErrors(t *testing.T) {
	five := parseNodes(t, "a:1", "a:2", "a:3", "a:4", "a:5")
	if _, err := Create(five, -1); !errors.Is(err, ErrNegativeReplicas) {
		t.Errorf("replicas -1: err = %v", err)
	}
	tests := []struct {
		n, replicas, minNodes int
	}{
		{5, 1, 6}, {2, 0, 3}, {0, 0, 3}, {8, 2, 9},
	}
	for _, tt := range tests {
		nodes := make([]CreateNode, tt.n)
		for i := range nodes {
			nodes[i] = CreateNode{"h", i}
		}
		_, err := Create(nodes, tt.replicas)
		var tf *TooFewMastersError
		if !errors.As(err, &tf) {
			t.Fatalf("Create(%d nodes, %d): err = %v, want TooFewMastersError", tt.n, tt.replicas, err)
		}
		if tf.Nodes != tt.n || tf.Replicas != tt.replicas || tf.MinNodes() != tt.minNodes {
			t.Errorf("error = %+v (min %d), want min %d", *tf, tf.MinNodes(), tt.minNodes)
		}
	}
}

func TestInterleave(t *testing.T) {
	tests := []struct {
		hosts string
		want  []int
	}{
		{"A A A B B B C C C", []int{0, 3, 6, 1, 4, 7, 2, 5, 8}},
		{"A B A B A B A A", []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"A A A A", []int{0, 1, 2, 3}},
		{"A B C", []int{0, 1, 2}},
		{"A A B C C C", []int{0, 2, 3, 1, 4, 5}},
		// localhost and 127.0.0.1 are different hosts
		{"localhost 127.0.0.1 localhost", []int{0, 1, 2}},
	}
	for _, tt := range tests {
		var nodes []CreateNode
		for i, h := range strings.Fields(tt.hosts) {
			nodes = append(nodes, CreateNode{h, 7000 + i})
		}
		if got := interleave(nodes); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("interleave(%s) = %v, want %v", tt.hosts, got, tt.want)
		}
	}
}

func seq(host string, from, to int) []string {
	var out []string
	for p := from; p <= to; p++ {
		out = append(out, fmt.Sprintf("%s:%d", host, p))
	}
	return out
}

// TestCreateTranscripts reproduces the "Adding replica" lines of section 6.1
// and 6.3 of the spec.
func TestCreateTranscripts(t *testing.T) {
	tests := []struct {
		name      string
		nodes     []string
		replicas  int
		masters   []string
		ranges    string
		adding    []string // "replica>master"
		extraFrom int
		optimized bool
		minScore  int // the final score is at least this (unavoidable)
		maxScore  int
	}{
		{
			name:     "6.1 six nodes one host",
			nodes:    seq("127.0.0.1", 30001, 30006),
			replicas: 1,
			masters:  []string{"127.0.0.1:30001", "127.0.0.1:30002", "127.0.0.1:30003"},
			ranges:   "0-5460 5461-10922 10923-16383",
			adding: []string{
				"127.0.0.1:30005>127.0.0.1:30001",
				"127.0.0.1:30006>127.0.0.1:30002",
				"127.0.0.1:30004>127.0.0.1:30003",
			},
			extraFrom: -1, optimized: true, minScore: 30000, maxScore: 30000,
		},
		{
			name: "6.3 nine nodes three hosts replicas 2",
			nodes: append(append(seq("127.0.0.1", 30001, 30003), seq("127.0.0.2", 30004, 30006)...),
				seq("127.0.0.3", 30007, 30009)...),
			replicas: 2,
			masters:  []string{"127.0.0.1:30001", "127.0.0.2:30004", "127.0.0.3:30007"},
			ranges:   "0-5460 5461-10922 10923-16383",
			adding: []string{
				"127.0.0.2:30005>127.0.0.1:30001",
				"127.0.0.3:30008>127.0.0.1:30001",
				"127.0.0.1:30003>127.0.0.2:30004",
				"127.0.0.3:30009>127.0.0.2:30004",
				"127.0.0.2:30006>127.0.0.3:30007",
				"127.0.0.1:30002>127.0.0.3:30007",
			},
			extraFrom: -1, optimized: false, minScore: 0, maxScore: 0,
		},
		{
			name:     "6.3 seven nodes one host",
			nodes:    seq("127.0.0.1", 30001, 30007),
			replicas: 1,
			masters:  []string{"127.0.0.1:30001", "127.0.0.1:30002", "127.0.0.1:30003"},
			ranges:   "0-5460 5461-10922 10923-16383",
			adding: []string{
				"127.0.0.1:30005>127.0.0.1:30001",
				"127.0.0.1:30006>127.0.0.1:30002",
				"127.0.0.1:30007>127.0.0.1:30003",
				"127.0.0.1:30004>127.0.0.1:30001",
			},
			extraFrom: 3, optimized: true, minScore: 40000, maxScore: 40000,
		},
		{
			name: "6.3 eight nodes two hosts",
			nodes: []string{"127.0.0.1:30001", "127.0.0.2:30002", "127.0.0.1:30003", "127.0.0.2:30004",
				"127.0.0.1:30005", "127.0.0.2:30006", "127.0.0.1:30007", "127.0.0.1:30008"},
			replicas: 1,
			masters:  []string{"127.0.0.1:30001", "127.0.0.2:30002", "127.0.0.1:30003", "127.0.0.2:30004"},
			ranges:   "0-4095 4096-8191 8192-12287 12288-16383",
			adding: []string{
				"127.0.0.2:30006>127.0.0.1:30001",
				"127.0.0.1:30007>127.0.0.2:30002",
				"127.0.0.1:30008>127.0.0.1:30003",
				"127.0.0.1:30005>127.0.0.2:30004",
			},
			// Host .1 holds two masters and three replicas, host .2 two
			// masters and one replica: at least one replica of a .1 master
			// must live on .1.
			extraFrom: -1, optimized: true, minScore: 10000, maxScore: 10000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := parseNodes(t, tt.nodes...)
			p, err := Create(nodes, tt.replicas)
			if err != nil {
				t.Fatal(err)
			}
			var masters []string
			for _, m := range p.Masters {
				masters = append(masters, addr(nodes[m]))
			}
			if !reflect.DeepEqual(masters, tt.masters) {
				t.Errorf("masters = %v, want %v", masters, tt.masters)
			}
			if want := parseRanges(t, tt.ranges); !reflect.DeepEqual(p.Ranges, want) {
				t.Errorf("ranges = %v, want %v", p.Ranges, want)
			}
			var adding []string
			for _, a := range p.Assignments {
				adding = append(adding, addr(nodes[a.Replica])+">"+addr(nodes[a.Master]))
			}
			if !reflect.DeepEqual(adding, tt.adding) {
				t.Errorf("adding =\n%v\nwant\n%v", adding, tt.adding)
			}
			if p.ExtraFrom != tt.extraFrom || p.Optimized != tt.optimized {
				t.Errorf("ExtraFrom, Optimized = %d, %v, want %d, %v", p.ExtraFrom, p.Optimized, tt.extraFrom, tt.optimized)
			}
			if p.Score < tt.minScore || p.Score > tt.maxScore {
				t.Errorf("score = %d, want in [%d, %d]", p.Score, tt.minScore, tt.maxScore)
			}
			checkPlan(t, nodes, tt.replicas, p)
		})
	}
}

// checkPlan verifies the invariants of a create plan.
func checkPlan(t *testing.T, nodes []CreateNode, replicas int, p *CreatePlan) {
	t.Helper()
	m := MasterCount(len(nodes), replicas)
	if len(p.Masters) != m || len(p.Ranges) != m {
		t.Fatalf("%d masters, %d ranges, want %d", len(p.Masters), len(p.Ranges), m)
	}
	if want := slotRanges(m); !reflect.DeepEqual(p.Ranges, want) {
		t.Errorf("ranges differ from slotRanges(%d)", m)
	}
	isMaster := make(map[int]bool)
	for _, x := range p.Masters {
		isMaster[x] = true
	}
	// Initial and final per-master replica counts agree.
	initial := make(map[int]int)
	for i, a := range p.Assignments {
		if !isMaster[a.Master] || isMaster[a.Replica] {
			t.Fatalf("assignment %d %+v is not replica->master", i, a)
		}
		initial[a.Master]++
		if n := initial[a.Master]; (i < p.ExtraFrom || p.ExtraFrom < 0) && n > replicas ||
			n > replicas+1 {
			t.Errorf("master %d got %d replicas", a.Master, n)
		}
	}
	final := make(map[int]int)
	for i, mo := range p.MasterOf {
		switch {
		case isMaster[i]:
			if mo != -1 {
				t.Errorf("master %d has MasterOf %d", i, mo)
			}
		case mo >= 0:
			if !isMaster[mo] {
				t.Errorf("node %d replicates non-master %d", i, mo)
			}
			final[mo]++
		}
	}
	if !reflect.DeepEqual(initial, final) {
		t.Errorf("replica counts changed: initial %v, final %v", initial, final)
	}
	if len(p.Assignments) != sum(final) {
		t.Errorf("%d assignments, %d final replicas", len(p.Assignments), sum(final))
	}
	if got := AntiAffinityScore(nodes, p.MasterOf); got != p.Score {
		t.Errorf("Score = %d, AntiAffinityScore(MasterOf) = %d", p.Score, got)
	}
	initialOf := initialMasterOf(len(nodes), p)
	if s0 := AntiAffinityScore(nodes, initialOf); p.Score > s0 || p.Optimized != (s0 > 0) {
		t.Errorf("score %d, initial %d, Optimized %v", p.Score, s0, p.Optimized)
	}
}

func sum(m map[int]int) int {
	s := 0
	for _, v := range m {
		s += v
	}
	return s
}

func initialMasterOf(n int, p *CreatePlan) []int {
	mo := make([]int, n)
	for i := range mo {
		mo[i] = -1
	}
	for _, a := range p.Assignments {
		mo[a.Replica] = a.Master
	}
	return mo
}

// hostsRoundRobin puts n nodes on h hosts: node i on host i%h.
func hostsRoundRobin(n, h int) []CreateNode {
	nodes := make([]CreateNode, n)
	for i := range nodes {
		nodes[i] = CreateNode{Host: fmt.Sprintf("10.0.0.%d", i%h+1), Port: 7000 + i}
	}
	return nodes
}

// hostsBlocks puts n nodes on h hosts in contiguous blocks, as people type them.
func hostsBlocks(n, h int) []CreateNode {
	nodes := make([]CreateNode, n)
	per := (n + h - 1) / h
	for i := range nodes {
		nodes[i] = CreateNode{Host: fmt.Sprintf("10.0.1.%d", i/per+1), Port: 7000 + i}
	}
	return nodes
}

func TestCreate60(t *testing.T) {
	for _, replicas := range []int{0, 1, 2} {
		for _, layout := range []struct {
			name  string
			nodes []CreateNode
		}{
			{"one host", hostsRoundRobin(60, 1)},
			{"4 hosts rr", hostsRoundRobin(60, 4)},
			{"5 hosts blocks", hostsBlocks(60, 5)},
			{"6 hosts blocks", hostsBlocks(60, 6)},
			{"7 hosts blocks", hostsBlocks(60, 7)},
		} {
			t.Run(fmt.Sprintf("%s/r%d", layout.name, replicas), func(t *testing.T) {
				p, err := Create(layout.nodes, replicas)
				if err != nil {
					t.Fatal(err)
				}
				checkPlan(t, layout.nodes, replicas, p)
				m := 60 / (replicas + 1)
				if len(p.Assignments) != 60-m || p.ExtraFrom != -1 {
					t.Errorf("%d assignments (extra from %d), want %d", len(p.Assignments), p.ExtraFrom, 60-m)
				}
				switch {
				case layout.name == "one host" && replicas > 0:
					if p.Score != 10000*(60-m) {
						t.Errorf("score = %d, want %d", p.Score, 10000*(60-m))
					}
				default:
					// 4+ hosts and at most 3 nodes per master group: perfect.
					if p.Score != 0 {
						t.Errorf("score = %d, want 0", p.Score)
					}
				}
			})
		}
	}
}

// TestCreateLeftovers covers more leftover nodes than masters: the extra pass
// gives one to each master and the rest stay without a role.
func TestCreateLeftovers(t *testing.T) {
	nodes := hostsRoundRobin(23, 3) // R=5: M=3, 15 replicas in pass 1, 5 left
	p, err := Create(nodes, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Assignments) != 18 || p.ExtraFrom != 15 {
		t.Fatalf("%d assignments, extra from %d", len(p.Assignments), p.ExtraFrom)
	}
	orphans := 0
	for i, mo := range p.MasterOf {
		if mo == -1 && !contains(p.Masters, i) {
			orphans++
		}
	}
	if orphans != 2 {
		t.Errorf("%d nodes without a role, want 2", orphans)
	}
	checkPlan(t, nodes, 5, p)
}

func contains(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
