// Command rcluster administers Redis Cluster the way redis-cli --cluster
// does. See internal/cli for the commands.
package main

import (
	"os"

	"github.com/rcluster/rcluster/internal/cli"
	"github.com/rcluster/rcluster/internal/iostreams"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System(), os.Getenv))
}
