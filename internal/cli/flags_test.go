package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/manager"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in   string
		want manager.Address
		ok   bool
	}{
		{"127.0.0.1:7000", manager.Address{Host: "127.0.0.1", Port: 7000}, true},
		{"localhost:7000@17000", manager.Address{Host: "localhost", Port: 7000}, true},
		{"::1:7000", manager.Address{Host: "::1", Port: 7000}, true},
		{"[::1]:7000", manager.Address{Host: "::1", Port: 7000}, true},
		{"127.0.0.1", manager.Address{}, false},
		{"127.0.0.1:", manager.Address{}, false},
		{"127.0.0.1:abc", manager.Address{}, false},
		{"127.0.0.1:7000x", manager.Address{}, false},
		{"127.0.0.1:0", manager.Address{}, false},
		{"127.0.0.1:65536", manager.Address{}, false},
		{"127.0.0.1:-1", manager.Address{}, false},
		{":7000", manager.Address{}, false},
	}
	for _, tt := range tests {
		got, ok := parseAddr(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("parseAddr(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// runCLI runs rcluster in-process with an empty environment.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	code = run(args, &factory{IO: ios, Getenv: func(string) string { return "" }})
	return out.String(), errOut.String(), code
}

func TestArgumentErrors(t *testing.T) {
	const invalid = "[ERR] Invalid arguments: you need to pass either a valid address (ie. 120.0.0.1:7000) or space separated IP and port (ie. 120.0.0.1 7000)\n"
	const wrongArgs = "[ERR] Wrong number of arguments for specified --cluster sub command\n"
	tests := []struct {
		args       []string
		wantErr    string
		wantCode   int
		wantPrefix bool
	}{
		{[]string{"check"}, wrongArgs, 1, false},
		{[]string{"info"}, wrongArgs, 1, false},
		{[]string{"create"}, wrongArgs, 1, false},
		{[]string{"check", "127.0.0.1"}, invalid, 1, false},
		{[]string{"check", "127.0.0.1", "abc"}, invalid, 1, false},
		{[]string{"info", "127.0.0.1:notaport"}, invalid, 1, false},
		{[]string{"--cluster", "info", "127.0.0.1"}, invalid, 1, false},
		{[]string{"create", "127.0.0.1", "30001"}, "Invalid address format: 127.0.0.1\n", 1, false},
		{[]string{"create", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "--replicas", "-1"}, "Invalid replica count -1: it must be 0 or more.\n", 1, false},
		{[]string{"create", "127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "--cluster-replicas", "-2"}, "Invalid replica count -2: it must be 0 or more.\n", 1, false},
		{[]string{"check", "127.0.0.1:1", "--no-such-flag"}, "unknown flag: --no-such-flag", 2, true},
		{[]string{"nosuchcommand"}, "unknown command \"nosuchcommand\"", 2, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := runCLI(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if tt.wantPrefix {
				if !strings.HasPrefix(errOut, tt.wantErr) {
					t.Errorf("stderr %q, want prefix %q", errOut, tt.wantErr)
				}
			} else if errOut != tt.wantErr {
				t.Errorf("stderr %q, want %q", errOut, tt.wantErr)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestRedisCLIFlagNames(t *testing.T) {
	var got *createOptions
	ios, _, _, _ := iostreams.Test()
	f := &factory{IO: ios, Getenv: func(string) string { return "" }}
	root := newRootCmd(f)
	for _, c := range root.Commands() {
		if c.Name() == "create" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newCreateCmd(f, func(_ context.Context, o *createOptions) error { got = o; return nil }))
	root.SetArgs([]string{"--cluster-yes", "create", "127.0.0.1:1", "127.0.0.1:2", "--cluster-replicas", "2"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.replicas != 2 || len(got.addrs) != 2 || !f.global.yes {
		t.Fatalf("options not parsed from redis-cli names: %+v yes=%v", got, f.global.yes)
	}
}

func TestPasswordWarningAndEnv(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	f := &factory{IO: ios, Getenv: func(k string) string {
		return map[string]string{"REDISCLI_AUTH": "envpw", "REDISCLI_CLUSTER_YES": "1"}[k]
	}}
	if err := f.prepare(); err != nil {
		t.Fatal(err)
	}
	if f.global.pass != "envpw" || !f.global.yes || errOut.Len() != 0 {
		t.Fatalf("env not applied silently: pass=%q yes=%v stderr=%q", f.global.pass, f.global.yes, errOut)
	}
	f.global = globalOptions{pass: "secret"}
	if err := f.prepare(); err != nil {
		t.Fatal(err)
	}
	want := "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n"
	if errOut.String() != want || f.global.pass != "secret" {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
	if strings.Contains(errOut.String(), "secret") {
		t.Fatal("password printed")
	}
}

func TestParseURI(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want uriAuth
		err  string
	}{
		{"redis://127.0.0.1:7000", uriAuth{}, ""},
		{"redis://", uriAuth{}, ""},
		{"REDIS://pw@host:7000/0", uriAuth{pass: "pw"}, ""},
		{"redis://alice:s3cr%40t@host", uriAuth{user: "alice", pass: "s3cr@t"}, ""},
		{"redis://:pw@host", uriAuth{pass: "pw"}, ""},
		{"rediss://bob:pw@host:6380", uriAuth{user: "bob", pass: "pw", tls: true}, ""},
		// valkey-cli's schemes.
		{"valkey://alice:pw@host", uriAuth{user: "alice", pass: "pw"}, ""},
		{"VALKEYS://bob:pw@host:6380", uriAuth{user: "bob", pass: "pw", tls: true}, ""},
		{"http://host", uriAuth{}, "Invalid URI scheme"},
		{"redis://p%@host", uriAuth{}, "Incomplete URI encoding"},
		{"redis://p%4@host", uriAuth{}, "Illegal character in URI encoding"},
		{"redis://p%zz@host", uriAuth{}, "Illegal character in URI encoding"},
	} {
		got, err := parseURI(c.uri)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("parseURI(%q) error %v, want %q", c.uri, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseURI(%q) = %+v, %v; want %+v", c.uri, got, err, c.want)
		}
	}
}

// TestOutputFormatsDeclared: a command refuses the -o formats it does not
// declare, before it connects to anything (the addresses here are closed).
func TestOutputFormatsDeclared(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"backup", "127.0.0.1:1", "/nonexistent", "-o", "json"}, "--output json is not available for backup: its output is redis-cli's text\n"},
		{[]string{"import", "127.0.0.1:1", "--from", "127.0.0.1:2", "-o", "json"}, "--output json is not available for import: its output is redis-cli's text\n"},
		{[]string{"reshard", "127.0.0.1:1", "-o", "table"}, "--output table is available for check and info only, not for reshard\n"},
		{[]string{"call", "127.0.0.1:1", "ping", "-o", "table"}, "--output table is available for check and info only, not for call\n"},
	}
	for _, tt := range tests {
		out, errOut, code := runCLI(t, tt.args...)
		if code != ExitUsage || out != "" || !strings.HasPrefix(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}
