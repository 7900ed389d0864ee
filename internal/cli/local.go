package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rcluster/rcluster/internal/local"
	"github.com/rcluster/rcluster/internal/manager"
)

// Defaults of `rcluster local up`: where it keeps its nodes, how many, on
// which address and ports.
const (
	defaultLocalDir   = ".rcluster-local"
	defaultLocalNodes = 6
	defaultLocalPort  = 7000
	defaultLocalHost  = "127.0.0.1"
)

type localOptions struct {
	dir      string
	nodes    int
	replicas int
	port     int
	host     string
	keepData bool
}

func newLocalCmd(f *factory) *cobra.Command {
	o := &localOptions{}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Run a throwaway cluster of redis-server processes on this machine",
		Long: `Start, inspect and stop a Redis Cluster made of redis-server processes on
this machine, for trying rcluster, for development and for tests.

"local up" starts the nodes in DIR (one directory per port, with its
redis.conf, nodes.conf, dump.rdb, pid file and log) and creates the cluster
on them exactly as "rcluster create --yes" does. DIR/local.json records what
was started; "local down" stops exactly those processes and "local status"
shows them and checks the cluster. "local down" keeps the nodes' data: "local
up" starts a fresh cluster, "local up --keep-data" the stopped one again.`,
		Example: `  rcluster local up
  rcluster local up --nodes 9 --replicas 2 --port 40001 --dir /tmp/c1
  rcluster local status
  rcluster local down
  rcluster local up --keep-data`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &usageError{fmt.Sprintf("unknown command %q for \"rcluster local\"", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&o.dir, "dir", defaultLocalDir, "directory of the nodes and of the state file local.json")
	cmd.AddCommand(newLocalUpCmd(f, o), newLocalDownCmd(f, o), newLocalStatusCmd(f, o))
	return cmd
}

func newLocalUpCmd(f *factory, o *localOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start local redis-server nodes and create a cluster on them",
		Long: `Start N cluster-enabled redis-server processes listening on IP, ports BASE to
BASE+N-1 (cluster bus ports 10000 higher), each in DIR/PORT, then create a
cluster with R replicas per master on them as "rcluster create --yes" does,
and print how to reach it. The nodes start empty: the nodes.conf and data
files an earlier run left in DIR/PORT are removed.

With --keep-data the nodes start from them instead: the cluster "local down"
stopped comes back with its keys (give the --port, --nodes and --host it
had; "local down" prints the command). A DIR with no such data gets a fresh
cluster.

Nothing is started when redis-server is missing, when a port or bus port is
in use, or when DIR already has a running local cluster. With -a/--pass (or
REDISCLI_AUTH) every node requires that password.

EXIT STATUS
  0  the cluster is up
  1  nothing could be started, or the cluster could not be created (the
     nodes then keep running: "rcluster local down" stops them)`,
		Example: `  rcluster local up
  rcluster local up --nodes 3 --replicas 0 --port 40001 --dir /tmp/c1
  rcluster local up --keep-data`,
		Args: localNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLocalUp(cmd.Context(), f, o) },
	}
	cmd.Flags().IntVar(&o.nodes, "nodes", defaultLocalNodes, "number of redis-server nodes")
	cmd.Flags().IntVar(&o.replicas, "replicas", 1, "replicas per master")
	cmd.Flags().IntVar(&o.port, "port", defaultLocalPort, "port of the first node; node i listens on BASE+i")
	cmd.Flags().StringVar(&o.host, "host", defaultLocalHost, "IP address the nodes listen on")
	cmd.Flags().BoolVar(&o.keepData, "keep-data", false, "start the nodes with the cluster config and keys of the last run instead of empty")
	return cmd
}

func newLocalDownCmd(f *factory, o *localOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop the nodes started by local up",
		Long: `Stop the redis-server processes recorded in DIR/local.json, after checking
that each pid is still a redis-server of that node (its working directory or
its command line), and remove DIR/local.json. A process that is not the
recorded node's is left alone. "Stopped" is printed once the process has
exited (SIGTERM, then SIGKILL after 10 seconds).

Node directories, configs, logs and data (nodes.conf, dump.rdb) are left in
place: "local down" prints the command that starts the same cluster again
with its keys and the one that wipes the data. A plain "local up" starts a
fresh, empty cluster.

EXIT STATUS
  0  every recorded node is stopped (or there was no local cluster)
  1  a node could not be stopped`,
		Args: localNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLocalDown(f, o) },
	}
}

func newLocalStatusCmd(f *factory, o *localOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the local nodes and check the cluster",
		Long: `Print each node recorded in DIR/local.json and whether it runs, then check
the cluster through the first running node as "rcluster check" does.

EXIT STATUS
  0  every node runs and the cluster is healthy
  1  no local cluster, a node is not running, or the check found a problem`,
		Args: localNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLocalStatus(cmd.Context(), f, o) },
	}
}

// localNoArgs refuses arguments as a usage error (exit 2).
func localNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Sprintf("%q takes no arguments, got %q", cmd.CommandPath(), args[0])}
	}
	return nil
}

func (o *localOptions) absDir() (string, error) {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return "", fmt.Errorf("--dir %s: %w", o.dir, err)
	}
	return dir, nil
}

// dirFlag returns " --dir DIR" for the commands printed as hints, or "" for
// the default directory.
func (o *localOptions) dirFlag() string {
	if o.dir == defaultLocalDir {
		return ""
	}
	return " --dir " + shellArg(o.dir)
}

// upFlags returns the flags of `local up` that start nodes of host on ports
// base to base+n-1 in o's directory, leaving out the defaults.
func (o *localOptions) upFlags(host string, base, n int) string {
	flags := o.dirFlag()
	if base != defaultLocalPort {
		flags += " --port " + strconv.Itoa(base)
	}
	if n != defaultLocalNodes {
		flags += " --nodes " + strconv.Itoa(n)
	}
	if host != defaultLocalHost {
		flags += " --host " + host
	}
	return flags
}

// shellArg writes a path for a command line printed as a hint: quoted when
// a shell would split or expand it.
func shellArg(s string) string {
	if s == "" || strings.ContainsAny(s, " \t'\"$\\*?;&|<>()`~{}[]#") {
		return strconv.Quote(s)
	}
	return s
}

// localFail prints a message on stderr and returns exit status 1.
func (f *factory) localFail(format string, a ...any) error {
	fmt.Fprintf(f.IO.ErrOut, format, a...)
	return &exitError{ExitFailure}
}

func runLocalUp(ctx context.Context, f *factory, o *localOptions) error {
	if err := local.Supported(); err != nil {
		return f.localFail("%v\n", err)
	}
	switch {
	case o.nodes < 1:
		return f.localFail("Invalid node count %d: it must be 1 or more.\n", o.nodes)
	case o.replicas < 0:
		return f.localFail("Invalid replica count %d: it must be 0 or more.\n", o.replicas)
	case o.nodes < 3*(o.replicas+1):
		return f.localFail("%d nodes are too few for %d replicas per master: a cluster needs at least 3 masters, so at least %d nodes.\n",
			o.nodes, o.replicas, 3*(o.replicas+1))
	case o.port < 1 || o.port+o.nodes-1+local.BusPortOffset > 65535:
		return f.localFail("Invalid base port %d: ports %d to %d and their cluster bus ports (10000 higher) must be at most 65535.\n",
			o.port, o.port, o.port+o.nodes-1)
	case net.ParseIP(o.host) == nil:
		return f.localFail("Invalid --host %q: give an IP address, such as 127.0.0.1.\n", o.host)
	}
	server, err := local.FindServer()
	if err != nil {
		return f.localFail("redis-server was not found in PATH: rcluster local up starts redis-server processes.\n" +
			"On Debian or Ubuntu, install the redis-server package: sudo apt-get install redis-server\n")
	}
	dir, err := o.absDir()
	if err != nil {
		return err
	}
	if st, err := local.LoadState(dir); err == nil {
		for _, n := range st.Nodes {
			if local.Check(n) == local.Ours {
				other := &localOptions{dir: o.dir + "-2"}
				return f.localFail("A local cluster is already running in %s (%s is up).\n"+
					"See it with: rcluster local status%s\nStop it with: rcluster local down%s\n"+
					"Or start another one beside it, in another directory and on other ports: rcluster local up%s --port %d\n",
					dir, n.Addr(), o.dirFlag(), o.dirFlag(), other.dirFlag(), st.Nodes[len(st.Nodes)-1].Port+1)
			}
		}
	}
	ports := make([]int, o.nodes)
	for i := range ports {
		ports[i] = o.port + i
	}
	keep := false
	if o.keepData {
		if keep, err = f.keptData(dir, ports); err != nil {
			return err
		}
	}

	if busy := local.BusyPorts(o.host, ports); len(busy) > 0 {
		var list []string
		for _, b := range busy {
			if b.Bus {
				list = append(list, fmt.Sprintf("%d (cluster bus port of %d)", b.Port, b.Port-local.BusPortOffset))
			} else {
				list = append(list, strconv.Itoa(b.Port))
			}
		}
		return f.localFail("Nothing was started: these ports of %s are already in use: %s.\n"+
			"Choose another base port with --port, or stop what listens there.\n", o.host, strings.Join(list, ", "))
	}

	last := ports[len(ports)-1]
	fmt.Fprintf(f.IO.Out, "Starting %d redis-server nodes on %s ports %d-%d in %s\n", o.nodes, o.host, o.port, last, dir)
	st, err := local.StartAll(ctx, local.UpOptions{Server: server, Dir: dir, Host: o.host, Ports: ports, Password: f.global.pass, KeepData: keep})
	if errors.Is(err, local.ErrRunning) {
		return f.localFail("A local cluster is already running in %s.\n", dir)
	}
	if err != nil {
		return f.localFail("Could not start the nodes (the ones started were stopped): %v\n", err)
	}

	addrs := make([]manager.Address, len(st.Nodes))
	for i, n := range st.Nodes {
		addrs[i] = manager.Address{Host: n.Host, Port: n.Port}
	}
	first := st.Nodes[0]
	m := f.manager(manager.Options{})
	defer m.Close()
	if keep {
		// The nodes know each other from their nodes.conf: the cluster is
		// up once they have found each other again.
		err := m.Load(ctx, first.Host, first.Port)
		if err == nil {
			err = m.WaitSettled(ctx, time.Now().Add(time.Minute))
		}
		if err != nil {
			fmt.Fprintf(f.IO.ErrOut, "The cluster kept in %s did not come back; the nodes keep running. Stop them with: rcluster local down%s\n"+
				"Then start a fresh cluster with: rcluster local up%s\n", dir, o.dirFlag(), o.upFlags(o.host, o.port, o.nodes))
			return err
		}
		// What came back, as "rcluster check" shows it (keys included).
		if err := runCheck(ctx, f, &checkOptions{addr: manager.Address{Host: first.Host, Port: first.Port}}); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.Out, "\nThe local cluster kept in %s is up again on %s ports %d-%d: %d nodes.\n",
			dir, o.host, o.port, last, len(st.Nodes))
	} else {
		if err := m.Create(ctx, addrs, manager.CreateOptions{Replicas: o.replicas, JoinTimeout: 2 * time.Minute}); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "The cluster was not created; the nodes keep running. Stop them with: rcluster local down%s\n", o.dirFlag())
			return err
		}
		fmt.Fprintf(f.IO.Out, "\nThe local cluster is up on %s ports %d-%d: %d nodes, %d replica(s) per master.\n",
			o.host, o.port, last, len(st.Nodes), o.replicas)
	}

	cliHost := ""
	if o.host != "127.0.0.1" {
		cliHost = " -h " + o.host
	}
	fmt.Fprintf(f.IO.Out, "  rcluster check %s\n", first.Addr())
	fmt.Fprintf(f.IO.Out, "  redis-cli -c%s -p %d\n", cliHost, first.Port)
	fmt.Fprintf(f.IO.Out, "  rcluster local status%s\n", o.dirFlag())
	fmt.Fprintf(f.IO.Out, "  rcluster local down%s\n", o.dirFlag())
	return nil
}

// keptData reports whether every node directory of ports in dir holds the
// data of an earlier cluster (then --keep-data restarts it). With none it
// says a fresh cluster starts; with only some it fails, as they cannot be
// the cluster that was stopped.
func (f *factory) keptData(dir string, ports []int) (bool, error) {
	var with, without []string
	for _, p := range ports {
		if local.HasClusterConfig(filepath.Join(dir, strconv.Itoa(p))) {
			with = append(with, strconv.Itoa(p))
		} else {
			without = append(without, strconv.Itoa(p))
		}
	}
	switch {
	case len(with) == 0:
		fmt.Fprintf(f.IO.Out, "No data of an earlier cluster on ports %d-%d in %s: starting a fresh cluster.\n", ports[0], ports[len(ports)-1], dir)
		return false, nil
	case len(without) > 0:
		return false, f.localFail("Nothing was started: in %s, the nodes of ports %s have the data of an earlier cluster but those of ports %s do not.\n"+
			"Give the --port and --nodes of the stopped cluster (\"rcluster local down\" printed them), or start a fresh cluster without --keep-data (it wipes the data).\n",
			dir, strings.Join(with, ", "), strings.Join(without, ", "))
	}
	return true, nil
}

// loadLocalState reads DIR/local.json; missing is reported on stderr with
// status 1 when required, and as a nil state otherwise.
func (f *factory) loadLocalState(o *localOptions, required bool) (*local.State, error) {
	dir, err := o.absDir()
	if err != nil {
		return nil, err
	}
	st, err := local.LoadState(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if required {
			return nil, f.localFail("No local cluster in %s (no %s). Start one with: rcluster local up%s\n", dir, local.StateFileName, o.dirFlag())
		}
		fmt.Fprintf(f.IO.Out, "No local cluster in %s: nothing to stop.\n", dir)
		return nil, nil
	}
	if err != nil {
		return nil, f.localFail("%v\n", err)
	}
	return st, nil
}

func runLocalDown(f *factory, o *localOptions) error {
	st, err := f.loadLocalState(o, false)
	if st == nil || err != nil {
		return err
	}
	failed := false
	for _, n := range st.Nodes {
		res, err := local.Stop(n, 10*time.Second)
		switch {
		case err != nil:
			failed = true
			fmt.Fprintf(f.IO.ErrOut, "%v\n", err)
		case res == local.Stopped:
			fmt.Fprintf(f.IO.Out, "Stopped %s (pid %d).\n", n.Addr(), n.Pid)
		case res == local.NotRunning:
			fmt.Fprintf(f.IO.Out, "%s (pid %d) was not running.\n", n.Addr(), n.Pid)
		case res == local.LeftAlone:
			fmt.Fprintf(f.IO.Out, "%s: pid %d is no longer its redis-server; left alone.\n", n.Addr(), n.Pid)
		}
	}
	if failed {
		return f.localFail("Some nodes could not be stopped; %s is kept.\n", local.StatePath(st.Dir))
	}
	if err := local.RemoveState(st.Dir); err != nil {
		return f.localFail("%v\n", err)
	}
	fmt.Fprintf(f.IO.Out, "The local cluster in %s is down.\n", st.Dir)
	f.printKeptData(o, st)
	return nil
}

// printKeptData tells where the stopped nodes' data is, how to start the
// same cluster again and how to wipe it.
func (f *factory) printKeptData(o *localOptions, st *local.State) {
	if len(st.Nodes) == 0 {
		return
	}
	first := st.Nodes[0]
	// rm -rf DIR only when DIR holds nothing but the nodes' directories.
	var nodeDirs []string
	for _, n := range st.Nodes {
		nodeDirs = append(nodeDirs, shellArg(n.Dir))
	}
	wipe := nodeDirs
	if entries, err := os.ReadDir(st.Dir); err == nil && !slices.ContainsFunc(entries, func(e os.DirEntry) bool {
		return !slices.Contains(nodeDirs, shellArg(filepath.Join(st.Dir, e.Name())))
	}) {
		wipe = []string{shellArg(st.Dir)}
	}
	fmt.Fprintf(f.IO.Out, "The nodes' data (nodes.conf, dump.rdb) is kept in %s.\n", st.Dir)
	fmt.Fprintf(f.IO.Out, "  Start this cluster again, with its keys: rcluster local up --keep-data%s\n", o.upFlags(first.Host, first.Port, len(st.Nodes)))
	fmt.Fprintf(f.IO.Out, "  Start a fresh, empty one (wipes the data): rcluster local up%s\n", o.upFlags(first.Host, first.Port, len(st.Nodes)))
	fmt.Fprintf(f.IO.Out, "  Wipe it now: rm -rf %s\n", strings.Join(wipe, " "))
}

func runLocalStatus(ctx context.Context, f *factory, o *localOptions) error {
	st, err := f.loadLocalState(o, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "Local cluster in %s, started %s:\n", st.Dir, st.Started.Format(time.RFC3339))
	var up *local.Node
	down := 0
	for i, n := range st.Nodes {
		state := local.Check(n)
		fmt.Fprintf(f.IO.Out, "  %-21s pid %-8d %s\n", n.Addr(), n.Pid, state)
		if state == local.Ours && up == nil {
			up = &st.Nodes[i]
		} else if state != local.Ours {
			down++
		}
	}
	if up == nil {
		return f.localFail("No node is running. Start the cluster again with: rcluster local up%s\n", o.dirFlag())
	}
	fmt.Fprintln(f.IO.Out)
	checkErr := runCheck(ctx, f, &checkOptions{addr: manager.Address{Host: up.Host, Port: up.Port}})
	if checkErr != nil {
		return checkErr
	}
	if down > 0 {
		return f.localFail("%d of %d nodes are not running.\n", down, len(st.Nodes))
	}
	return nil
}
