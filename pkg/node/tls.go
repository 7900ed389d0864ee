package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// TLSOptions are redis-cli's TLS flags (--cacert, --cacertdir, --cert,
// --key, --sni, --insecure).
type TLSOptions struct {
	CACert, CACertDir string
	Cert, Key         string
	SNI               string
	Insecure          bool
}

// TLSError is a TLS setting that cannot be used (an unreadable CA file, a
// client certificate or key that cannot be loaded), worded as redis-cli
// words it after "TLS Error: ".
type TLSError struct{ Msg string }

func (e *TLSError) Error() string { return "TLS Error: " + e.Msg }

// errCertVerify is a server certificate that does not chain up to a
// trusted root (OpenSSL's "certificate verify failed").
var errCertVerify = errors.New("certificate verify failed")

// TLSConfig builds the client configuration of redis-cli's TLS flags, with
// redis-cli's semantics: the server's certificate chain is verified against
// the system roots, or only against --cacert and --cacertdir when one is
// given; the host name is not checked against the certificate (OpenSSL's
// SSL_VERIFY_PEER without a host, as redis-cli); --sni only sets the name
// sent in the handshake; --insecure skips verification. A client
// certificate is presented when both --cert and --key are given.
func TLSConfig(o TLSOptions) (*tls.Config, error) {
	var roots *x509.CertPool // nil: the system roots
	if o.CACert != "" || o.CACertDir != "" {
		roots = x509.NewCertPool()
		if o.CACert != "" {
			b, err := os.ReadFile(o.CACert)
			if err != nil || !roots.AppendCertsFromPEM(b) {
				return nil, &TLSError{"Invalid CA Certificate File/Directory"}
			}
		}
		if o.CACertDir != "" {
			// OpenSSL looks certificates up in the directory only when
			// verifying, so a missing or empty directory is no error here:
			// verification fails instead.
			entries, _ := os.ReadDir(o.CACertDir)
			for _, e := range entries {
				if b, err := os.ReadFile(filepath.Join(o.CACertDir, e.Name())); err == nil {
					roots.AppendCertsFromPEM(b)
				}
			}
		}
	}
	cfg := &tls.Config{
		ServerName: o.SNI,
		// Go would check the host name; redis-cli does not, so the chain is
		// verified below instead.
		InsecureSkipVerify: true,
	}
	if !o.Insecure {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errCertVerify
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: roots, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				return errCertVerify
			}
			return nil
		}
	}
	// Without a client certificate, note when the server asks for one: if it
	// then drops the connection, that is why (see certlessConn).
	cfg.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if asked, ok := cri.Context().Value(certAskedKey{}).(*bool); ok {
			*asked = true
		}
		return &tls.Certificate{}, nil
	}
	var certPEM []byte
	if o.Cert != "" {
		b, err := os.ReadFile(o.Cert)
		if err != nil || !hasPEM(b, "CERTIFICATE") {
			return nil, &TLSError{"Invalid client certificate"}
		}
		certPEM = b
	}
	if o.Key != "" {
		b, err := os.ReadFile(o.Key)
		if err != nil || !hasPEM(b, "") {
			return nil, &TLSError{"Invalid private key"}
		}
		if certPEM != nil {
			pair, err := tls.X509KeyPair(certPEM, b)
			if err != nil { // not a key, or not the certificate's key
				return nil, &TLSError{"Invalid private key"}
			}
			cfg.Certificates = []tls.Certificate{pair}
			cfg.GetClientCertificate = nil
		}
	}
	return cfg, nil
}

// hasPEM reports whether b holds a PEM block of the given type (any type
// ending in "PRIVATE KEY" when typ is "").
func hasPEM(b []byte, typ string) bool {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return false
		}
		if blk.Type == typ || typ == "" && strings.HasSuffix(blk.Type, "PRIVATE KEY") {
			return true
		}
	}
}

// DialConn opens a connection to host:port as every node connection is
// opened: TCP with a 15 s keep-alive, then the TLS handshake when o.TLS is
// set, both within the connect timeout. Errors are a *ConnectError worded
// as redis-cli words them, or a *TLSError for unusable TLS settings.
func DialConn(ctx context.Context, o Options, host string, port int) (net.Conn, error) {
	if o.TLSErr != nil {
		return nil, o.TLSErr
	}
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}
	cn, err := d.DialContext(ctx, "tcp", Addr(host, port))
	if err != nil {
		return nil, &ConnectError{Reason: ConnectReason(err), Err: err}
	}
	if o.TLS == nil {
		return cn, nil
	}
	tc := tls.Client(cn, o.TLS)
	asked := false
	hctx, cancel := context.WithTimeout(context.WithValue(ctx, certAskedKey{}, &asked), timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		cn.Close()
		return nil, &ConnectError{Reason: "SSL_connect failed: " + handshakeReason(err), Err: err}
	}
	if asked {
		return &certlessConn{Conn: tc}, nil
	}
	return tc, nil
}

// certAskedKey marks the handshake context with a *bool that is set when
// the server asks for a client certificate and none is configured.
type certAskedKey struct{}

// certlessConn is a TLS connection to a server that asked for a client
// certificate and got none. With TLS 1.3 a server that requires one refuses
// it after the handshake, so the connection breaks before the first reply:
// that error is reported as the missing certificate it is.
type certlessConn struct {
	net.Conn
	replied bool
}

func (c *certlessConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.replied = true
	}
	return n, c.explain(err)
}

func (c *certlessConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	return n, c.explain(err)
}

func (c *certlessConn) explain(err error) error {
	if err != nil && !c.replied && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
		return &ConnectError{Reason: "SSL_connect failed: " + clientCertRequired, Err: err}
	}
	return err
}

// clientCertRequired is the reason of a server's refusal of a client
// without a certificate (with TLS 1.3 it comes after the handshake).
const clientCertRequired = "the server requires a client certificate (--cert and --key)"

// handshakeReason words a failed handshake as hiredis does after
// "SSL_connect failed: " (OpenSSL's reason, or the system error).
func handshakeReason(err error) string {
	var rec tls.RecordHeaderError
	switch {
	case errors.Is(err, errCertVerify):
		return "certificate verify failed"
	case strings.Contains(err.Error(), "certificate required"):
		return clientCertRequired
	case errors.As(err, &rec):
		return "wrong version number" // the server does not speak TLS
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected eof while reading" // OpenSSL 3's reason
	case errors.Is(err, syscall.ECONNRESET):
		return "Connection reset by peer"
	}
	return ConnectReason(err)
}
