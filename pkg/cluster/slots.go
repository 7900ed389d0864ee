package cluster

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// NumSlots is the number of hash slots of a Redis Cluster.
const NumSlots = 16384

// SlotSet is a set of hash slots (a 16384-bit bitmap). The zero value is empty.
type SlotSet [NumSlots / 64]uint64

// Add puts slot s in the set.
func (s *SlotSet) Add(slot int) { s[slot>>6] |= 1 << (uint(slot) & 63) }

// AddRange puts slots from..to (inclusive) in the set.
func (s *SlotSet) AddRange(from, to int) {
	for i := from; i <= to; i++ {
		s.Add(i)
	}
}

// Remove takes slot s out of the set.
func (s *SlotSet) Remove(slot int) { s[slot>>6] &^= 1 << (uint(slot) & 63) }

// Has reports whether slot s is in the set.
func (s *SlotSet) Has(slot int) bool { return s[slot>>6]&(1<<(uint(slot)&63)) != 0 }

// Count returns the number of slots in the set.
func (s *SlotSet) Count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// Union adds every slot of o to s.
func (s *SlotSet) Union(o *SlotSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

// Slots returns the members in ascending order.
func (s *SlotSet) Slots() []int {
	out := make([]int, 0, s.Count())
	for i := 0; i < NumSlots; i++ {
		if s.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// Range is an inclusive run of consecutive slots.
type Range struct{ Start, End int }

// Count is the number of slots in the range.
func (r Range) Count() int { return r.End - r.Start + 1 }

// Ranges returns the maximal runs of the set in ascending order.
func (s *SlotSet) Ranges() []Range {
	var out []Range
	start := -1
	for i := 0; i <= NumSlots; i++ {
		in := i < NumSlots && s.Has(i)
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, Range{start, i - 1})
			start = -1
		}
	}
	return out
}

// String formats the set as redis-cli does: "[0-99],[101],[200-5460]", or ""
// when empty.
func (s *SlotSet) String() string {
	var b strings.Builder
	for i, r := range s.Ranges() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(r.Start))
		if r.End != r.Start {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.End))
		}
		b.WriteByte(']')
	}
	return b.String()
}

// SlotsOf builds a set from a list of slots.
func SlotsOf(slots ...int) SlotSet {
	var s SlotSet
	for _, x := range slots {
		s.Add(x)
	}
	return s
}

// ParseSlotRanges reads a list of slots and inclusive ranges separated by
// commas, "100-200,5000", into a set. Overlapping pieces are allowed; an
// empty piece, a piece that is not a number or a range, a range whose start
// is after its end and a slot outside 0..16383 are errors.
func ParseSlotRanges(text string) (SlotSet, error) {
	var set SlotSet
	for _, piece := range strings.Split(text, ",") {
		from, to, isRange := strings.Cut(piece, "-")
		if !isRange {
			to = from
		}
		start, err1 := parseSlot(from)
		end, err2 := parseSlot(to)
		switch {
		case piece == "":
			return set, fmt.Errorf("empty slot range in %q", text)
		case err1 != nil:
			return set, err1
		case err2 != nil:
			return set, err2
		case start > end:
			return set, fmt.Errorf("slot range %q starts after it ends", piece)
		}
		set.AddRange(start, end)
	}
	return set, nil
}

// parseSlot reads one slot number, 0 to 16383, in plain decimal.
func parseSlot(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%q is not a slot number", s)
	}
	if n < 0 || n >= NumSlots {
		return 0, fmt.Errorf("slot %d is out of range (0 to %d)", n, NumSlots-1)
	}
	return n, nil
}
