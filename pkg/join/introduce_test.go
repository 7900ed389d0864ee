package join

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/pkg/cluster"
	"github.com/rcluster/rcluster/pkg/inspect"
)

func TestIntroductions(t *testing.T) {
	id := func(c byte) string { return strings.Repeat(string(c), 40) }
	// a and b are masters of the model, c replicates a.
	a := &inspect.Node{Node: &cluster.Node{ID: id('a'), Host: "127.0.0.1", Port: 7000}}
	a.Slots.AddRange(0, 8191)
	b := &inspect.Node{Node: &cluster.Node{ID: id('b'), Host: "127.0.0.1", Port: 7001}}
	b.Slots.AddRange(8192, 16383)
	c := &inspect.Node{Node: &cluster.Node{ID: id('c'), Host: "127.0.0.1", Port: 7002, MasterID: id('a')}}
	nodes := []*inspect.Node{a, b, c}
	line := func(n *inspect.Node, myself bool, slots string) string {
		flags := "master"
		if myself {
			flags = "myself,master"
		}
		return strings.TrimSpace(n.ID + " 127.0.0.1:" + map[int]string{7000: "7000@17000", 7001: "7001@17001", 7002: "7002@17002"}[n.Port] +
			" " + flags + " - 0 0 1 connected " + slots)
	}
	texts := []string{
		// a knows b by name but not its slots, and has never heard of c.
		line(a, true, "0-8191") + "\n" + line(b, false, ""),
		// b knows everyone and a's slots.
		line(b, true, "8192-16383") + "\n" + line(a, false, "0-8191") + "\n" + line(c, false, ""),
		// c did not answer.
		"",
	}
	got := introductions(nodes, texts)
	want := [][]int{
		nil, // everyone who answered knows a and its slots
		{0}, // b must meet a, which lacks b's slots
		{0}, // c must meet a, which does not know it
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("introductions = %v, want %v", got, want)
	}

	// Strangers need one MEET, from the one that owns slots: a meets c, and
	// c is not told to meet a as well.
	texts = []string{
		line(a, true, "0-8191") + "\n" + line(b, false, "8192-16383"),
		line(b, true, "8192-16383") + "\n" + line(a, false, "0-8191") + "\n" + line(c, false, ""),
		line(c, true, "") + "\n" + line(b, false, "8192-16383"),
	}
	if got, want := introductions(nodes, texts), [][]int{{2}, nil, nil}; !reflect.DeepEqual(got, want) {
		t.Fatalf("introductions between strangers = %v, want %v", got, want)
	}

	// Once every node knows every other and every master's slots, there is
	// nothing left to do.
	texts = []string{
		line(a, true, "0-8191") + "\n" + line(b, false, "8192-16383") + "\n" + line(c, false, ""),
		line(b, true, "8192-16383") + "\n" + line(a, false, "0-8191") + "\n" + line(c, false, ""),
		line(c, true, "") + "\n" + line(a, false, "0-8191") + "\n" + line(b, false, "8192-16383"),
	}
	if got := introductions(nodes, texts); !reflect.DeepEqual(got, [][]int{nil, nil, nil}) {
		t.Fatalf("introductions on a joined cluster = %v, want none", got)
	}
}

func TestConfigValue(t *testing.T) {
	for _, c := range []struct {
		reply any
		want  int64
		ok    bool
	}{
		{[]any{"cluster-node-timeout", "15000"}, 15000, true},     // RESP2
		{map[any]any{"cluster-node-timeout": "5000"}, 5000, true}, // RESP3
		{[]any{}, 0, false},
		{"15000", 0, false},
	} {
		got, err := configValue(c.reply)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("configValue(%v) = %d, %v; want %d, ok=%v", c.reply, got, err, c.want, c.ok)
		}
	}
}

// One look at 120 nodes that know nothing of each other yet: the work done
// between two polls of a large join.
func BenchmarkIntroductions120(b *testing.B) {
	const n = 120
	nodes := make([]*inspect.Node, n)
	texts := make([]string, n)
	for i := range nodes {
		nd := &inspect.Node{Node: &cluster.Node{ID: fmt.Sprintf("%040d", i), Host: "127.0.0.1", Port: 7000 + i}}
		if i < n/2 {
			nd.Slots.AddRange(i*16384/(n/2), (i+1)*16384/(n/2)-1)
		} else {
			nd.MasterID = nodes[i-n/2].ID
		}
		nodes[i] = nd
		texts[i] = fmt.Sprintf("%s 127.0.0.1:%d@%d myself,master - 0 0 1 connected", nd.ID, nd.Port, nd.Port+10000)
	}
	b.ResetTimer()
	for b.Loop() {
		if todo := introductions(nodes, texts); len(todo[0]) == 0 {
			b.Fatal("nothing to introduce among strangers")
		}
	}
}

// introductions is what an introducer plans after seeing texts, the
// nodes' CLUSTER NODES replies ("" for one that did not answer).
func introductions(nodes []*inspect.Node, texts []string) [][]int {
	in := newIntroducer(context.Background(), nodes)
	for x, text := range texts {
		in.observe(x, text)
	}
	return in.introductions()
}
