package version

import (
	"runtime/debug"
	"testing"
)

func TestDescribe(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "ed0c38c965cf1d511a8ca0ba5057981af67221e2"},
		{Key: "vcs.time", Value: "2026-11-25T00:36:34Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	info := func(version string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/rcluster/rcluster", Version: version}, Settings: settings}
	}
	tests := []struct {
		name    string
		v, c, d string
		bi      *debug.BuildInfo
		want    string
	}{
		{"ldflags win", "v1.2.3", "abc", "2025-01-02T03:04:05Z", info("v9.9.9", vcs),
			"v1.2.3 (commit abc, built 2025-01-02T03:04:05Z)"},
		{"go install @tag", "", "", "", info("v1.4.0", nil),
			"v1.4.0 (commit unknown, built unknown)"},
		{"go install @commit", "", "", "", info("v0.0.0-20261125003634-ed0c38c965cf", nil),
			"v0.0.0-20261125003634-ed0c38c965cf (commit ed0c38c965cf, built 2026-11-25T00:36:34Z)"},
		{"go install @commit after a tag", "", "", "", info("v1.4.1-0.20261125003634-ed0c38c965cf", nil),
			"v1.4.1-0.20261125003634-ed0c38c965cf (commit ed0c38c965cf, built 2026-11-25T00:36:34Z)"},
		{"go build in a checkout", "", "", "", info("v0.0.0-20261125003634-ed0c38c965cf+dirty", vcs),
			"v0.0.0-20261125003634-ed0c38c965cf+dirty (commit ed0c38c965cf1d511a8ca0ba5057981af67221e2, built 2026-11-25T00:36:34Z)"},
		{"go build without a version", "", "", "", info("(devel)", vcs),
			"dev (commit ed0c38c965cf1d511a8ca0ba5057981af67221e2, built 2026-11-25T00:36:34Z)"},
		{"only the version stamped", "v2.0.0", "", "", info("(devel)", vcs),
			"v2.0.0 (commit ed0c38c965cf1d511a8ca0ba5057981af67221e2, built 2026-11-25T00:36:34Z)"},
		{"-buildvcs=false", "", "", "", info("(devel)", nil), "dev (commit unknown, built unknown)"},
		{"no build information", "", "", "", nil, "dev (commit unknown, built unknown)"},
	}
	for _, tt := range tests {
		if got := describe(tt.v, tt.c, tt.d, tt.bi); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
