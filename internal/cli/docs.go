package cli

import (
	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/iostreams"
)

// NewRootForDocs returns rcluster's command tree for the documentation
// generator (go run ./internal/gendocs): the same commands and flags as a
// run, with the completion command added as a run adds it, and without the
// "Auto generated ... on DATE" line so that the output is reproducible.
func NewRootForDocs() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	root := newRootCmd(&factory{IO: ios, Getenv: func(string) string { return "" }})
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	return root
}
