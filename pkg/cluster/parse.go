package cluster

import (
	"errors"
	"strconv"
	"strings"
)

// Line is one parsed line of a CLUSTER NODES reply.
type Line struct {
	ID          string
	Addr        string // the raw address field, e.g. "127.0.0.1:30001@40001,host.example"
	Host        string
	Port        int
	BusPort     int
	Hostname    string
	Flags       []string
	MasterID    string // "" when the field is "-"
	PingSent    int64
	PongRecv    int64
	ConfigEpoch int64
	LinkState   string
	Slots       SlotSet
	Migrating   []SlotPeer
	Importing   []SlotPeer
	// SlotTokens are the plain slot tokens ("0-5460", "5461") in reply order,
	// without the migrating/importing markers (used for config signatures).
	SlotTokens []string
}

// Myself reports whether the line describes the node that was queried.
func (l *Line) Myself() bool {
	for _, f := range l.Flags {
		if f == "myself" {
			return true
		}
	}
	return false
}

// ErrBadNodesReply is returned for a CLUSTER NODES reply redis-cli would refuse.
var ErrBadNodesReply = errors.New("invalid CLUSTER NODES reply")

// ParseNodes parses a CLUSTER NODES reply. Like redis-cli it only considers
// newline-terminated lines and fails on a line with fewer than three fields or
// an address it cannot split into host and port.
func ParseNodes(text string) ([]*Line, error) {
	var out []*Line
	for raw := range lines(text) {
		l, err := ParseLine(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// OwnLine is the first "myself" line of a CLUSTER NODES reply, parsed, or
// nil when there is none; the other lines are only checked as ParseNodes
// checks them. On a large cluster a node's reply has a line per node, and
// most uses need only the node's own.
func OwnLine(text string) (*Line, error) {
	return findLine(text, func(f LineFields) bool { return f.HasFlag("myself") })
}

// LineOf is OwnLine for the line of node id (case-insensitive).
func LineOf(text, id string) (*Line, error) {
	return findLine(text, func(f LineFields) bool { return strings.EqualFold(f.ID, id) })
}

// findLine parses the first line of text that match accepts. match takes
// the fields by value: a pointer would move every line's fields to the heap.
func findLine(text string, match func(LineFields) bool) (*Line, error) {
	var found string
	ok := false
	for raw := range lines(text) {
		f, valid := SplitLine(raw)
		if !valid {
			return nil, ErrBadNodesReply
		}
		if !ok && match(f) {
			found, ok = raw, true
		}
	}
	if !ok {
		return nil, nil
	}
	// A copy: the parsed fields would otherwise keep the whole reply (a
	// line per node) alive for as long as the line is kept.
	return ParseLine(strings.Clone(found))
}

// lines yields the newline-terminated lines of a reply, without their
// newlines.
func lines(text string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			i := strings.IndexByte(text, '\n')
			if i < 0 || !yield(text[:i]) {
				return
			}
			text = text[i+1:]
		}
	}
}

// LineFields are the fields of one CLUSTER NODES line, as parts of the
// line (nothing is copied: keeping one keeps the whole reply).
type LineFields struct {
	ID, Addr, Flags                            string
	MasterID                                   string // "" when the field is "-"
	PingSent, PongRecv, ConfigEpoch, LinkState string
	// SlotPart is the rest of the line: slot tokens and open slots.
	SlotPart string
}

// SplitLine splits one line (without its newline) into its fields. ok is
// false for a line redis-cli refuses: fewer than three fields, or an
// address without a port.
func SplitLine(raw string) (f LineFields, ok bool) {
	// Up to 8 space-separated leading fields; the rest is the slot part.
	var fields [8]string
	n, rest := 0, raw
	for n < 8 {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			break
		}
		fields[n], rest = rest[:i], rest[i+1:]
		n++
	}
	if n < 3 { // as redis-cli, which takes only fields followed by a space
		return f, false
	}
	if n < 8 {
		// The last field had no trailing space.
		fields[n], rest = rest, ""
	}
	if _, _, _, _, ok := SplitNodeAddr(fields[1]); !ok {
		return f, false
	}
	f = LineFields{ID: fields[0], Addr: fields[1], Flags: fields[2], MasterID: fields[3],
		PingSent: fields[4], PongRecv: fields[5], ConfigEpoch: fields[6], LinkState: fields[7], SlotPart: rest}
	if f.MasterID == "-" {
		f.MasterID = ""
	}
	return f, true
}

// HasFlag reports whether the flags field lists flag.
func (f *LineFields) HasFlag(flag string) bool {
	for x := range strings.SplitSeq(f.Flags, ",") {
		if x == flag {
			return true
		}
	}
	return false
}

// SlotTokens appends the plain slot tokens ("0-5460", "5461"), in reply
// order, to dst: the slot part without the open slots ("[...]").
func (f *LineFields) SlotTokens(dst []string) []string {
	for tok := range strings.SplitSeq(f.SlotPart, " ") {
		if tok != "" && tok[0] != '[' {
			dst = append(dst, tok)
		}
	}
	return dst
}

// HasSlots reports whether the line lists a slot the node owns.
func (f *LineFields) HasSlots() bool {
	for tok := range strings.SplitSeq(f.SlotPart, " ") {
		if tok != "" && tok[0] != '[' {
			return true
		}
	}
	return false
}

// ParseLine parses one line (without its newline) of a CLUSTER NODES reply.
func ParseLine(raw string) (*Line, error) {
	f, ok := SplitLine(raw)
	if !ok {
		return nil, ErrBadNodesReply
	}
	l := &Line{ID: f.ID, Addr: f.Addr, MasterID: f.MasterID}
	l.Host, l.Port, l.BusPort, l.Hostname, _ = SplitNodeAddr(f.Addr)
	if f.Flags != "" {
		l.Flags = strings.Split(f.Flags, ",")
	}
	l.PingSent = atoll(f.PingSent)
	l.PongRecv = atoll(f.PongRecv)
	l.ConfigEpoch = atoll(f.ConfigEpoch)
	l.LinkState = f.LinkState
	for tok := range strings.SplitSeq(f.SlotPart, " ") {
		if tok == "" {
			continue
		}
		if tok[0] == '[' {
			// [slot->-id] migrating, [slot-<-id] importing
			body := strings.TrimSuffix(tok[1:], "]")
			if i := strings.Index(body, "->-"); i >= 0 {
				l.Migrating = append(l.Migrating, SlotPeer{atoi(body[:i]), body[i+3:]})
			} else if i := strings.Index(body, "-<-"); i >= 0 {
				l.Importing = append(l.Importing, SlotPeer{atoi(body[:i]), body[i+3:]})
			}
			continue
		}
		l.SlotTokens = append(l.SlotTokens, tok)
		if i := strings.IndexByte(tok, '-'); i >= 0 {
			a, b := atoi(tok[:i]), atoi(tok[i+1:])
			if a >= 0 && b < NumSlots && a <= b {
				l.Slots.AddRange(a, b)
			}
		} else if s := atoi(tok); s >= 0 && s < NumSlots {
			l.Slots.Add(s)
		}
	}
	return l, nil
}

// SplitNodeAddr splits a CLUSTER NODES address "ip:port@cport[,hostname]".
// The bus port is 0 when absent.
func SplitNodeAddr(addr string) (host string, port, busPort int, hostname string, ok bool) {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		bus := addr[i+1:]
		if j := strings.IndexByte(bus, ','); j >= 0 {
			hostname = bus[j+1:]
			bus = bus[:j]
		}
		busPort = atoi(bus)
		addr = addr[:i]
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, 0, "", false
	}
	return addr[:i], atoi(addr[i+1:]), busPort, hostname, true
}

// atoi converts like C's atoi: optional sign and leading digits, 0 otherwise.
func atoi(s string) int { return int(atoll(s)) }

func atoll(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	v, _ := strconv.ParseInt(s[:end], 10, 64)
	if neg {
		v = -v
	}
	return v
}

// Atoi exposes C atoi semantics for command-line compatibility.
func Atoi(s string) int { return atoi(s) }
