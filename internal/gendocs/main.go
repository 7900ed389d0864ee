// Command gendocs writes rcluster's command reference from its command tree:
// Markdown pages in docs/commands and man pages in docs/man.
//
//	go run ./internal/gendocs            # from the repository root
//	go run ./internal/gendocs -out DIR   # DIR/commands and DIR/man
//
// The output depends only on the command tree (the man pages carry a fixed
// date), so internal/cli's docs test can regenerate it and compare.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/rcluster/rcluster/internal/cli"
)

// manDate is the date in the man pages' header: fixed, so that regenerating
// changes nothing unless the commands changed.
var manDate = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", "docs", "directory that receives commands/ and man/")
	flag.Parse()
	if err := generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func generate(out string) error {
	mdDir, manDir := filepath.Join(out, "commands"), filepath.Join(out, "man")
	// Start from empty directories so that a removed command loses its page.
	for _, dir := range []string{mdDir, manDir} {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(cli.NewRootForDocs(), mdDir); err != nil {
		return err
	}
	// Each page's title is its command path (RCLUSTER-LOCAL-UP).
	header := &doc.GenManHeader{
		Section: "1",
		Date:    &manDate,
		Source:  "rcluster",
		Manual:  "rcluster manual",
	}
	return doc.GenManTree(cli.NewRootForDocs(), header, manDir)
}
