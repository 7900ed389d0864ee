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
	for {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			break
		}
		raw := text[:i]
		text = text[i+1:]
		l, err := ParseLine(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// ParseLine parses one line (without its newline) of a CLUSTER NODES reply.
func ParseLine(raw string) (*Line, error) {
	// Up to 8 space-separated leading fields; the rest is the slot part.
	fields := make([]string, 0, 8)
	rest := raw
	for len(fields) < 8 {
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			break
		}
		fields = append(fields, rest[:i])
		rest = rest[i+1:]
	}
	if len(fields) < 3 {
		return nil, ErrBadNodesReply
	}
	slotPart := ""
	if len(fields) == 8 {
		slotPart = rest
	} else {
		// The last field had no trailing space.
		fields = append(fields, rest)
	}
	for len(fields) < 8 {
		fields = append(fields, "")
	}
	l := &Line{ID: fields[0], Addr: fields[1]}
	host, port, bus, hostname, ok := SplitNodeAddr(fields[1])
	if !ok {
		return nil, ErrBadNodesReply
	}
	l.Host, l.Port, l.BusPort, l.Hostname = host, port, bus, hostname
	if fields[2] != "" {
		l.Flags = strings.Split(fields[2], ",")
	}
	if fields[3] != "-" {
		l.MasterID = fields[3]
	}
	l.PingSent = atoll(fields[4])
	l.PongRecv = atoll(fields[5])
	l.ConfigEpoch = atoll(fields[6])
	l.LinkState = fields[7]
	for _, tok := range strings.Split(slotPart, " ") {
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
