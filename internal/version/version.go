// Package version holds rcluster's version, stamped at build time with
// -ldflags "-X github.com/rcluster/rcluster/internal/version.Version=...".
// Without them (go install, go build) it comes from the build information
// Go records in the binary.
package version

import (
	"regexp"
	"runtime/debug"
	"time"
)

// Set by the linker for release builds.
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// String returns "VERSION (commit COMMIT, built DATE)": what the linker
// set, otherwise what runtime/debug.ReadBuildInfo tells.
func String() string {
	bi, _ := debug.ReadBuildInfo()
	return describe(Version, Commit, Date, bi)
}

// pseudoVersion matches the end of a Go pseudo-version
// (v0.0.0-20261125003634-ed0c38c965cf, v1.2.4-0.20261125003634-ed0c38c965cf,
// with an optional +dirty or +incompatible): the commit time and revision.
var pseudoVersion = regexp.MustCompile(`[-.](\d{14})-([0-9a-f]{12})(\+[0-9A-Za-z.-]+)?$`)

// describe fills what the linker left empty from the build information:
// the module version (`go install ...@VERSION`, or the pseudo-version
// `go build` derives from the VCS since Go 1.24), the VCS revision and
// commit time (`go build` in a checkout), or the revision and time a
// pseudo-version carries (`go install ...@COMMIT`).
func describe(v, c, d string, bi *debug.BuildInfo) string {
	if bi != nil {
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
		if m := pseudoVersion.FindStringSubmatch(bi.Main.Version); m != nil {
			if c == "" {
				c = m[2]
			}
			if t, err := time.Parse("20060102150405", m[1]); err == nil && d == "" {
				d = t.Format(time.RFC3339)
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
