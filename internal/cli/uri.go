package cli

import (
	"errors"
	"strconv"
	"strings"
)

// uriAuth is what rcluster takes from -u: the host, port and database of
// the URI name one server, and the cluster commands name their own nodes.
type uriAuth struct {
	user, pass string
	tls        bool
}

// parseURI reads redis-cli's -u URI (parseRedisUri): "redis://" or
// "rediss://" (valkey-cli's "valkey://" and "valkeys://" too) in any case,
// then optionally "user:password@" or "password@", percent-encoded. Its
// errors are redis-cli's messages.
func parseURI(uri string) (uriAuth, error) {
	var a uriAuth
	rest, ok := cutPrefixFold(uri, "rediss://")
	if !ok {
		rest, ok = cutPrefixFold(uri, "valkeys://")
	}
	if ok {
		a.tls = true
	} else if rest, ok = cutPrefixFold(uri, "redis://"); !ok {
		if rest, ok = cutPrefixFold(uri, "valkey://"); !ok {
			return a, errors.New("Invalid URI scheme")
		}
	}
	info, server, found := strings.Cut(rest, "@")
	if !found {
		info, server = "", rest
	}
	if err := checkURIServer(server); err != nil {
		return a, err
	}
	if !found {
		return a, nil
	}
	var err error
	if user, pass, found := strings.Cut(info, ":"); found {
		if a.user, err = percentDecode(user); err != nil {
			return a, err
		}
		info = pass
	}
	a.pass, err = percentDecode(info)
	return a, err
}

// checkURIServer refuses a port or database that is not a number in
// "host[:port][/db]". redis-cli reads them with atoi ("notaport" is port 0);
// rcluster uses neither, but a mistyped URI is worth saying.
func checkURIServer(s string) error {
	s, db, hasDB := strings.Cut(s, "/")
	if hasDB && db != "" {
		if _, err := strconv.ParseUint(db, 10, 32); err != nil {
			return errors.New("Invalid URI database " + db + ": it must be a number")
		}
	}
	if strings.HasPrefix(s, "[") { // [IPv6]:port
		if _, rest, ok := strings.Cut(s, "]"); ok {
			s = "x" + rest
		}
	}
	if _, port, ok := strings.Cut(s, ":"); ok {
		if _, ok := parsePort(port); !ok {
			return errors.New("Invalid URI port " + port + ": it must be a number from 1 to 65535")
		}
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// percentDecode decodes the %XX escapes of s.
func percentDecode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("Incomplete URI encoding")
		}
		// One digit left: redis-cli reads the '@' or ':' after it.
		v, err := strconv.ParseUint(s[i+1:min(i+3, len(s))], 16, 8)
		if err != nil || i+2 == len(s) {
			return "", errors.New("Illegal character in URI encoding")
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
