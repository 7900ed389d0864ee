package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
