package node

import (
	"bufio"
	"net"
	"strings"
	"time"
)

// PingConn sends a raw PING over c and reports whether a server answered
// it: +PONG, or -NOAUTH from one that wants a password. It needs no client
// configuration, which makes it the way to tell that a redis-server just
// started is up.
func PingConn(c net.Conn) bool {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")
}
