package cli

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/redistest"
)

// `rcluster completion SHELL` is listed in the help and prints a script for
// each shell cobra supports.
func TestCompletionScripts(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != 0 || !strings.Contains(out, "\n  completion  ") {
		t.Errorf("--help does not list the completion command (exit %d):\n%s", code, out)
	}
	markers := map[string]string{
		"bash":       "# bash completion V2 for rcluster",
		"zsh":        "#compdef rcluster",
		"fish":       "complete -c rcluster",
		"powershell": "Register-ArgumentCompleter",
	}
	for shell, marker := range markers {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := runCLI(t, "completion", shell)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if len(out) < 1000 || !strings.Contains(out, marker) {
				t.Fatalf("the %s script (%d bytes) lacks %q:\n%.300s", shell, len(out), marker, out)
			}
			// The shells that are installed must be able to parse it.
			if sh, err := exec.LookPath(shell); err == nil && (shell == "bash" || shell == "zsh") {
				file := filepath.Join(t.TempDir(), "rcluster."+shell)
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				if b, err := exec.Command(sh, "-n", file).CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", shell, err, b)
				}
			}
		})
	}
}

// The scripts call back `rcluster __complete`, which knows the command tree.
func TestCompletionOfCommands(t *testing.T) {
	out, _, code := runCLI(t, "__complete", "local", "")
	if code != 0 {
		t.Fatalf("__complete: exit %d", code)
	}
	for _, want := range []string{"up\t", "down\t", "status\t"} {
		if !strings.Contains(out, want) {
			t.Errorf("__complete local lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "__complete", "local", "up", "--rep")
	if !strings.Contains(out, "--replicas\t") {
		t.Errorf("__complete local up --rep:\n%s", out)
	}
}

// The values of -o and --progress, and node IDs asked of the cluster whose
// address is on the command line: masters where a master is needed.
func TestCompletionOfValues(t *testing.T) {
	complete := func(args ...string) []string {
		t.Helper()
		out, _, code := runCLI(t, append([]string{"__complete"}, args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: exit %d", args, code)
		}
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	values := func(lines []string) string {
		var v []string
		for _, l := range lines[:len(lines)-1] { // the last line is the directive
			value, _, _ := strings.Cut(l, "\t")
			v = append(v, value)
		}
		slices.Sort(v)
		return strings.Join(v, " ")
	}
	if got := values(complete("check", "127.0.0.1:1", "-o", "")); got != "json table text" {
		t.Errorf("-o: %q", got)
	}
	if got := values(complete("reshard", "127.0.0.1:1", "--progress", "")); got != "always auto never" {
		t.Errorf("--progress: %q", got)
	}
	if got := values(complete("import", "127.0.0.1:1", "--progress", "")); got != "always auto never" {
		t.Errorf("import --progress: %q", got)
	}
	// No address, or nothing answers there: no IDs, and no waiting.
	if got := values(complete("reshard", "--to", "")); got != "" {
		t.Errorf("--to without an address: %q", got)
	}
	start := time.Now()
	if got := values(complete("del-node", "127.0.0.1:1", "")); got != "" {
		t.Errorf("del-node of an unreachable address: %q", got)
	}
	if d := time.Since(start); d > completionTimeout+time.Second {
		t.Errorf("completion took %v", d)
	}

	redistest.Require(t)
	servers := redistest.StartCluster(t, redistest.Options{Count: 6, Password: "pw"}, 1)
	var masters, all []string
	for _, s := range servers {
		id := nodeIDOf(t, s)
		all = append(all, id)
		if me, _ := s.Myself(); me.HasFlag("master") {
			masters = append(masters, id)
		}
	}
	slices.Sort(masters)
	slices.Sort(all)
	a := servers[0].Addr()
	host, port, _ := net.SplitHostPort(a)
	auth := []string{"-a", "pw"}
	with := func(prefix string, ids []string, suffix string) string {
		var out []string
		for _, id := range ids {
			out = append(out, prefix+id+suffix)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"reshard", a, "--to", ""}, with("", masters, "")},
		{[]string{"reshard", host, port, "--to", ""}, with("", masters, "")},
		{[]string{"reshard", a, "--to", masters[0][:6]}, masters[0]},
		{[]string{"reshard", a, "--from", ""}, "all " + with("", masters, "")},
		{[]string{"reshard", a, "--from", masters[0] + ","}, with(masters[0]+",", masters, "")},
		{[]string{"rebalance", a, "--weight", ""}, with("", masters, "=")},
		{[]string{"add-node", "127.0.0.1:1", a, "--replica", "--master-id", ""}, with("", masters, "")},
		{[]string{"del-node", a, ""}, with("", all, "")},
		{[]string{"del-node", a, all[0], ""}, ""},
	}
	for _, tt := range tests {
		want := strings.Fields(tt.want)
		slices.Sort(want)
		if got := values(complete(append(slices.Clone(auth), tt.args...)...)); got != strings.Join(want, " ") {
			t.Errorf("%v:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}
	// REDISCLI_AUTH is the password too; without any, no IDs.
	if got := values(complete("reshard", a, "--to", "")); got != "" {
		t.Errorf("without a password: %q", got)
	}
	ios, _, out, _ := iostreams.Test()
	env := func(k string) string {
		if k == "REDISCLI_AUTH" {
			return "pw"
		}
		return ""
	}
	if code := run([]string{"__complete", "reshard", a, "--to", ""}, &factory{IO: ios, Getenv: env}); code != 0 ||
		values(strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")) != with("", masters, "") {
		t.Errorf("with REDISCLI_AUTH: exit %d\n%s", code, out.String())
	}
}
