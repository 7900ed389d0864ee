package cli

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rcluster/rcluster/internal/version"
)

func TestVersionFlag(t *testing.T) {
	old := [3]string{version.Version, version.Commit, version.Date}
	t.Cleanup(func() { version.Version, version.Commit, version.Date = old[0], old[1], old[2] })
	version.Version, version.Commit, version.Date = "v1.2.3", "0123456789abcdef", "2025-01-02T03:04:05Z"
	for _, flag := range []string{"--version", "-v"} {
		out, errOut, code := runCLI(t, flag)
		if want := "rcluster v1.2.3 (commit 0123456789abcdef, built 2025-01-02T03:04:05Z)\n"; code != 0 || out != want || errOut != "" {
			t.Errorf("rcluster %s: exit %d, stdout %q, stderr %q; want %q", flag, code, out, errOut, want)
		}
	}
}

// A binary built with -ldflags -X (as `make build` and goreleaser do)
// reports the stamped version, commit and date.
func TestVersionStampedByLinker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rcluster")
	}
	bin := filepath.Join(t.TempDir(), "rcluster")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	const pkg = "github.com/rcluster/rcluster/internal/version"
	ldflags := "-X " + pkg + ".Version=v9.8.7-test -X " + pkg + ".Commit=fedcba9876543210 -X " + pkg + ".Date=2025-06-07T08:09:10Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "./cmd/rcluster")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if want := "rcluster v9.8.7-test (commit fedcba9876543210, built 2025-06-07T08:09:10Z)\n"; err != nil || string(out) != want {
		t.Errorf("rcluster --version: %v, %q; want %q", err, out, want)
	}
}
