package report

// CallText writes call's lines (clusterManagerCommandCall): the command,
// then a line per node with its reply.
type CallText struct{ P *Printer }

func (t CallText) Calling(args []string) {
	t.P.Info(">>> Calling")
	for _, a := range args {
		t.P.Plain(" %s", a)
	}
	t.P.Plain("\n")
}

// Reply is a node's reply (or error reply) in redis-cli's raw format, as
// printf("%s") shows it: up to its first NUL.
func (t CallText) Reply(addr, text string) { t.P.Plain("%s: %s\n", addr, cString(text)) }

// Failed: the node gave no reply at all.
func (t CallText) Failed(addr string) { t.P.Plain("%s: Failed!\n", addr) }
