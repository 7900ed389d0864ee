package plan

import "math/rand/v2"

// Anti-affinity costs, as in clusterManagerGetAntiAffinityScore.
const (
	sameHostAsMaster = 10000 // per replica on its master's host
)

// AntiAffinityScore is redis-cli's anti-affinity score of a layout. masterOf
// gives, per input index, the input index of the node's master, or a
// negative value for a master. Hosts are compared as exact strings.
//
// For every host, the nodes are partitioned by master (a master's own index,
// a replica's masterOf). A partition of size s >= 2 costs 10000*(s-1) when it
// contains the master, otherwise s.
func AntiAffinityScore(nodes []CreateNode, masterOf []int) int {
	type cell struct {
		host string
		key  int
	}
	type part struct {
		size      int
		hasMaster bool
	}
	parts := make(map[cell]*part)
	var order []cell
	for i, n := range nodes {
		k, isMaster := i, true
		if i < len(masterOf) && masterOf[i] >= 0 && masterOf[i] < len(nodes) {
			k, isMaster = masterOf[i], false
		}
		c := cell{n.Host, k}
		p := parts[c]
		if p == nil {
			p = &part{}
			parts[c] = p
			order = append(order, c)
		}
		p.size++
		if isMaster {
			p.hasMaster = true
		}
	}
	score := 0
	for _, c := range order {
		p := parts[c]
		if p.size < 2 {
			continue
		}
		if p.hasMaster {
			score += sameHostAsMaster * (p.size - 1)
		} else {
			score += p.size
		}
	}
	return score
}

// affinity is the optimiser's working state. Replicas on the same host are
// interchangeable for the score, so the score only depends on cnt: the number
// of replicas per (host, master) cell.
type affinity struct {
	nk      int
	mhost   []int // per master key: host of the master itself, -1 if it is not a master
	keyNode []int // per master key: input index
	reps    []int // replica input indexes, in input order
	rhost   []int // per replica: host
	rkey    []int // per replica: master key
	cnt     []int // [host*nk+key] replicas of key on host
	score   int
	lb      int // a lower bound of the score: the search stops there
}

func newAffinity(nodes []CreateNode, masterOf []int) *affinity {
	a := &affinity{}
	hostIdx := make(map[string]int)
	hostOf := make([]int, len(nodes))
	for i, n := range nodes {
		h, ok := hostIdx[n.Host]
		if !ok {
			h = len(hostIdx)
			hostIdx[n.Host] = h
		}
		hostOf[i] = h
	}
	isReplica := func(i int) bool { return masterOf[i] >= 0 && masterOf[i] < len(nodes) }
	keyOf := make(map[int]int)
	for i := range nodes {
		if !isReplica(i) {
			continue
		}
		m := masterOf[i]
		k, ok := keyOf[m]
		if !ok {
			k = len(a.keyNode)
			keyOf[m] = k
			a.keyNode = append(a.keyNode, m)
			mh := -1
			if !isReplica(m) {
				mh = hostOf[m]
			}
			a.mhost = append(a.mhost, mh)
		}
		a.reps = append(a.reps, i)
		a.rhost = append(a.rhost, hostOf[i])
		a.rkey = append(a.rkey, k)
	}
	a.nk = len(a.keyNode)
	a.cnt = make([]int, len(hostIdx)*a.nk)
	for r := range a.reps {
		a.cnt[a.rhost[r]*a.nk+a.rkey[r]]++
	}
	for h := 0; h < len(hostIdx); h++ {
		for k := 0; k < a.nk; k++ {
			a.score += a.cellCost(h, k)
		}
	}
	a.lb = a.lowerBound(len(hostIdx))
	return a
}

// lowerBound counts the replicas that must sit on their master's host: those
// of a host beyond the number of replica places of the masters living
// elsewhere.
func (a *affinity) lowerBound(nh int) int {
	onHost := make([]int, nh) // replicas per host
	for _, h := range a.rhost {
		onHost[h]++
	}
	places := make([]int, nh) // replica places of the masters on each host
	for r := range a.reps {
		if mh := a.mhost[a.rkey[r]]; mh >= 0 {
			places[mh]++
		}
	}
	lb := 0
	for h := range onHost {
		if forced := onHost[h] - (len(a.reps) - places[h]); forced > 0 {
			lb += sameHostAsMaster * forced
		}
	}
	return lb
}

func (a *affinity) cost(h, k, c int) int {
	if a.mhost[k] == h {
		return sameHostAsMaster * c
	}
	if c >= 2 {
		return c
	}
	return 0
}

func (a *affinity) cellCost(h, k int) int { return a.cost(h, k, a.cnt[h*a.nk+k]) }

// offending reports whether replica r sits in a cell that costs something.
func (a *affinity) offending(r int) bool { return a.cellCost(a.rhost[r], a.rkey[r]) > 0 }

// setKey makes replica r replicate master key k, updating the score.
func (a *affinity) setKey(r, k int) {
	h, old := a.rhost[r], a.rkey[r]
	if old == k {
		return
	}
	i, j := h*a.nk+old, h*a.nk+k
	a.score -= a.cost(h, old, a.cnt[i]) + a.cost(h, k, a.cnt[j])
	a.cnt[i]--
	a.cnt[j]++
	a.score += a.cost(h, old, a.cnt[i]) + a.cost(h, k, a.cnt[j])
	a.rkey[r] = k
}

// swap exchanges the masters of replicas r and s.
func (a *affinity) swap(r, s int) {
	kr, ks := a.rkey[r], a.rkey[s]
	a.setKey(r, ks)
	a.setKey(s, kr)
}

// swapDelta is the score change swap(r, s) would make.
func (a *affinity) swapDelta(r, s int) int {
	hr, hs, kr, ks := a.rhost[r], a.rhost[s], a.rkey[r], a.rkey[s]
	if hr == hs || kr == ks {
		return 0
	}
	n := a.nk
	c1, c2, c3, c4 := a.cnt[hr*n+kr], a.cnt[hr*n+ks], a.cnt[hs*n+ks], a.cnt[hs*n+kr]
	before := a.cost(hr, kr, c1) + a.cost(hr, ks, c2) + a.cost(hs, ks, c3) + a.cost(hs, kr, c4)
	after := a.cost(hr, kr, c1-1) + a.cost(hr, ks, c2+1) + a.cost(hs, ks, c3-1) + a.cost(hs, kr, c4+1)
	return after - before
}

// rotate moves the masters around a 3-cycle: r takes s's, s takes t's and t
// takes r's.
func (a *affinity) rotate(r, s, t int) {
	kr, ks, kt := a.rkey[r], a.rkey[s], a.rkey[t]
	a.setKey(r, ks)
	a.setKey(s, kt)
	a.setKey(t, kr)
}

func (a *affinity) offenders(buf []int) []int {
	buf = buf[:0]
	for r := range a.reps {
		if a.offending(r) {
			buf = append(buf, r)
		}
	}
	return buf
}

// maxCycleWork bounds the 3-cycle search (offenders x replicas^2 triples).
const maxCycleWork = 4_000_000

// descend applies strictly improving pair swaps, then strictly improving
// 3-cycles, until neither helps. Only a replica in a costly cell can lower
// the score by moving, so one member of every move is an offender.
func (a *affinity) descend() {
	var off []int
	for a.score > a.lb {
		improved := false
		off = a.offenders(off)
		for _, r := range off {
			if !a.offending(r) {
				continue
			}
			for s := range a.reps {
				if s != r && a.swapDelta(r, s) < 0 {
					a.swap(r, s)
					improved = true
					if !a.offending(r) {
						break
					}
				}
			}
		}
		if improved {
			continue
		}
		if len(off)*len(a.reps)*len(a.reps) > maxCycleWork {
			return
		}
		for _, r := range off {
			for s := range a.reps {
				if s == r || a.rkey[s] == a.rkey[r] {
					continue
				}
				for t := range a.reps {
					if t == r || t == s || a.rkey[t] == a.rkey[s] || a.rkey[t] == a.rkey[r] {
						continue
					}
					before := a.score
					a.rotate(r, s, t)
					if a.score < before {
						improved = true
						break
					}
					a.rotate(t, s, r) // undo: the inverse cycle
				}
				if improved {
					break
				}
			}
			if improved {
				break
			}
		}
		if !improved {
			return
		}
	}
}

// walk is redis-cli's random search made deterministic: iters times, move
// the master of a random offending replica, keeping the move unless it
// raises the score (an increase d is kept only if accept(d) says so). Half
// of the moves are redis-cli's swaps with a random other replica, the other
// half 3-cycles with two random other replicas (some plateaus are only left
// that way). It returns the best layout seen (rkey values).
func (a *affinity) walk(rng *rand.Rand, iters int, accept func(delta int) bool) []int {
	best := append([]int(nil), a.rkey...)
	bestScore := a.score
	var off []int
	stale := true
	nr := len(a.reps)
	for ; iters > 0 && a.score > a.lb && nr > 1; iters-- {
		if stale {
			off = a.offenders(off)
			stale = false
			if len(off) == 0 {
				break
			}
		}
		r := off[rng.IntN(len(off))]
		s := rng.IntN(nr - 1)
		if s >= r {
			s++
		}
		if nr > 2 && rng.IntN(2) == 0 {
			t := rng.IntN(nr)
			kr, ks, kt := a.rkey[r], a.rkey[s], a.rkey[t]
			if t == r || t == s || kr == ks || kr == kt || ks == kt {
				continue
			}
			before := a.score
			a.rotate(r, s, t)
			if d := a.score - before; d > 0 && !accept(d) {
				a.rotate(t, s, r)
				continue
			}
		} else {
			if a.rhost[r] == a.rhost[s] || a.rkey[r] == a.rkey[s] {
				continue // no effect on the score
			}
			if d := a.swapDelta(r, s); d > 0 && !accept(d) {
				continue
			}
			a.swap(r, s)
		}
		stale = true
		if a.score < bestScore {
			bestScore = a.score
			copy(best, a.rkey)
		}
	}
	return best
}

func (a *affinity) load(rkey []int) {
	for r, k := range rkey {
		a.setKey(r, k)
	}
}

// walkSeed fixes the optimiser's PRNG so that plans are reproducible.
const walkSeed = 0x7263_6c75_7374_6572 // "rcluster"

// optimizeAntiAffinity improves masterOf in place by exchanging the masters
// of replicas (per-master replica counts never change) and returns the new
// score, which is never above the initial one. The search is deterministic:
// strict descent (pair swaps, then 3-cycles); a fixed-seed plateau walk of
// 500*len(nodes) steps like redis-cli's, keeping the best layout seen; strict
// descent; a second fixed-seed walk of the same length that also accepts
// small (< 3) increases now and then, again keeping the best layout; and a
// final strict descent. Each stage stops early at a perfect score or at a
// lower bound (replicas that cannot avoid their master's host).
func optimizeAntiAffinity(nodes []CreateNode, masterOf []int) int {
	a := newAffinity(nodes, masterOf)
	a.descend()
	if a.score > a.lb {
		rng := rand.New(rand.NewPCG(walkSeed, uint64(len(nodes))))
		best := a.walk(rng, 500*len(nodes), func(int) bool { return false })
		a.load(best)
		a.descend()
	}
	if a.score > a.lb {
		rng := rand.New(rand.NewPCG(walkSeed, uint64(len(nodes))+1))
		warm := func(d int) bool { return d < 3 && rng.IntN(8) == 0 }
		best := a.walk(rng, 500*len(nodes), warm)
		a.load(best)
		a.descend()
	}
	for r, i := range a.reps {
		masterOf[i] = a.keyNode[a.rkey[r]]
	}
	return a.score
}
