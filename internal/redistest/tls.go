package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NewTLSFiles makes, with openssl, in dir: a CA (ca.crt), a server
// certificate signed by it for localhost, 127.0.0.1 and ::1 (server.crt,
// server.key) and a client certificate (client.crt, client.key). It skips
// (or fails, with RCLUSTER_REQUIRE_REDIS=1) the test when openssl is
// missing.
func NewTLSFiles(t testing.TB, dir string) *TLSFiles {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("redistest: openssl not found in PATH (and %s=1)", RequireEnv)
		}
		t.Skip("redistest: openssl not found in PATH")
	}
	f, err := MakeTLSFiles(dir)
	if err != nil {
		t.Fatalf("redistest.NewTLSFiles: %v", err)
	}
	return f
}

// MakeTLSFiles is NewTLSFiles without a testing.TB.
func MakeTLSFiles(dir string) (*TLSFiles, error) {
	p := func(name string) string { return filepath.Join(dir, name) }
	ext := p("san.ext")
	if err := os.WriteFile(ext, []byte("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"), 0o644); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=rcluster test CA",
			"-keyout", p("ca.key"), "-out", p("ca.crt")},
		{"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=redis-server", "-keyout", p("server.key"), "-out", p("server.csr")},
		{"x509", "-req", "-in", p("server.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
			"-days", "30", "-extfile", ext, "-out", p("server.crt")},
		{"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rcluster client", "-keyout", p("client.key"), "-out", p("client.csr")},
		{"x509", "-req", "-in", p("client.csr"), "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial",
			"-days", "30", "-out", p("client.crt")},
	}
	for _, args := range steps {
		out, err := exec.Command("openssl", args...).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return &TLSFiles{
		CACert: p("ca.crt"), Cert: p("server.crt"), Key: p("server.key"),
		ClientCert: p("client.crt"), ClientKey: p("client.key"),
	}, nil
}
