package report

import "testing"

func TestDialectOfServer(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		want       Dialect
	}{
		{"valkey 8", "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n", Valkey},
		{"redis 7 (no server_name)", "# Server\r\nredis_version:7.2.3\r\nredis_git_sha1:00000000\r\n", Redis},
		{"redis 8", "# Server\r\nredis_version:8.0.0\r\nserver_name:redis\r\n", Redis},
		{"no INFO", "", Redis},
		{"a value that only starts like valkey", "server_name:valkeyish\r\n", Redis},
	} {
		if got := DialectOfServer(tc.info); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Dialect
		auto bool
		bad  bool
	}{
		{"auto", Redis, true, false},
		{"", Redis, true, false},
		{"redis", Redis, false, false},
		{"VALKEY", Valkey, false, false},
		{"keydb", Redis, false, true},
	} {
		d, auto, err := ParseDialect(tc.in)
		if (err != nil) != tc.bad || d != tc.want || auto != tc.auto {
			t.Errorf("ParseDialect(%q) = %v, %v, %v", tc.in, d, auto, err)
		}
	}
}

// The entry node decides once; a forced dialect stays.
func TestFollowServer(t *testing.T) {
	valkey, redis := "server_name:valkey\r\n", "redis_version:7.0.15\r\n"
	p := &Printer{AutoDialect: true}
	p.FollowServer(valkey)
	p.FollowServer(redis)
	if p.Dialect != Valkey || p.Words().KeysInPrimaries != "[OK] %d keys in %d primaries.\n" {
		t.Errorf("auto after a Valkey entry node then a Redis node: %v", p.Dialect)
	}
	forced := &Printer{Dialect: Redis}
	forced.FollowServer(valkey)
	if forced.Dialect != Redis {
		t.Errorf("a forced redis dialect followed a Valkey node")
	}
}
