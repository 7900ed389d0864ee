package cli

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/iostreams"
	"github.com/rcluster/rcluster/internal/redistest"
)

// Helpers that run redis-cli and rcluster (in-process) with the same command
// line and compare what they print.

// result is what one run printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

func envFor(term string) func(string) string {
	return func(k string) string {
		if k == "TERM" {
			return term
		}
		return ""
	}
}

// runRCluster runs rcluster in-process with global options, then args.
func runRCluster(t *testing.T, stdin, term string, global []string, args ...string) result {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	ios.Color = iostreams.ColorFromEnv(envFor(term))
	code := run(append(slices.Clone(global), args...), &factory{IO: ios, Getenv: envFor(term)})
	return result{out.String(), errOut.String(), code}
}

// runRedisCLI runs redis-cli with the global options, then --cluster and args.
func runRedisCLI(t *testing.T, stdin, term string, global []string, args ...string) result {
	t.Helper()
	return runBuildCLI(t, redistest.Redis, stdin, term, global, args...)
}

// runBuildCLI runs the build's CLI (redis-cli, valkey-cli) with the global
// options, then --cluster and args.
func runBuildCLI(t *testing.T, b *redistest.Build, stdin, term string, global []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(b.MustCLI(t), append(append(slices.Clone(global), "--cluster"), args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "TERM=" + term}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", b.CLI, err)
	}
	return result{out.String(), errOut.String(), code}
}

// sameAsRedisCLI fails the test when got is not want byte for byte.
func sameAsRedisCLI(t *testing.T, what string, got, want result) {
	t.Helper()
	if got.code != want.code {
		t.Errorf("%s: exit %d, redis-cli %d\n--- rcluster stdout\n%s--- rcluster stderr\n%s", what, got.code, want.code, got.stdout, got.stderr)
	}
	if got.stdout != want.stdout {
		t.Errorf("%s: stdout differs\n--- rcluster\n%q\n--- redis-cli\n%q", what, got.stdout, want.stdout)
	}
	if got.stderr != want.stderr {
		t.Errorf("%s: stderr differs\n--- rcluster\n%q\n--- redis-cli\n%q", what, got.stderr, want.stderr)
	}
}

// bothTools runs the same command line with both tools and compares them.
func bothTools(t *testing.T, term string, global []string, args ...string) result {
	t.Helper()
	return bothToolsOn(t, redistest.Redis, term, global, args...)
}

// bothToolsOn is bothTools with the build's CLI.
func bothToolsOn(t *testing.T, b *redistest.Build, term string, global []string, args ...string) result {
	t.Helper()
	want := runBuildCLI(t, b, "", term, global, args...)
	got := runRCluster(t, "", term, global, args...)
	sameAsRedisCLI(t, strings.Join(args, " ")+" (TERM="+term+")", got, want)
	return got
}
