// Package version holds rcluster's version, stamped at build time with
// -ldflags "-X github.com/rcluster/rcluster/internal/version.Version=...".
package version

import "runtime/debug"

// Set by the linker for release builds.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// String returns "VERSION (commit COMMIT, built DATE)", falling back to the
// module version and VCS data Go records for `go install` builds.
func String() string {
	v, c, d := Version, Commit, Date
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && c == "":
				c = s.Value
			case s.Key == "vcs.time" && d == "":
				d = s.Value
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if c == "" {
		c = "unknown"
	}
	if d == "" {
		d = "unknown"
	}
	return v + " (commit " + c + ", built " + d + ")"
}
