package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

const (
	id1 = "d6942ddfe1386161cd50afdf7f5cc4bf5315e97a"
	id2 = "a17d90a2ced37624b1e2254cd24489bd9a0816c0"
	id3 = "bca7a2ff0bd6649707b1f1b6118dfe5c7782dddb"
	id4 = "07c37dfeb235213a872192d90877d0cd55635b91"
	id5 = "6ec23923021cf3ffec47632106199cb7f496ce01"
	id6 = "824fe116063bc5fcf9f4ffd895bc17aee7731ac3"
	id7 = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
)

// A CLUSTER NODES reply as node 1 sends it (lines from redis-server 7.0.15,
// plus replicas, a hostname, a suspected failure and a noaddr node).
var nodesReply = strings.Join([]string{
	id1 + " 127.0.0.1:37001@47001 myself,master - 0 1795553468000 1 connected 0-5460 [100->-" + id2 + "] [5461-<-" + id2 + "]",
	id2 + " 127.0.0.1:37002@47002,node-2.example master - 0 1795553470567 2 connected 5461-10922",
	id3 + " 127.0.0.1:37003@47003 master - 0 1795553469561 3 connected 10923-16383",
	id4 + " 127.0.0.1:37004@47004 slave " + id1 + " 0 1795553469000 1 connected",
	id5 + " 127.0.0.1:37005@47005 slave,fail? " + id2 + " 1795553460000 1795553450000 2 disconnected",
	id6 + " 127.0.0.1:37006@47006 slave " + id3 + " 0 1795553470000 3 connected",
	id7 + " :0@0 master,fail,noaddr - 1795553400000 1795553300000 0 disconnected",
	"",
}, "\n")

func TestParseNodes(t *testing.T) {
	lines, err := ParseNodes(nodesReply)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 7 {
		t.Fatalf("got %d lines, want 7", len(lines))
	}

	me := lines[0]
	if !me.Myself() || me.ID != id1 || me.Host != "127.0.0.1" || me.Port != 37001 || me.BusPort != 47001 || me.Hostname != "" {
		t.Errorf("myself line: %+v", me)
	}
	if !slices.Equal(me.Flags, []string{"myself", "master"}) || me.MasterID != "" {
		t.Errorf("myself flags %q master %q", me.Flags, me.MasterID)
	}
	if me.PingSent != 0 || me.PongRecv != 1795553468000 || me.ConfigEpoch != 1 || me.LinkState != "connected" {
		t.Errorf("myself numbers: ping %d pong %d epoch %d link %q", me.PingSent, me.PongRecv, me.ConfigEpoch, me.LinkState)
	}
	if got := me.Slots.String(); got != "[0-5460]" {
		t.Errorf("myself slots %q", got)
	}
	if !slices.Equal(me.Migrating, []SlotPeer{{100, id2}}) || !slices.Equal(me.Importing, []SlotPeer{{5461, id2}}) {
		t.Errorf("open slots: migrating %v importing %v", me.Migrating, me.Importing)
	}
	if !slices.Equal(me.SlotTokens, []string{"0-5460"}) {
		t.Errorf("slot tokens %q", me.SlotTokens)
	}

	m2 := lines[1]
	if m2.Myself() || m2.Addr != "127.0.0.1:37002@47002,node-2.example" || m2.Host != "127.0.0.1" ||
		m2.Port != 37002 || m2.BusPort != 47002 || m2.Hostname != "node-2.example" {
		t.Errorf("hostname line: %+v", m2)
	}
	if got := m2.Slots.String(); got != "[5461-10922]" {
		t.Errorf("master 2 slots %q", got)
	}

	r4 := lines[3]
	if !slices.Equal(r4.Flags, []string{"slave"}) || r4.MasterID != id1 || r4.Slots.Count() != 0 || r4.LinkState != "connected" {
		t.Errorf("replica line: %+v", r4)
	}

	r5 := lines[4]
	if !slices.Equal(r5.Flags, []string{"slave", "fail?"}) || r5.MasterID != id2 ||
		r5.PingSent != 1795553460000 || r5.PongRecv != 1795553450000 || r5.LinkState != "disconnected" {
		t.Errorf("fail? line: %+v", r5)
	}

	na := lines[6]
	if na.Host != "" || na.Port != 0 || na.BusPort != 0 || !slices.Equal(na.Flags, []string{"master", "fail", "noaddr"}) {
		t.Errorf("noaddr line: %+v", na)
	}
}

func TestParseNodesOpenSlotsAndRanges(t *testing.T) {
	line := id1 + " 10.0.0.1:7000@17000 myself,master - 0 0 7 connected 0-99 101 102-199 [5->-" + id2 + "] [6->-" + id3 + "] [7-<-" + id2 + "] 16383\n"
	lines, err := ParseNodes(line)
	if err != nil {
		t.Fatal(err)
	}
	l := lines[0]
	if got := l.Slots.String(); got != "[0-99],[101-199],[16383]" {
		t.Errorf("slots %q", got)
	}
	if !slices.Equal(l.Migrating, []SlotPeer{{5, id2}, {6, id3}}) || !slices.Equal(l.Importing, []SlotPeer{{7, id2}}) {
		t.Errorf("migrating %v importing %v", l.Migrating, l.Importing)
	}
	if !slices.Equal(l.SlotTokens, []string{"0-99", "101", "102-199", "16383"}) {
		t.Errorf("slot tokens %q", l.SlotTokens)
	}
}

func TestParseNodesUnterminatedLineIgnored(t *testing.T) {
	for _, tail := range []string{
		id3 + " 127.0.0.1:37003@47003 master - 0 0 3 connected 10923-16383", // valid but unterminated
		"garbage",     // would be an error if it were terminated
		"a b c d e f", // idem for the address
	} {
		lines, err := ParseNodes(id1 + " 127.0.0.1:37001@47001 myself,master - 0 0 1 connected 0-16383\n" + tail)
		if err != nil || len(lines) != 1 {
			t.Errorf("tail %q: %d lines, err %v; want 1 line", tail, len(lines), err)
		}
	}
	if lines, err := ParseNodes(""); err != nil || len(lines) != 0 {
		t.Errorf("empty reply: %v, %v", lines, err)
	}
}

func TestParseNodesErrors(t *testing.T) {
	for _, text := range []string{
		"\n",
		"onlyone\n",
		id1 + " 127.0.0.1:37001@47001\n",
		// Two fields end in a space, the flags do not: redis-cli needs three.
		id1 + " 127.0.0.1:37001@47001 myself,master\n",
		// Fine first line, broken second line: the whole reply fails.
		id1 + " 127.0.0.1:37001@47001 myself,master - 0 0 1 connected 0-16383\nbroken line\n",
		// An address without a port separator.
		id1 + " 127.0.0.1@47001 myself,master - 0 0 1 connected\n",
	} {
		if lines, err := ParseNodes(text); !errors.Is(err, ErrBadNodesReply) || lines != nil {
			t.Errorf("ParseNodes(%q) = %v, %v; want ErrBadNodesReply", text, lines, err)
		}
	}
}

func TestParseLineShortFields(t *testing.T) {
	// Three space-terminated fields are enough; missing columns stay empty.
	l, err := ParseLine(id1 + " 127.0.0.1:7000 myself,master ")
	if err != nil {
		t.Fatal(err)
	}
	if l.Port != 7000 || l.BusPort != 0 || !l.Myself() || l.MasterID != "" || l.LinkState != "" || l.Slots.Count() != 0 {
		t.Errorf("short line: %+v", l)
	}
	// The master column is copied verbatim unless it is "-".
	l, err = ParseLine(id4 + " 127.0.0.1:7003@17003 slave " + id1 + " 0 0 1 connected")
	if err != nil || l.MasterID != id1 {
		t.Errorf("replica: %+v, %v", l, err)
	}
}

func TestSplitNodeAddr(t *testing.T) {
	tests := []struct {
		addr, host string
		port, bus  int
		hostname   string
		ok         bool
	}{
		{"127.0.0.1:30001@40001", "127.0.0.1", 30001, 40001, "", true},
		{"127.0.0.1:30001@40001,redis-1.example", "127.0.0.1", 30001, 40001, "redis-1.example", true},
		{"127.0.0.1:30001", "127.0.0.1", 30001, 0, "", true},
		{"::1:30001@40001", "::1", 30001, 40001, "", true},
		{":0@0", "", 0, 0, "", true},
		{"127.0.0.1", "", 0, 0, "", false},
	}
	for _, tt := range tests {
		host, port, bus, hostname, ok := SplitNodeAddr(tt.addr)
		if host != tt.host || port != tt.port || bus != tt.bus || hostname != tt.hostname || ok != tt.ok {
			t.Errorf("SplitNodeAddr(%q) = %q %d %d %q %v", tt.addr, host, port, bus, hostname, ok)
		}
	}
}

func TestAtoi(t *testing.T) {
	for s, want := range map[string]int{"42": 42, " 7x": 7, "-3": -3, "+5": 5, "x": 0, "": 0} {
		if got := Atoi(s); got != want {
			t.Errorf("Atoi(%q) = %d, want %d", s, got, want)
		}
	}
}

func mustLine(t *testing.T, s string) *Line {
	t.Helper()
	l, err := ParseLine(s)
	if err != nil {
		t.Fatalf("ParseLine(%q): %v", s, err)
	}
	return l
}

func TestNodeApplyMerge(t *testing.T) {
	// The entry node's view of a friend, then the friend's own line.
	seen := mustLine(t, id2+" 127.0.0.1:37002@47002,node-2.example master,fail - 5 6 2 disconnected 5461-10922 [5461->-"+id1+"]")
	own := mustLine(t, id2+" 127.0.0.1:37002@47002 myself,slave "+id3+" 0 9 4 connected 0-10 [11-<-"+id3+"] [12->-"+id3+"]")

	n := &Node{Host: "127.0.0.1", Port: 37002, BusPort: 47002}
	n.Apply(seen, false)
	if n.Slots.Count() != 0 || n.Migrating != nil || n.Importing != nil {
		t.Fatalf("another node's view set slots: %s %v %v", n.Slots.String(), n.Migrating, n.Importing)
	}
	if !n.Fail || n.Slave || n.MasterID != "" || n.Hostname != "node-2.example" || n.FlagString() != "master,fail" {
		t.Fatalf("after entry view: %+v", n)
	}

	n.Apply(own, true)
	if !slices.Equal(n.Flags, []string{"myself", "slave"}) || n.FlagString() != "slave" {
		t.Errorf("textual flags not replaced: %q", n.Flags)
	}
	if !n.Fail || !n.Slave || n.MasterID != id3 || n.IsMaster() {
		t.Errorf("flag bits not or-ed: fail %v slave %v master %q", n.Fail, n.Slave, n.MasterID)
	}
	if n.ConfigEpoch != 4 || n.PingSent != 0 || n.PongRecv != 9 || n.LinkState != "connected" {
		t.Errorf("numbers from the last line: %+v", n)
	}
	if n.Hostname != "node-2.example" {
		t.Errorf("hostname lost: %q", n.Hostname)
	}
	if n.Slots.String() != "[0-10]" || !n.IsImporting(11) || !n.IsMigrating(12) || n.IsMigrating(5461) {
		t.Errorf("own slots: %s migrating %v importing %v", n.Slots.String(), n.Migrating, n.Importing)
	}

	// Own lines reset the slots but append to the open-slot lists.
	again := mustLine(t, id2+" 127.0.0.1:37002@47003 myself,master - 0 0 4 connected 20 [12->-"+id3+"]")
	n.Apply(again, true)
	if n.Slots.String() != "[20]" || n.BusPort != 47003 {
		t.Errorf("slots not reset: %s bus %d", n.Slots.String(), n.BusPort)
	}
	if !slices.Equal(n.Migrating, []SlotPeer{{12, id3}, {12, id3}}) {
		t.Errorf("migrating not appended: %v", n.Migrating)
	}
	if !n.Slave || !n.Fail {
		t.Error("a later master line cleared or-ed bits")
	}
}

func TestNodeApplyNoaddrDisconnected(t *testing.T) {
	n := &Node{}
	n.Apply(mustLine(t, id7+" :0@0 master,noaddr - 0 0 0 disconnected"), false)
	n.Apply(mustLine(t, id7+" :0@0 master,disconnected - 0 0 0 disconnected"), false)
	if !n.NoAddr || !n.Disconnected || n.Fail || n.Slave || !n.HasFlag("disconnected") || n.HasFlag("noaddr") {
		t.Errorf("%+v", n)
	}
	if n.Addr() != ":0" {
		t.Errorf("Addr() = %q", n.Addr())
	}
}

func FuzzParseNodes(f *testing.F) {
	f.Add(nodesReply)
	f.Add(id1 + " 10.0.0.1:7000@17000 myself,master - 0 0 7 connected 0-99 101 [5->-x] [7-<-y] 16383\n")
	f.Add("a b c\n")
	f.Add("a :0@0 master,noaddr - 0 0 0 disconnected\n")
	f.Add("a 1:2@3,h m - 9999999999999999999999 -1 x y 16384 -5 5-3 [ [] [->-] [-<-\n")
	f.Fuzz(func(t *testing.T, text string) {
		lines, err := ParseNodes(text)
		if err != nil {
			return
		}
		if len(lines) != strings.Count(text, "\n") {
			t.Fatalf("%d lines for %d newlines", len(lines), strings.Count(text, "\n"))
		}
		n := &Node{}
		for _, l := range lines {
			if l.Slots.Count() > NumSlots {
				t.Fatal("more than 16384 slots")
			}
			_ = l.Slots.String()
			n.Apply(l, l.Myself())
		}
	})
}

func TestOwnLine(t *testing.T) {
	// The myself line comes third; the others are only checked.
	reply := strings.Join([]string{
		id2 + " 127.0.0.1:37002@47002 master - 0 1795553470567 2 connected 5461-10922",
		id4 + " 127.0.0.1:37004@47004 slave " + id1 + " 0 1795553469000 1 connected",
		id1 + " 127.0.0.1:37001@47001 myself,master - 0 1795553468000 1 connected 0-5460 [100->-" + id2 + "]",
		"",
	}, "\n")
	own, err := OwnLine(reply)
	if err != nil || own == nil {
		t.Fatalf("OwnLine: %v, %v", own, err)
	}
	all, _ := ParseNodes(reply)
	if !slices.Equal(own.Flags, all[2].Flags) || own.ID != id1 || own.Slots != all[2].Slots || len(own.Migrating) != 1 {
		t.Errorf("own line %+v, ParseNodes' %+v", own, all[2])
	}
	if own, err := OwnLine(strings.Replace(reply, "myself,", "", 1)); own != nil || err != nil {
		t.Errorf("without a myself line: %v, %v", own, err)
	}
	// A line ParseNodes refuses makes the reply invalid, before or after myself.
	for _, bad := range []string{reply + "x y\n", "x y\n" + reply, reply + id3 + " nohost master \n"} {
		if _, err := OwnLine(bad); !errors.Is(err, ErrBadNodesReply) {
			t.Errorf("OwnLine(%q) = %v, want ErrBadNodesReply", bad, err)
		}
		if _, err := ParseNodes(bad); !errors.Is(err, ErrBadNodesReply) {
			t.Errorf("ParseNodes(%q) = %v, want ErrBadNodesReply", bad, err)
		}
	}
}

func TestSplitLine(t *testing.T) {
	f, ok := SplitLine(id1 + " 127.0.0.1:37001@47001 myself,master - 0 1795553468000 7 connected 0-5460 [100->-" + id2 + "] 5462")
	if !ok || f.ID != id1 || f.MasterID != "" || f.ConfigEpoch != "7" || !f.HasFlag("myself") || f.HasFlag("slave") || !f.HasSlots() {
		t.Errorf("fields %+v", f)
	}
	if got := f.SlotTokens(nil); !slices.Equal(got, []string{"0-5460", "5462"}) {
		t.Errorf("slot tokens %q", got)
	}
	f, ok = SplitLine(id4 + " 127.0.0.1:37004@47004 slave " + id1 + " 0 1795553469000 1 connected")
	if !ok || f.MasterID != id1 || f.LinkState != "connected" || f.HasSlots() || f.SlotTokens(nil) != nil {
		t.Errorf("replica fields %+v", f)
	}
	if testing.AllocsPerRun(100, func() { SplitLine(id4 + " 127.0.0.1:37004@47004 slave " + id1 + " 0 1795553469000 1 connected") }) != 0 {
		t.Error("SplitLine allocates")
	}
}

// OwnLine's fields are copies: a line kept for the run must not keep the
// whole reply (a line per node of the cluster) alive with it.
func TestOwnLineKeepsNotTheReply(t *testing.T) {
	text := "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n" +
		"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 myself,master - 0 1426238316232 2 connected 5461-10922\n"
	l, err := OwnLine(text)
	if err != nil || l == nil {
		t.Fatalf("OwnLine: %v, %v", l, err)
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(text)))
	for _, s := range []string{l.ID, l.Addr, l.Host} {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p >= start && p < start+uintptr(len(text)) {
			t.Errorf("%q points into the reply", s)
		}
	}
}
