package cli

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/manager"
	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/pkg/cluster"
)

func TestCallLikeRedisCLI(t *testing.T) {
	t.Parallel()
	eachBuild(t, callLikeCLI)
}

func callLikeCLI(t *testing.T, b *redistest.Build) {
	t.Parallel()
	servers := redistest.StartCluster(t, redistest.Options{Count: 6, Build: b}, 1)
	redistest.LoadKeys(t, servers, 200, "call")
	a := servers[0].Addr()
	cases := []struct {
		term string
		args []string
	}{
		{"dumb", []string{"call", a, "cluster", "countkeysinslot", "8"}},
		{"xterm-256color", []string{"call", a, "cluster", "countkeysinslot", "8"}},
		{"dumb", []string{"call", a, "dbsize", "--cluster-only-masters"}},
		// An array reply, on the replicas only.
		{"dumb", []string{"call", a, "config", "get", "cluster-node-timeout", "--cluster-only-replicas"}},
		{"xterm-256color", []string{"call", a, "config", "get", "cluster-node-timeout", "--cluster-only-replicas"}},
		// Error replies (MOVED, unknown command) and a nil reply.
		{"dumb", []string{"call", a, "get", "nokey", "--cluster-only-masters"}},
		{"dumb", []string{"call", a, "foo"}},
		// Nested arrays, an error, a nil and an empty array inside replies.
		{"dumb", []string{"call", a, "eval", "return {1,{2,'a'},redis.error_reply('boom'),false,'z',{}}", "0", "--cluster-only-masters"}},
		{"dumb", []string{"call", a, "eval", "return {}", "0"}},
		{"dumb", []string{"call", a, "config", "get", "cluster-*-timeout", "-d", ","}},
		// Both filters: no node at all.
		{"dumb", []string{"call", a, "ping", "--cluster-only-masters", "--cluster-only-replicas"}},
		// Words after an option are ignored, as redis-cli does.
		{"dumb", []string{"call", a, "ping", "--cluster-only-masters", "stray"}},
		// Argument errors.
		{"dumb", []string{"call", a}},
		{"dumb", []string{"call", a, "--cluster-only-masters", "ping"}},
		{"dumb", []string{"call", servers[0].Host, "30001", "ping"}},
		{"dumb", []string{"call"}},
	}
	for _, tc := range cases {
		bothToolsOn(t, b, tc.term, nil, tc.args...)
	}
	unreachableLikeCLI(t, b, nil, "call", "127.0.0.1:1", "ping")
}

func TestCallWithPassword(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 3, Password: "callpw"})
	redistest.Create(t, servers, 0)
	a := servers[0].Addr()
	bothTools(t, "dumb", []string{"-a", "callpw"}, "call", a, "dbsize")
	bothTools(t, "dumb", nil, "call", a, "dbsize")
	got := runRCluster(t, "", "dumb", nil, "-a", "callpw", "call", a, "get", "x", "--no-auth-warning")
	want := runRedisCLI(t, "", "dumb", []string{"-a", "callpw", "--no-auth-warning"}, "call", a, "get", "x")
	sameAsRedisCLI(t, "password after the command words", got, want)
}

// Words that start with "-" but are no rcluster option belong to the command
// (redis-cli refuses them), and so does everything after "--".
func TestCallDashArguments(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 3})
	redistest.Create(t, servers, 0)
	a := servers[0].Addr()
	// Replies come in the entry node's order; every node answers once.
	check := func(args []string, header, reply string) {
		t.Helper()
		got := runRCluster(t, "", "dumb", nil, args...)
		lines := strings.Split(strings.TrimSuffix(got.stdout, "\n"), "\n")
		var want []string
		for _, s := range servers {
			want = append(want, s.Addr()+": "+reply)
		}
		if got.code != 0 || got.stderr != "" || len(lines) != len(servers)+1 || lines[0] != header {
			t.Errorf("%q: exit %d\n%s\nstderr %q", args, got.code, got.stdout, got.stderr)
			return
		}
		slices.Sort(want)
		body := slices.Sorted(slices.Values(lines[1:]))
		if !slices.Equal(body, want) {
			t.Errorf("%q: replies %q, want %q", args, body, want)
		}
	}
	check([]string{"call", a, "echo", "-1", "--only-masters"}, ">>> Calling echo -1", "-1")
	check([]string{"call", a, "--", "echo", "--only-masters"}, ">>> Calling echo --only-masters", "--only-masters")
	// An unknown option among the options is refused as by every command.
	if got := runRCluster(t, "", "dumb", nil, "call", a, "ping", "--only-masters", "--no-such-option"); got.code != ExitUsage {
		t.Errorf("unknown option after the command: exit %d, want %d (%q)", got.code, ExitUsage, got.stderr)
	}
}

func TestCallSplit(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &factory{IO: ios, Getenv: envFor("")}
	root := newRootCmd(f)
	var fs *pflag.FlagSet
	for _, c := range root.Commands() {
		if c.Name() == "call" {
			c.InheritedFlags() // merges the global flags into c.Flags()
			fs = c.Flags()
		}
	}
	if fs == nil {
		t.Fatal("no call command")
	}
	tests := []struct {
		args, command, options []string
	}{
		{[]string{"h:1", "get", "k"}, []string{"get", "k"}, nil},
		{[]string{"h:1", "set", "k", "-1", "--only-masters"}, []string{"set", "k", "-1"}, []string{"--only-masters"}},
		{[]string{"h:1", "get", "k", "--cluster-only-replicas", "x"}, []string{"get", "k"}, []string{"--cluster-only-replicas", "x"}},
		{[]string{"h:1", "get", "k", "-a", "pw"}, []string{"get", "k"}, []string{"-a", "pw"}},
		{[]string{"h:1", "get", "k", "--pass=pw"}, []string{"get", "k"}, []string{"--pass=pw"}},
		{[]string{"h:1", "get", "-", "--nope"}, []string{"get", "-", "--nope"}, nil},
		{[]string{"h:1", "--", "echo", "-a", "--only-masters"}, []string{"echo", "-a", "--only-masters"}, nil},
		{[]string{"h:1", "--only-masters", "get"}, nil, []string{"--only-masters", "get"}},
		{[]string{"h:1"}, nil, nil},
	}
	for _, tt := range tests {
		o := &callOptions{}
		opts := o.split(fs, tt.args)
		if !slices.Equal(o.command, tt.command) || !slices.Equal(opts, tt.options) {
			t.Errorf("split(%q) = %q, %q; want %q, %q", tt.args, o.command, opts, tt.command, tt.options)
		}
	}
}

func TestFormatRaw(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, ""},
		{"OK", "OK"},
		{int64(-3), "-3"},
		{[]any{}, ""},
		{[]any{"a", int64(1), nil, []any{"b", "c"}}, "a,1,,b,c"},
		{[]any{"a", errors.New("ERR boom"), "b"}, "a,ERR boom\n,b"},
	}
	for _, tt := range tests {
		if got := manager.FormatRaw(tt.v, ","); got != tt.want {
			t.Errorf("FormatRaw(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// A node that gave no reply is marked failed in the JSON document, as
// redis-cli's text says "Failed!".
func TestCallDocFailedNode(t *testing.T) {
	n := &manager.Node{Node: &cluster.Node{ID: strings.Repeat("a", 40), Host: "127.0.0.1", Port: 7000, MasterID: strings.Repeat("b", 40)}}
	doc := callDoc([]string{"ping"}, []manager.CallReply{{Node: n, Err: errors.New("i/o timeout")}})
	r := doc.Replies[0]
	if r.Address != "127.0.0.1:7000" || r.Role != "replica" || !r.Failed || r.Error != "i/o timeout" || r.Reply != nil {
		t.Errorf("reply %+v: want a failed replica with the error", r)
	}
}
