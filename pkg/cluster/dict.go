package cluster

import (
	"encoding/binary"
	"math/bits"
)

// Dict emulates the iteration order of Redis' dict (dict.c) with redis-cli's zero hash seed.
//
// redis-cli prints several sets (open slots, uncovered slots, unreachable
// addresses) by iterating such a dict, so reproducing its output byte for
// byte needs the same tables, hash and incremental rehashing.
//
// The default is redis-cli 7.0's dict.c (verified against redis-cli 7.0.15,
// the version rcluster is byte-compatible with). Later versions differ in one
// point, see moveAccessed.
type Dict struct {
	table     [2][]*dictEntry
	used      [2]int
	rehashIdx int // next table 0 bucket to move; only while table 1 exists
	// moveAccessed selects the dict.c of redis-cli after 7.0 (unstable
	// 4f8cdc2, which the spec's transcripts come from): before an access
	// during rehashing it first moves the accessed bucket, where 7.0 always
	// does a plain step at rehashIdx. Orders can differ from the sixth access
	// on, once rehashing has started.
	moveAccessed bool
}

type dictEntry struct {
	key  string
	hash uint64
	next *dictEntry
}

const (
	dictInitialSize = 4
	// dict.c gives each rehash step n*10 empty-bucket visits, with n = 1.
	dictEmptyVisits = 10
)

// NewDict returns an empty dict with redis-cli 7.0's iteration order.
func NewDict() *Dict { return &Dict{} }

// NewDictUnstable returns an empty dict with the iteration order of redis-cli
// versions after 7.2 and of valkey-cli 8 (verified against valkey-cli 8.0.1;
// redis-cli 7.2.3 still has 7.0's).
func NewDictUnstable() *Dict { return &Dict{moveAccessed: true} }

// DictOrder returns keys in the order a fresh Dict iterates them after adding them in the given order.
func DictOrder(keys []string) []string {
	d := NewDict()
	for _, k := range keys {
		d.Add(k)
	}
	return d.Keys()
}

// Len returns the number of keys.
func (d *Dict) Len() int { return d.used[0] + d.used[1] }

// rehashing stands for dict.c's rehashidx != -1; table 1 exists exactly then,
// which keeps the zero Dict usable.
func (d *Dict) rehashing() bool { return d.table[1] != nil }

// Add inserts key like dictAdd/dictReplace: an existing key keeps its place; true if newly added.
func (d *Dict) Add(key string) bool {
	h := dictHash(key)
	d.preAccess(h)
	if !d.rehashing() {
		switch size := len(d.table[0]); {
		case size == 0:
			d.table[0] = make([]*dictEntry, dictInitialSize)
		case d.used[0] >= size:
			// dict.c only allocates the new table here; buckets move lazily.
			d.table[1] = make([]*dictEntry, dictNextSize(d.used[0]+1))
			d.rehashIdx = 0
		}
	}
	if d.lookup(key, h) {
		return false
	}
	t := 0
	if d.rehashing() {
		t = 1
	}
	i := h & uint64(len(d.table[t])-1)
	d.table[t][i] = &dictEntry{key: key, hash: h, next: d.table[t][i]}
	d.used[t]++
	return true
}

// Find reports whether key is present, like dictFind, including the rehash
// work dictFind does on a non-empty dict (it changes later iteration order).
func (d *Dict) Find(key string) bool {
	if d.Len() == 0 {
		return false
	}
	h := dictHash(key)
	d.preAccess(h)
	return d.lookup(key, h)
}

// Keys returns the keys in the order of a non-safe dict iterator.
func (d *Dict) Keys() []string {
	out := make([]string, 0, d.Len())
	start := 0
	if d.rehashing() {
		start = d.rehashIdx // buckets below it are empty
	}
	for _, e := range d.table[0][start:] {
		for ; e != nil; e = e.next {
			out = append(out, e.key)
		}
	}
	if d.rehashing() {
		for _, e := range d.table[1] {
			for ; e != nil; e = e.next {
				out = append(out, e.key)
			}
		}
	}
	return out
}

// lookup searches both tables without side effects.
func (d *Dict) lookup(key string, h uint64) bool {
	for t := 0; t <= 1; t++ {
		if len(d.table[t]) == 0 {
			break
		}
		i := int(h & uint64(len(d.table[t])-1))
		if t == 0 && d.rehashing() && i < d.rehashIdx {
			continue // already moved to table 1
		}
		for e := d.table[t][i]; e != nil; e = e.next {
			if e.key == key {
				return true
			}
		}
		if !d.rehashing() {
			break
		}
	}
	return false
}

// preAccess is the rehash work done before every insert and every lookup on a
// non-empty dict: rehash the bucket about to be accessed if it still holds
// entries, else one ordinary rehash step.
func (d *Dict) preAccess(h uint64) {
	if !d.rehashing() {
		return
	}
	i := int(h & uint64(len(d.table[0])-1))
	if d.moveAccessed && i >= d.rehashIdx && d.table[0][i] != nil {
		d.moveBucket(i)
		d.finishCheck()
		return
	}
	d.rehashStep()
}

// rehashStep is dictRehash(d, 1): move the next non-empty bucket, giving up
// after ten empty ones.
func (d *Dict) rehashStep() {
	visits := dictEmptyVisits
	if d.used[0] != 0 {
		for d.table[0][d.rehashIdx] == nil {
			d.rehashIdx++
			visits--
			if visits == 0 {
				return
			}
		}
		d.moveBucket(d.rehashIdx)
		d.rehashIdx++
	}
	d.finishCheck()
}

// moveBucket pushes each entry of table 0 bucket b, front to back, onto the
// front of its table 1 chain, which reverses colliding entries.
func (d *Dict) moveBucket(b int) {
	mask := uint64(len(d.table[1]) - 1)
	for e := d.table[0][b]; e != nil; {
		next := e.next
		i := e.hash & mask
		e.next = d.table[1][i]
		d.table[1][i] = e
		d.used[0]--
		d.used[1]++
		e = next
	}
	d.table[0][b] = nil
}

func (d *Dict) finishCheck() {
	if d.used[0] == 0 {
		d.table[0], d.used[0] = d.table[1], d.used[1]
		d.table[1], d.used[1] = nil, 0
		d.rehashIdx = 0
	}
}

// dictNextSize is the smallest power of two >= n, at least the initial size.
func dictNextSize(n int) int {
	if n <= dictInitialSize {
		return dictInitialSize
	}
	return 1 << bits.Len(uint(n-1))
}

// dictHash is dict.c's dictGenHashFunction with the seed redis-cli never sets.
func dictHash(key string) uint64 {
	var zero [16]byte
	return sipHash(zero, []byte(key), 1, 2)
}

// sipHash is SipHash-c-d. Redis' dict uses the reduced SipHash-1-2; the round
// counts are parameters so the standard SipHash-2-4 vectors can test it.
func sipHash(key [16]byte, msg []byte, cRounds, dRounds int) uint64 {
	k0 := binary.LittleEndian.Uint64(key[:8])
	k1 := binary.LittleEndian.Uint64(key[8:])
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573

	rounds := func(n int) {
		for ; n > 0; n-- {
			v0 += v1
			v1 = bits.RotateLeft64(v1, 13)
			v1 ^= v0
			v0 = bits.RotateLeft64(v0, 32)
			v2 += v3
			v3 = bits.RotateLeft64(v3, 16)
			v3 ^= v2
			v0 += v3
			v3 = bits.RotateLeft64(v3, 21)
			v3 ^= v0
			v2 += v1
			v1 = bits.RotateLeft64(v1, 17)
			v1 ^= v2
			v2 = bits.RotateLeft64(v2, 32)
		}
	}

	n := len(msg)
	for ; len(msg) >= 8; msg = msg[8:] {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		rounds(cRounds)
		v0 ^= m
	}
	// Last block: the remaining bytes, with the length's low byte on top.
	b := uint64(n) << 56
	for i, c := range msg {
		b |= uint64(c) << (8 * i)
	}
	v3 ^= b
	rounds(cRounds)
	v0 ^= b

	v2 ^= 0xff
	rounds(dRounds)
	return v0 ^ v1 ^ v2 ^ v3
}
