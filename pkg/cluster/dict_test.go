package cluster

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDictHashVectors(t *testing.T) {
	// Appendix A.
	tests := []struct {
		key  string
		want uint64
	}{
		{"", 0x3204eeb59b3cccdd},
		{"0", 0x7fb657ddfa750f0f},
		{"1", 0xd880aec7a8632496},
		{"609", 0x105ee375c1700f8b},
		{"5461", 0x2719e7620fc8dab5},
		{"16383", 0x4c81c9f52820d9d4},
		{"127.0.0.1:30002@40002", 0x345afde6e4efe61d},
	}
	for _, tt := range tests {
		if got := dictHash(tt.key); got != tt.want {
			t.Errorf("dictHash(%q) = %016x, want %016x", tt.key, got, tt.want)
		}
	}
}

// The construction shared with SipHash-1-2 is checked with the published
// SipHash-2-4 vectors (key 00..0f, message 00..len-1).
func TestSipHash24ReferenceVectors(t *testing.T) {
	var key [16]byte
	msg := make([]byte, 15)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	tests := []struct {
		n    int
		want uint64
	}{
		{0, 0x726fdb47dd0e0e31},
		{15, 0xa129ca6149be45e5},
	}
	for _, tt := range tests {
		if got := sipHash(key, msg[:tt.n], 2, 4); got != tt.want {
			t.Errorf("SipHash-2-4(%d bytes) = %016x, want %016x", tt.n, got, tt.want)
		}
	}
}

func seqKeys(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func splitKeys(s string) []string { return strings.Split(s, ",") }

func joinKeys(k []string) string { return strings.Join(k, ",") }

func TestDictOrderAppendixA(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{splitKeys("1,2"), "2,1"},
		{splitKeys("5,6"), "6,5"},
		{seqKeys(0, 9), "7,5,3,0,4,1,6,8,9,2"},
		{seqKeys(0, 19), "4,1,6,11,5,3,8,13,9,2,0,10,19,14,18,12,7,15,16,17"},
		{seqKeys(609, 613), "612,610,611,609,613"},
		// Transcript 6.11: 5500 is both importing on one node and migrating on another.
		{splitKeys("5,7,8,9,10,11,12,1000,2000,3000,4000,5500,5500"), "12,9,3000,10,1000,5500,4000,11,7,5,2000,8"},
		// Transcript 6.12.
		{append(seqKeys(0, 11), "20", "30", "40"), "10,4,1,6,40,20,11,7,5,3,8,9,2,30,0"},
	}
	for _, tt := range tests {
		d := NewDictUnstable()
		for _, k := range tt.in {
			d.Add(k)
		}
		if got := joinKeys(d.Keys()); got != tt.want {
			t.Errorf("unstable order of %s\n got  %s\n want %s", joinKeys(tt.in), got, tt.want)
		}
	}
}

// Orders printed by the real redis-cli 7.0.15 ("The following slots are
// open") for the given insertion orders; 7.0's dict.c rehashes differently.
var redis70Vectors = []struct {
	in, want string
}{
	{"1,2", "2,1"},
	{"5,6", "6,5"},
	{"0,1,2,3,4,5,6,7,8,9", "5,3,6,1,2,4,0,7,8,9"},
	{"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19", "11,15,14,7,5,3,8,13,2,9,0,10,6,4,19,18,12,1,16,17"},
	{"609,610,611,612,613", "612,610,611,609,613"},
	{"5,7,8,9,10,11,12,1000,2000,3000,4000,5500,5500", "12,9,10,1000,3000,5500,4000,11,7,5,2000,8"},
	{"0,1,2,3,4,5,6,7,8,9,10,11,20,30,40", "10,4,1,6,40,20,11,7,5,3,8,2,9,30,0"},
	{
		"5508,5525,5870,5912,26,35,16036,6,9,25,30,35,37,90,437,4372,5253,5404,5411,5424,5508,5890,5912,6424,13102,13102,6,10,11,24,28,35,3897,5404,5411,5657,7759",
		"5657,5890,10,5404,24,6,5253,16036,5411,6424,5508,35,26,5870,25,7759,30,90,5912,11,28,437,5525,37,3897,5424,9,4372,13102",
	},
	{
		"0,2,3,5,6,7,11,12,14,21,22,24,26,27,29,36,37,39,588,2231,2245,2392,5036,5104,5126,5196,5265,5284,5376,5396,5417,5436,5502,5531,5551,5647,5867,5905,5911,5971,5973,5999,6378,6555,7815,8828,8956,10457,11179,11486,13280,14231,14590,5465,5531,5574,5600,5612,5647,5686,5794,5815,5853,5887,5905,5911,5932,5942,5950,5960,5969,5971,5973,5999,6378,6555,7177,8828,9917,10415,10560,3,4,6,12,14,24,39,2392,2995,3852,5019,5036,5190,5247,5417,12005,12187,13323,14072,16039,16130,11486,13323,13683,14072,14612,15598,16130,0,3,5,8,9,10,11,18,21,24,27,30,37,588,2245,3550,4603,5169,5303,5367,5375,5436,5464,5574,5600,5612,5676,5686,5772,5815,5950,5981,8853,10560",
		"5600,5574,10415,5999,5247,5551,5169,4,5196,9917,14,5,5853,12005,5502,14612,30,0,5794,18,13280,6555,5772,22,37,5284,5367,2995,5981,10457,5686,3550,12187,2231,39,29,8828,6378,5376,5265,3852,16130,5905,5971,2245,21,14590,5303,588,4603,5126,5190,24,6,7815,16039,5960,5973,8,15598,5019,5647,5036,14231,5911,13323,5867,5396,12,5612,5417,11,10560,5104,5932,5436,9,2,5375,14072,5815,5942,13683,5464,10,11486,36,5676,26,3,7177,5969,5950,8853,5465,11179,8956,5887,5531,2392,7,27",
	},
}

func TestDictOrderRedis70(t *testing.T) {
	for _, tt := range redis70Vectors {
		if got := joinKeys(DictOrder(splitKeys(tt.in))); got != tt.want {
			t.Errorf("DictOrder(%s)\n got  %s\n want %s", tt.in, got, tt.want)
		}
		d := NewDict()
		for _, k := range splitKeys(tt.in) {
			d.Add(k)
		}
		if got := joinKeys(d.Keys()); got != tt.want {
			t.Errorf("redis 7.0 order of %s\n got  %s\n want %s", tt.in, got, tt.want)
		}
	}
}

func TestDictAddExistingKeepsPlace(t *testing.T) {
	d := NewDict()
	for _, k := range seqKeys(0, 3) {
		if !d.Add(k) {
			t.Fatalf("Add(%s) = false for a new key", k)
		}
	}
	before := d.Keys()
	if d.Add("2") {
		t.Fatal("Add of an existing key returned true")
	}
	if got := d.Keys(); !slices.Equal(got, before) {
		t.Fatalf("re-adding moved the key: %v -> %v", before, got)
	}
	if d.Len() != 4 {
		t.Fatalf("Len = %d, want 4", d.Len())
	}
}

func TestDictFind(t *testing.T) {
	var empty Dict
	if empty.Find("x") || NewDict().Find("x") {
		t.Fatal("Find on an empty dict returned true")
	}
	// After five adds the dict is rehashing with nothing moved yet, so a
	// lookup moves a bucket and changes the iteration order.
	tests := []struct {
		find  string
		found bool
		want  string
	}{
		{"", false, "3,2,1,0,4"},
		{"0", true, "3,2,1,4,0"},  // the accessed bucket is moved
		{"x", false, "3,0,1,2,4"}, // a plain rehash step
	}
	for _, tt := range tests {
		d := NewDictUnstable()
		for _, k := range seqKeys(0, 4) {
			d.Add(k)
		}
		if tt.find != "" {
			if got := d.Find(tt.find); got != tt.found {
				t.Errorf("Find(%q) = %v, want %v", tt.find, got, tt.found)
			}
		}
		if got := joinKeys(d.Keys()); got != tt.want {
			t.Errorf("after Find(%q): order %s, want %s", tt.find, got, tt.want)
		}
	}
	d := NewDict()
	for _, k := range seqKeys(0, 4) {
		d.Add(k)
	}
	d.Find("0")
	if got, want := joinKeys(d.Keys()), "2,1,0,3,4"; got != want {
		t.Errorf("redis 7.0 after Find: order %s, want %s", got, want)
	}
}

// Whatever the interleaving of adds and finds, the dict must behave as a set.
func TestDictIsASet(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, moveAccessed := range []bool{false, true} {
		for round := 0; round < 50; round++ {
			d := &Dict{moveAccessed: moveAccessed}
			ref := map[string]bool{}
			for i, n := 0, r.Intn(600); i < n; i++ {
				k := strconv.Itoa(r.Intn(400))
				if r.Intn(3) == 0 {
					if got := d.Find(k); got != ref[k] {
						t.Fatalf("Find(%s) = %v, want %v", k, got, ref[k])
					}
					continue
				}
				if got := d.Add(k); got == ref[k] {
					t.Fatalf("Add(%s) = %v with present=%v", k, got, ref[k])
				}
				ref[k] = true
			}
			keys := d.Keys()
			if d.Len() != len(ref) || len(keys) != len(ref) {
				t.Fatalf("Len %d, %d keys, want %d", d.Len(), len(keys), len(ref))
			}
			seen := map[string]bool{}
			for _, k := range keys {
				if !ref[k] || seen[k] {
					t.Fatalf("unexpected or repeated key %s", k)
				}
				seen[k] = true
			}
		}
	}
}

func TestDictNextSize(t *testing.T) {
	for n, want := range map[int]int{1: 4, 4: 4, 5: 8, 8: 8, 9: 16, 17: 32, 1025: 2048} {
		if got := dictNextSize(n); got != want {
			t.Errorf("dictNextSize(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestDictOrderEmpty(t *testing.T) {
	if got := DictOrder(nil); len(got) != 0 {
		t.Fatalf("DictOrder(nil) = %v", got)
	}
}

func ExampleDictOrder() {
	fmt.Println(DictOrder([]string{"609", "610", "611", "612", "613"}))
	// Output: [612 610 611 609 613]
}
