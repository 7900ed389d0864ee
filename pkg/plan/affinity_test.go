package plan

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// layout builds nodes from a host letter per node ("AABBC") and a masterOf
// slice.
func hostsOf(spec string) []CreateNode {
	nodes := make([]CreateNode, len(spec))
	for i, h := range spec {
		nodes[i] = CreateNode{Host: "host-" + string(h), Port: 7000 + i}
	}
	return nodes
}

func TestAntiAffinityScore(t *testing.T) {
	tests := []struct {
		name     string
		hosts    string
		masterOf []int
		want     int
	}{
		{"all masters", "AAA", []int{-1, -1, -1}, 0},
		{"perfect 6/3", "ABCABC", []int{-1, -1, -1, 1, 2, 0}, 0},
		{"replica with master", "AAB", []int{-1, 0, -1}, 10000},
		{"two replicas with master", "AAAB", []int{-1, 0, 0, -1}, 20000},
		{"two replicas together", "ABB", []int{-1, 0, 0}, 2},
		{"three replicas together", "ABBB", []int{-1, 0, 0, 0}, 3},
		{"mixed", "AABBBC", []int{-1, 0, -1, 0, 0, -1}, 10000 + 2},
		{"one host 6/1", "AAAAAA", []int{-1, -1, -1, 0, 1, 2}, 30000},
		{"one host 7/1 extra", "AAAAAAA", []int{-1, -1, -1, 0, 0, 1, 2}, 40000},
		{"short masterOf counts as masters", "AAA", []int{-1}, 0},
		{"out of range counts as master", "AB", []int{-1, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := hostsOf(tt.hosts)
			if got := AntiAffinityScore(nodes, tt.masterOf); got != tt.want {
				t.Errorf("AntiAffinityScore = %d, want %d", got, tt.want)
			}
			if len(tt.masterOf) == len(nodes) {
				if got := newAffinity(nodes, tt.masterOf).score; got != tt.want {
					t.Errorf("affinity engine score = %d, want %d", got, tt.want)
				}
			}
		})
	}
}

func TestCreateDeterministic(t *testing.T) {
	cases := [][]CreateNode{
		hostsRoundRobin(60, 4), hostsBlocks(60, 5), hostsBlocks(24, 5), hostsOf("AAAAABBBCCD"),
		hostsBlocks(37, 3),
	}
	for i, nodes := range cases {
		for _, r := range []int{1, 2, 3} {
			if MasterCount(len(nodes), r) < 3 {
				continue
			}
			p1, err1 := Create(nodes, r)
			p2, err2 := Create(slices.Clone(nodes), r)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !reflect.DeepEqual(p1, p2) {
				t.Errorf("case %d r=%d: two runs differ", i, r)
			}
		}
	}
}

func TestCreatePerfect(t *testing.T) {
	tests := []struct {
		name     string
		nodes    []CreateNode
		replicas int
	}{
		{"6 over 3 hosts r1 blocks", hostsOf("AABBCC"), 1},
		{"6 over 3 hosts r1 rr", hostsOf("ABCABC"), 1},
		{"9 over 3 hosts r2 blocks", hostsOf("AAABBBCCC"), 2},
		{"9 over 3 hosts r2 rr", hostsOf("ABCABCABC"), 2},
		{"12 over 4 hosts r2", hostsOf("AAABBBCCCDDD"), 2},
		{"8 over 4 hosts r1 uneven", hostsOf("AAABCCDD"), 1},
		{"60 over 4 hosts r1", hostsBlocks(60, 4), 1},
		{"60 over 4 hosts r2", hostsBlocks(60, 4), 2},
		{"60 over 5 hosts r1", hostsBlocks(60, 5), 1},
		{"60 over 5 hosts r2", hostsBlocks(60, 5), 2},
		{"60 over 6 hosts r1", hostsBlocks(60, 6), 1},
		{"60 over 6 hosts r2", hostsBlocks(60, 6), 2},
		{"60 over 6 hosts r3", hostsBlocks(60, 6), 3},
		{"60 over 6 hosts r4", hostsBlocks(60, 6), 4},
		{"60 over 6 hosts r5", hostsBlocks(60, 6), 5},
		{"60 over 4 hosts rr r2", hostsRoundRobin(60, 4), 2},
		{"60 over 6 hosts rr r1", hostsRoundRobin(60, 6), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Create(tt.nodes, tt.replicas)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, tt.nodes, tt.replicas, p)
			if p.Score != 0 {
				t.Errorf("score = %d, want 0 (optimized %v)", p.Score, p.Optimized)
			}
		})
	}
}

// bruteForceOptimum is the best score over all permutations of the replicas'
// masters (Heap's algorithm; each step is one swap).
func bruteForceOptimum(nodes []CreateNode, masterOf []int) int {
	a := newAffinity(nodes, masterOf)
	n := len(a.reps)
	best := a.score
	c := make([]int, n)
	for i := 1; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				a.swap(0, i)
			} else {
				a.swap(c[i], i)
			}
			best = min(best, a.score)
			c[i]++
			i = 1
		} else {
			c[i] = 0
			i++
		}
	}
	return best
}

func randomHosts(rng *rand.Rand, n, hosts int) []CreateNode {
	nodes := make([]CreateNode, n)
	for i := range nodes {
		nodes[i] = CreateNode{Host: fmt.Sprintf("h%d", rng.IntN(hosts)), Port: 7000 + i}
	}
	return nodes
}

// TestOptimumBruteForce checks, on small cases (<= 8 replicas), that the
// optimiser reaches the optimum found by exhaustive search, both from
// Create's initial assignment and from shuffled assignments.
func TestOptimumBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	count := 300
	if testing.Short() {
		count = 60
	}
	for iter := 0; iter < count; iter++ {
		replicas := 1 + rng.IntN(3)
		m := 3 + rng.IntN(2)
		n := m*(replicas+1) + rng.IntN(replicas+1)
		if n-m > 8 {
			n = m + 8
		}
		if MasterCount(n, replicas) < 3 {
			continue
		}
		nodes := randomHosts(rng, n, 2+rng.IntN(4))
		p, err := Create(nodes, replicas)
		if err != nil {
			t.Fatal(err)
		}
		initial := initialMasterOf(n, p)
		opt := bruteForceOptimum(nodes, initial)
		if e := exactOptimum(nodes, initial); e != opt {
			t.Fatalf("iter %d: exact solver %d, brute force %d", iter, e, opt)
		}
		if p.Score != opt {
			t.Errorf("iter %d: %s r=%d: score %d, optimum %d", iter, describe(nodes), replicas, p.Score, opt)
		}
		// A shuffled start of the same multiset.
		shuffled := slices.Clone(initial)
		var reps []int
		for i, mo := range shuffled {
			if mo >= 0 {
				reps = append(reps, i)
			}
		}
		for i := len(reps) - 1; i > 0; i-- {
			j := rng.IntN(i + 1)
			shuffled[reps[i]], shuffled[reps[j]] = shuffled[reps[j]], shuffled[reps[i]]
		}
		s0 := AntiAffinityScore(nodes, shuffled)
		got := optimizeAntiAffinity(nodes, shuffled)
		if got != opt || got > s0 || AntiAffinityScore(nodes, shuffled) != got {
			t.Errorf("iter %d shuffled: %s r=%d: score %d (initial %d), optimum %d", iter, describe(nodes), replicas, got, s0, opt)
		}
	}
}

func describe(nodes []CreateNode) string {
	var b strings.Builder
	for _, n := range nodes {
		b.WriteString(strings.TrimPrefix(n.Host, "h"))
	}
	return b.String()
}

// glibcRand is glibc's srand/rand (TYPE_3 additive feedback generator).
type glibcRand struct {
	r []int32
}

func newGlibcRand(seed uint32) *glibcRand {
	r := make([]int32, 344, 1024)
	if seed == 0 {
		seed = 1
	}
	r[0] = int32(seed)
	for i := 1; i < 31; i++ {
		hi, lo := r[i-1]/127773, r[i-1]%127773
		w := 16807*lo - 2836*hi
		if w < 0 {
			w += 2147483647
		}
		r[i] = w
	}
	for i := 31; i < 34; i++ {
		r[i] = r[i-31]
	}
	for i := 34; i < 344; i++ {
		r[i] = int32(uint32(r[i-31]) + uint32(r[i-3]))
	}
	return &glibcRand{r: r}
}

func (g *glibcRand) next() int {
	i := len(g.r)
	v := int32(uint32(g.r[i-31]) + uint32(g.r[i-3]))
	g.r = append(g.r, v)
	if len(g.r) > 4096 {
		g.r = append(g.r[:0], g.r[len(g.r)-34:]...)
	}
	return int(uint32(v) >> 1)
}

func TestGlibcRand(t *testing.T) {
	tests := []struct {
		seed uint32
		want []int
	}{
		{1, []int{1804289383, 846930886, 1681692777, 1714636915, 1957747793}},
		{1700000000, []int{280491303, 626398474, 65378190, 821524244, 1465218044}},
	}
	for _, tt := range tests {
		g := newGlibcRand(tt.seed)
		var got []int
		for range tt.want {
			got = append(got, g.next())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("seed %d: %v, want %v", tt.seed, got, tt.want)
		}
	}
}

// redisCliOptimize emulates clusterManagerOptimizeAntiAffinity with a given
// srand seed (offenders per host group in order of first appearance, and per
// master in order of first appearance within the group instead of the
// Redis-dict order, which only changes which random draws pick what).
func redisCliOptimize(nodes []CreateNode, masterOf []int, seed uint32) int {
	mo := slices.Clone(masterOf)
	var hosts []string
	for _, n := range nodes {
		if !slices.Contains(hosts, n.Host) {
			hosts = append(hosts, n.Host)
		}
	}
	key := func(i int) int {
		if mo[i] >= 0 {
			return mo[i]
		}
		return i
	}
	scoreAndOffenders := func() (int, []int) {
		score := 0
		var off []int
		for _, h := range hosts {
			var keys []int
			size := map[int]int{}
			hasM := map[int]bool{}
			for i, n := range nodes {
				if n.Host != h {
					continue
				}
				k := key(i)
				if size[k] == 0 {
					keys = append(keys, k)
				}
				size[k]++
				if mo[i] < 0 {
					hasM[k] = true
				}
			}
			for _, k := range keys {
				if size[k] < 2 {
					continue
				}
				if hasM[k] {
					score += 10000 * (size[k] - 1)
				} else {
					score += size[k]
				}
				for i, n := range nodes {
					if mo[i] == k && n.Host == h {
						off = append(off, i)
						break
					}
				}
			}
		}
		return score, off
	}
	g := newGlibcRand(seed)
	score, _ := scoreAndOffenders()
	for iter := 500 * len(nodes); iter > 0; iter-- {
		var off []int
		score, off = scoreAndOffenders()
		if score == 0 || len(off) == 0 {
			break
		}
		first := off[g.next()%len(off)]
		var others []int
		for i := range nodes {
			if i != first && mo[i] >= 0 {
				others = append(others, i)
			}
		}
		if len(others) == 0 {
			break
		}
		second := others[g.next()%len(others)]
		mo[first], mo[second] = mo[second], mo[first]
		if s, _ := scoreAndOffenders(); s > score {
			mo[first], mo[second] = mo[second], mo[first]
		} else {
			score = s
		}
	}
	return score
}

// TestNotWorseThanRedisCli runs an emulation of redis-cli's time-seeded
// optimiser with many seeds and checks that the deterministic optimiser is
// never worse.
func TestNotWorseThanRedisCli(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type tc struct {
		nodes    []CreateNode
		replicas int
	}
	var cases []tc
	for _, r := range []int{1, 2} {
		cases = append(cases,
			tc{hostsOf("AAAAABBBCC"), r}, tc{hostsOf("AAAAAAABBBBCCD"), r},
			tc{hostsBlocks(24, 5), r}, tc{hostsOf("AAAAAAAAABBBBBBCCCDD"), r},
			tc{hostsOf("ABABAAAA"), r}, tc{hostsOf("AAAAAAAAAAAABBBBBBBC"), r})
	}
	for i := 0; i < 12; i++ {
		n := 8 + rng.IntN(16)
		cases = append(cases, tc{randomHosts(rng, n, 2+rng.IntN(4)), 1 + rng.IntN(2)})
	}
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for ci, c := range cases {
		p, err := Create(c.nodes, c.replicas)
		if err != nil {
			continue
		}
		initial := initialMasterOf(len(c.nodes), p)
		for s := 0; s < seeds; s++ {
			theirs := redisCliOptimize(c.nodes, initial, uint32(1700000000+s))
			if p.Score > theirs {
				t.Errorf("case %d (%s r=%d): score %d, redis-cli seed %d reaches %d",
					ci, describe(c.nodes), c.replicas, p.Score, s, theirs)
			}
		}
	}
}

// TestOptimizeNeverWorse applies the optimiser to random layouts.
func TestOptimizeNeverWorse(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for iter := 0; iter < 200; iter++ {
		n := 6 + rng.IntN(40)
		nodes := randomHosts(rng, n, 1+rng.IntN(6))
		masterOf := make([]int, n)
		masters := 3 + rng.IntN(n/2-2)
		for i := range masterOf {
			if i < masters {
				masterOf[i] = -1
			} else {
				masterOf[i] = rng.IntN(masters)
			}
		}
		counts := func(mo []int) map[int]int {
			c := map[int]int{}
			for _, m := range mo {
				c[m]++
			}
			return c
		}
		before := counts(masterOf)
		s0 := AntiAffinityScore(nodes, masterOf)
		got := optimizeAntiAffinity(nodes, masterOf)
		if got > s0 || got != AntiAffinityScore(nodes, masterOf) {
			t.Fatalf("iter %d: score %d, initial %d, recomputed %d", iter, got, s0, AntiAffinityScore(nodes, masterOf))
		}
		if !reflect.DeepEqual(before, counts(masterOf)) {
			t.Fatalf("iter %d: replica counts changed", iter)
		}
	}
}

// exactOptimum solves the problem exactly on the count matrix (replicas of
// each master per host; replicas on one host are interchangeable for the
// score) by dynamic programming over the masters, the state being the number
// of replicas still to place on each host.
func exactOptimum(nodes []CreateNode, masterOf []int) int {
	a := newAffinity(nodes, masterOf)
	nh := len(a.cnt) / max(a.nk, 1)
	rem := make([]int, nh)
	for r := range a.reps {
		rem[a.rhost[r]]++
	}
	d := make([]int, a.nk)
	for r := range a.reps {
		d[a.rkey[r]]++
	}
	memo := map[string]int{}
	var f func(k int) int
	key := func(k int) string {
		b := make([]byte, 0, nh+1)
		b = append(b, byte(k))
		for _, x := range rem {
			b = append(b, byte(x))
		}
		return string(b)
	}
	f = func(k int) int {
		if k == a.nk {
			return 0
		}
		kk := key(k)
		if v, ok := memo[kk]; ok {
			return v
		}
		best := 1 << 60
		// distribute d[k] over hosts
		var rec func(h, left, acc int)
		rec = func(h, left, acc int) {
			if h == nh {
				if left == 0 {
					if v := acc + f(k+1); v < best {
						best = v
					}
				}
				return
			}
			for c := 0; c <= left && c <= rem[h]; c++ {
				rem[h] -= c
				rec(h+1, left-c, acc+a.cost(h, k, c))
				rem[h] += c
			}
		}
		rec(0, d[k], 0)
		memo[kk] = best
		return best
	}
	return f(0)
}

// TestOptimumExact compares the optimiser with an exact solver on
// medium-sized random cases (up to 40 nodes, 2-5 hosts, skewed host sizes).
func TestOptimumExact(t *testing.T) {
	fixed := []struct {
		name     string
		nodes    []CreateNode
		replicas int
		want     int
	}{
		{"60 over 2 hosts r2", hostsBlocks(60, 2), 2, 40},
		{"60 over 2 hosts r1", hostsBlocks(60, 2), 1, 0},
		{"60 over 3 hosts r3", hostsBlocks(60, 3), 3, -1},
		{"60 skewed r1", hostsOf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBCCCCCCDDD"), 1, -1},
		{"60 skewed r2", hostsOf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBBBBBBBBBBBCCCCCCDDD"), 2, -1},
		{"12 hard r3", hostsOf("ADDCDDDBAACA"), 3, 5},
	}
	for _, f := range fixed {
		p, err := Create(f.nodes, f.replicas)
		if err != nil {
			t.Fatal(err)
		}
		opt := exactOptimum(f.nodes, initialMasterOf(len(f.nodes), p))
		if p.Score != opt || f.want >= 0 && opt != f.want {
			t.Errorf("%s: score %d, optimum %d, want %d", f.name, p.Score, opt, f.want)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	count := 300
	if testing.Short() {
		count = 50
	}
	for iter := 0; iter < count; iter++ {
		replicas := 1 + rng.IntN(3)
		n := 9 + rng.IntN(32)
		if MasterCount(n, replicas) < 3 {
			continue
		}
		h := 2 + rng.IntN(4)
		skew := rng.Float64() // share of the nodes forced onto the first host
		nodes := make([]CreateNode, n)
		for i := range nodes {
			x := 0
			if rng.Float64() > skew {
				x = rng.IntN(h)
			}
			nodes[i] = CreateNode{Host: fmt.Sprintf("h%d", x), Port: 7000 + i}
		}
		p, err := Create(nodes, replicas)
		if err != nil {
			t.Fatal(err)
		}
		if opt := exactOptimum(nodes, initialMasterOf(n, p)); p.Score != opt {
			t.Errorf("iter %d: %s r=%d: score %d, optimum %d", iter, describe(nodes), replicas, p.Score, opt)
		}
	}
}
