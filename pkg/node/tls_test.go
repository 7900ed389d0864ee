package node

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pki is a CA and a certificate it signed (without any host name or IP:
// redis-cli does not check names, and neither does rcluster).
type pki struct {
	dir                string
	caFile             string
	certFile, keyFile  string
	cert               tls.Certificate
	otherCA, otherCert string // an unrelated CA, and a certificate it signed
	otherKey           string
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key, der
}

func newLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir()}
	ca, caKey, caDER := newCA(t, "test CA")
	p.caFile = filepath.Join(p.dir, "ca.crt")
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	der, key := newLeaf(t, ca, caKey)
	p.certFile, p.keyFile = filepath.Join(p.dir, "node.crt"), filepath.Join(p.dir, "node.key")
	writePEM(t, p.certFile, "CERTIFICATE", der)
	kb, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", kb)
	var err error
	if p.cert, err = tls.LoadX509KeyPair(p.certFile, p.keyFile); err != nil {
		t.Fatal(err)
	}
	other, otherKey, otherDER := newCA(t, "other CA")
	p.otherCA = filepath.Join(p.dir, "other.crt")
	writePEM(t, p.otherCA, "CERTIFICATE", otherDER)
	der, key = newLeaf(t, other, otherKey)
	p.otherCert, p.otherKey = filepath.Join(p.dir, "other-node.crt"), filepath.Join(p.dir, "other-node.key")
	writePEM(t, p.otherCert, "CERTIFICATE", der)
	kb, _ = x509.MarshalECPrivateKey(key)
	writePEM(t, p.otherKey, "EC PRIVATE KEY", kb)
	return p
}

// serveTLS answers "+PONG" to one line on every TLS connection; it returns
// the port and the client certificates it saw.
func serveTLS(t *testing.T, cfg *tls.Config) (int, <-chan int) {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	seen := make(chan int, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				select {
				case seen <- len(tc.ConnectionState().PeerCertificates):
				default: // nobody counts
				}
				r := bufio.NewReader(c)
				for {
					cmd, err := readCommand(r)
					if err != nil {
						return
					}
					if strings.EqualFold(cmd, "PING") {
						c.Write([]byte("+PONG\r\n"))
					} else {
						c.Write([]byte("-ERR unknown command\r\n"))
					}
				}
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, seen
}

// readCommand reads one RESP command and returns its name.
func readCommand(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	var name string
	for i := 0; i < n; i++ {
		if _, err := r.ReadString('\n'); err != nil { // $len
			return "", err
		}
		arg, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if i == 0 {
			name = strings.TrimSpace(arg)
		}
	}
	return name, nil
}

func TestTLSConfigErrors(t *testing.T) {
	p := newPKI(t)
	for _, tc := range []struct {
		o   TLSOptions
		msg string
	}{
		{TLSOptions{CACert: p.caFile + ".missing"}, "Invalid CA Certificate File/Directory"},
		{TLSOptions{CACert: p.keyFile}, "Invalid CA Certificate File/Directory"},
		{TLSOptions{CACert: p.caFile, Cert: p.keyFile, Key: p.keyFile}, "Invalid client certificate"},
		{TLSOptions{CACert: p.caFile, Cert: p.certFile + ".missing"}, "Invalid client certificate"},
		{TLSOptions{CACert: p.caFile, Cert: p.certFile, Key: p.certFile}, "Invalid private key"},
		{TLSOptions{CACert: p.caFile, Cert: p.certFile, Key: p.otherKey}, "Invalid private key"},
		{TLSOptions{Key: p.keyFile + ".missing"}, "Invalid private key"},
	} {
		_, err := TLSConfig(tc.o)
		var te *TLSError
		if !errors.As(err, &te) || te.Msg != tc.msg {
			t.Errorf("%+v: %v, want TLS Error: %s", tc.o, err, tc.msg)
		}
	}
	// Unusable-only-when-verifying settings are no error (as OpenSSL).
	for _, o := range []TLSOptions{{CACertDir: filepath.Join(p.dir, "missing")}, {Cert: p.certFile}, {Key: p.keyFile}} {
		if _, err := TLSConfig(o); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestDialConnTLS(t *testing.T) {
	p := newPKI(t)
	roots := x509.NewCertPool()
	caPEM, _ := os.ReadFile(p.caFile)
	roots.AppendCertsFromPEM(caPEM)
	port, seen := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.cert}, ClientAuth: tls.RequestClientCert, ClientCAs: roots})
	ctx := context.Background()
	dial := func(o TLSOptions) error {
		t.Helper()
		cfg, err := TLSConfig(o)
		if err != nil {
			t.Fatal(err)
		}
		c, err := DialConn(ctx, Options{TLS: cfg, ConnectTimeout: 2 * time.Second}, "127.0.0.1", port)
		if err == nil {
			c.Close()
		}
		return err
	}
	// The certificate names neither 127.0.0.1 nor localhost: accepted, as
	// redis-cli accepts it.
	if err := dial(TLSOptions{CACert: p.caFile}); err != nil {
		t.Fatalf("trusted CA: %v", err)
	}
	if n := <-seen; n != 0 {
		t.Errorf("%d client certificates sent without --cert", n)
	}
	if err := dial(TLSOptions{CACertDir: p.dir}); err != nil { // the directory holds the CA
		t.Errorf("--cacertdir: %v", err)
	} else {
		<-seen
	}
	if err := dial(TLSOptions{CACert: p.caFile, Cert: p.certFile, Key: p.keyFile, SNI: "redis.example"}); err != nil {
		t.Fatalf("client certificate: %v", err)
	}
	if n := <-seen; n != 1 {
		t.Errorf("%d client certificates sent with --cert and --key", n)
	}
	err := dial(TLSOptions{CACert: p.otherCA})
	var ce *ConnectError
	if !errors.As(err, &ce) || ce.Reason != "SSL_connect failed: certificate verify failed" {
		t.Errorf("untrusted: %v", err)
	}
	if err := dial(TLSOptions{CACert: p.otherCA, Insecure: true}); err != nil {
		t.Errorf("--insecure: %v", err)
	} else {
		<-seen
	}

	// Unusable settings fail every connection, in redis-cli's words.
	_, tlsErr := TLSConfig(TLSOptions{CACert: p.caFile + ".missing"})
	if _, err := DialConn(ctx, Options{TLSErr: tlsErr}, "127.0.0.1", port); err == nil || err.Error() != "TLS Error: Invalid CA Certificate File/Directory" {
		t.Errorf("TLSErr: %v", err)
	}
}

func TestDialConnTLSToPlainPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	answer := make(chan bool, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if <-answer { // a plain server replying to the client hello
				c.Write([]byte("-ERR unknown command\r\n"))
			}
			defer c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	cfg, _ := TLSConfig(TLSOptions{Insecure: true})
	for _, tc := range []struct {
		answer bool
		reason string
	}{
		{true, "SSL_connect failed: wrong version number"},
		{false, "SSL_connect failed: Connection timed out"}, // redis-cli waits forever
	} {
		answer <- tc.answer
		_, err := DialConn(context.Background(), Options{TLS: cfg, ConnectTimeout: 300 * time.Millisecond}, "127.0.0.1", port)
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Reason != tc.reason {
			t.Errorf("%v, want %q", err, tc.reason)
		}
	}
}

// A TLS port reached without TLS drops the connection: the dialer says so.
func TestPlainDialToTLSPort(t *testing.T) {
	p := newPKI(t)
	port, _ := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.cert}})
	_, err := NewDialer(Options{ConnectTimeout: 2 * time.Second})(context.Background(), "127.0.0.1", port)
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.HasSuffix(ce.Reason, "(is it a TLS port? then use --tls)") {
		t.Errorf("%v", err)
	}
	cfg, _ := TLSConfig(TLSOptions{CACert: p.caFile})
	c, err := NewDialer(Options{TLS: cfg})(context.Background(), "127.0.0.1", port)
	if err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	c.Close()
}

// A server that requires a client certificate refuses a client without one
// after the TLS 1.3 handshake: the dialer names the missing certificate. A
// server that only asks for one works without.
func TestClientCertificateRequired(t *testing.T) {
	p := newPKI(t)
	cfg, _ := TLSConfig(TLSOptions{CACert: p.caFile})
	for _, tc := range []struct {
		auth tls.ClientAuthType
		want string
	}{
		{tls.RequireAnyClientCert, "SSL_connect failed: " + clientCertRequired},
		{tls.RequestClientCert, ""},
	} {
		port, _ := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{p.cert}, ClientAuth: tc.auth, MinVersion: tls.VersionTLS13})
		for i := 0; i < 20; i++ {
			c, err := NewDialer(Options{TLS: cfg})(context.Background(), "127.0.0.1", port)
			var ce *ConnectError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("%v: %v", tc.auth, err)
			case tc.want == "":
				if v, err := c.Do(context.Background(), "PING"); err != nil || v != "PONG" {
					t.Fatalf("%v: PING: %v %v", tc.auth, v, err)
				}
				c.Close()
			case !errors.As(err, &ce) || ce.Reason != tc.want:
				t.Fatalf("%v: %v, want %q", tc.auth, err, tc.want)
			}
		}
	}
}
