package cluster

import (
	"slices"
	"testing"
)

func TestSlotSetString(t *testing.T) {
	var a SlotSet
	a.AddRange(0, 5460)
	a.Remove(100)
	a.Remove(200)

	var b SlotSet
	b.Add(100)
	b.AddRange(10923, 16383)

	var c SlotSet
	c.Add(0)
	c.Add(2)
	c.Add(16383)

	tests := []struct {
		name   string
		set    SlotSet
		want   string
		count  int
		ranges []Range
	}{
		{"holes", a, "[0-99],[101-199],[201-5460]", 5459, []Range{{0, 99}, {101, 199}, {201, 5460}}},
		{"single and tail", b, "[100],[10923-16383]", 5462, []Range{{100, 100}, {10923, 16383}}},
		{"singles at the edges", c, "[0],[2],[16383]", 3, []Range{{0, 0}, {2, 2}, {16383, 16383}}},
		{"empty", SlotSet{}, "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.set.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := tt.set.Count(); got != tt.count {
				t.Errorf("Count() = %d, want %d", got, tt.count)
			}
			if got := tt.set.Ranges(); !slices.Equal(got, tt.ranges) {
				t.Errorf("Ranges() = %v, want %v", got, tt.ranges)
			}
			n := 0
			for _, r := range tt.set.Ranges() {
				n += r.Count()
			}
			if n != tt.count {
				t.Errorf("sum of range counts = %d, want %d", n, tt.count)
			}
		})
	}
}

func TestSlotSetFull(t *testing.T) {
	var s SlotSet
	s.AddRange(0, NumSlots-1)
	if s.Count() != NumSlots || s.String() != "[0-16383]" {
		t.Fatalf("full set: count %d, %q", s.Count(), s.String())
	}
}

func TestSlotSetOps(t *testing.T) {
	s := SlotsOf(5, 1, 5, 16383)
	if !s.Has(1) || !s.Has(5) || !s.Has(16383) || s.Has(0) || s.Count() != 3 {
		t.Fatalf("SlotsOf: %v", s.Slots())
	}
	if got := s.Slots(); !slices.Equal(got, []int{1, 5, 16383}) {
		t.Fatalf("Slots() = %v", got)
	}
	s.Remove(5)
	s.Remove(6) // absent: no effect
	if s.Has(5) || s.Count() != 2 {
		t.Fatalf("after Remove: %v", s.Slots())
	}
	o := SlotsOf(2, 1)
	s.Union(&o)
	if got := s.String(); got != "[1-2],[16383]" {
		t.Fatalf("after Union: %q", got)
	}
	var empty SlotSet
	if len(empty.Slots()) != 0 || empty.Ranges() != nil {
		t.Fatal("empty set has members")
	}
}

func TestParseSlotRanges(t *testing.T) {
	good := []struct {
		text string
		want string
	}{
		{"100-200,5000", "[100-200],[5000]"},
		{"0", "[0]"},
		{"16383", "[16383]"},
		{"0-16383", "[0-16383]"},
		{"7-7", "[7]"},
		{"10-20,15-30,5", "[5],[10-30]"},
	}
	for _, tt := range good {
		set, err := ParseSlotRanges(tt.text)
		if err != nil || set.String() != tt.want {
			t.Errorf("ParseSlotRanges(%q) = %s, %v; want %s", tt.text, set.String(), err, tt.want)
		}
	}
	bad := map[string]string{
		"":            `empty slot range in ""`,
		"1,,2":        `empty slot range in "1,,2"`,
		"1,":          `empty slot range in "1,"`,
		"abc":         `"abc" is not a slot number`,
		"1-":          `"" is not a slot number`,
		"-5":          `"" is not a slot number`,
		"+5":          `"+5" is not a slot number`,
		"1-2-3":       `"2-3" is not a slot number`,
		"16384":       "slot 16384 is out of range (0 to 16383)",
		"100-99999":   "slot 99999 is out of range (0 to 16383)",
		"200-100":     `slot range "200-100" starts after it ends`,
		" 5":          `" 5" is not a slot number`,
		"99999999999": `slot 99999999999 is out of range (0 to 16383)`,
	}
	for text, want := range bad {
		if _, err := ParseSlotRanges(text); err == nil || err.Error() != want {
			t.Errorf("ParseSlotRanges(%q): error %v, want %q", text, err, want)
		}
	}
}
