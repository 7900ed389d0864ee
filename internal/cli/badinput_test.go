package cli

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rcluster/rcluster/internal/redistest"
	"github.com/rcluster/rcluster/internal/report"
)

// Bad input for every command: the exact message (redis-cli's where it has
// one), the exit code (1 for redis-cli-style failures, 2 for command lines
// the parser refuses), and nodes left exactly as they were.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const pw = "bad-pw"
	main := redistest.Start(t, redistest.Options{Count: 6, Password: pw})
	redistest.Create(t, main, 1)
	redistest.LoadKeys(t, main, 200, "bad")
	redistest.WaitReplicated(t, main)
	spare := redistest.Start(t, redistest.Options{Count: 3, Password: pw})
	alone := redistest.Start(t, redistest.Options{Count: 1, Password: pw, Standalone: true})[0]
	all := append(append(slices.Clone(main), spare...), alone)

	var master, replica *redistest.Server
	var masterOfReplica string
	for _, s := range main {
		me, err := s.Myself()
		if err != nil {
			t.Fatal(err)
		}
		if me.HasFlag("slave") && replica == nil {
			replica, masterOfReplica = s, me.MasterID
		} else if me.HasFlag("master") && master == nil {
			master = s
		}
	}
	var other *redistest.Server // a master that is not master
	for _, s := range main {
		if me, _ := s.Myself(); me.HasFlag("master") && s != master {
			other = s
			break
		}
	}
	A := master.Addr()
	otherMe, err := other.Myself()
	if err != nil {
		t.Fatal(err)
	}
	otherSlot := otherMe.SlotNumbers()[0]
	id := func(s *redistest.Server) string { return nodeIDOf(t, s) }
	masterID, otherID, replicaID := id(master), id(other), id(replica)
	_ = masterOfReplica
	const unknownID = "0123456789abcdef0123456789abcdef01234567"
	refused := "127.0.0.1:1" // nothing listens on port 1
	G := []string{"-a", pw, "--no-auth-warning"}
	noPass := []string{}
	wrongPass := []string{"-a", "wrong", "--no-auth-warning"}

	const (
		wrongArgs  = "[ERR] Wrong number of arguments for specified --cluster sub command\n"
		refusedMsg = "Could not connect to Redis at 127.0.0.1:1: Connection refused\n"
		notKnown   = "*** The specified node (%s) is not known or not a master, please retry.\n"
		badSlots   = "*** The number of slots must be between 1 and 16384.\n"
		noAnswer   = "\n*** No answer: standard input ended. Give the answers with --slots, --to, --from and --yes.\n"
		wrongPW    = "WRONGPASS invalid username-password pair or user is disabled.\n"
		usage      = "\nRun 'rcluster --help' for usage.\n"
	)
	notEmpty := func(s *redistest.Server) string {
		return "[ERR] Node " + s.Addr() + " is not empty. Either the node already knows other nodes (check with CLUSTER NODES) or contains some key in database 0.\n"
	}
	notCluster := "[ERR] Node " + alone.Addr() + " is not configured as a cluster node.\n"
	noAuth := func(s *redistest.Server) string {
		return "[ERR] Node " + s.Addr() + " NOAUTH Authentication required.\n"
	}
	authRefused := func(s *redistest.Server) string { return "Node " + s.Addr() + " replied with error:\n" + wrongPW }
	spareArgs := func(first string) []string { return []string{"create", first, spare[1].Addr(), spare[2].Addr()} }
	// move is a reshard that would move slots, with extra flags.
	move := func(extra ...string) []string {
		return append([]string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "10", "--cluster-yes"}, extra...)
	}

	type badCase struct {
		name   string
		global []string
		args   []string // redis-cli's spelling, so that both tools take them
		stdin  string
		code   int
		// stdout must end with outTail ("": stdout must be empty); stderr
		// must be errText exactly.
		outTail, errText string
		// sameAsCLI: redis-cli prints the same bytes with the same exit code
		// (only set where redis-cli is safe to run: it changes nothing).
		sameAsCLI bool
	}
	cases := []badCase{
		// Addresses, for every command.
		{"check/no-port", G, []string{"check", "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"check/port-not-number", G, []string{"check", "127.0.0.1:70x"}, "", 1, "", report.InvalidAddress, false},
		{"check/host-port-not-number", G, []string{"check", "127.0.0.1", "abc"}, "", 1, "", report.InvalidAddress, true},
		{"check/port-too-big", G, []string{"check", "127.0.0.1:99999"}, "", 1, "", report.InvalidAddress, false},
		{"check/refused", G, []string{"check", refused}, "", 1, "", refusedMsg, true},
		{"check/unknown-host", G, []string{"check", "no-such-host.invalid:7000"}, "", 1, "", "Could not connect to Redis at no-such-host.invalid:7000: Name or service not known\n", true},
		{"check/wrong-password", wrongPass, []string{"check", A}, "", 1, authRefused(master), "", true},
		{"check/missing-password", noPass, []string{"check", A}, "", 1, noAuth(master), "", true},
		{"check/not-cluster", G, []string{"check", alone.Addr()}, "", 1, notCluster, "", true},
		{"check/no-args", G, []string{"check"}, "", 1, "", wrongArgs, true},
		{"info/no-port", G, []string{"info", "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"info/refused", G, []string{"info", refused}, "", 1, "", refusedMsg, true},
		{"info/missing-password", noPass, []string{"info", A}, "", 1, noAuth(master), "", true},
		{"info/not-cluster", G, []string{"info", alone.Addr()}, "", 1, notCluster, "", true},
		{"fix/no-port", G, []string{"fix", "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"fix/refused", G, []string{"fix", refused}, "", 1, "", refusedMsg, true},
		{"fix/wrong-password", wrongPass, []string{"fix", A}, "", 1, authRefused(master), "", true},
		{"fix/not-cluster", G, []string{"fix", alone.Addr()}, "", 1, notCluster, "", true},

		// create
		{"create/no-port", G, []string{"create", "127.0.0.1", spare[1].Addr(), spare[2].Addr()}, "", 1, "", "Invalid address format: 127.0.0.1\n", true},
		{"create/port-not-number", G, []string{"create", "127.0.0.1:70x", spare[1].Addr(), spare[2].Addr()}, "", 1, "", "Invalid address format: 127.0.0.1:70x\n", false},
		{"create/refused", G, spareArgs(refused), "", 1, "", refusedMsg, true},
		{"create/twice", G, []string{"create", spare[0].Addr(), spare[1].Addr(), spare[0].Addr(), "--cluster-yes"}, "", 1,
			"[ERR] Node " + spare[0].Addr() + " is the same node as " + spare[0].Addr() + " (ID " + id(spare[0]) + "): give every node only once.\n", "", false},
		{"create/twice-by-name", G, []string{"create", spare[0].Addr(), spare[1].Addr(), "localhost:" + strconv.Itoa(spare[0].Port), "--cluster-yes"}, "", 1,
			"[ERR] Node localhost:" + strconv.Itoa(spare[0].Port) + " is the same node as " + spare[0].Addr() + " (ID " + id(spare[0]) + "): give every node only once.\n", "", false},
		// stdout as redis-cli's (internal/e2e's TestWalkthrough compares); stderr adds the reset to run.
		{"create/in-a-cluster", G, spareArgs(A), "", 1, notEmpty(master),
			"Nodes that are not empty can be emptied with: rcluster --askpass reset " + A + " --flush --force\n", false},
		{"create/not-cluster", G, spareArgs(alone.Addr()), "", 1, notCluster, "", true},
		{"create/wrong-password", wrongPass, spareArgs(spare[0].Addr()), "", 1, authRefused(spare[0]), "", true},
		{"create/missing-password", noPass, spareArgs(spare[0].Addr()), "", 1, "[ERR] Node " + spare[0].Addr() + " NOAUTH Authentication required.\n", "", true},
		{"create/negative-replicas", G, append(spareArgs(spare[0].Addr()), "--cluster-replicas", "-1"), "", 1, "", "Invalid replica count -1: it must be 0 or more.\n", false},
		{"create/replicas-not-number", G, append(spareArgs(spare[0].Addr()), "--cluster-replicas", "x"), "", 2, "",
			"invalid argument \"x\" for \"--replicas\" flag: strconv.ParseInt: parsing \"x\": invalid syntax" + usage, false},
		{"create/too-few", G, []string{"create", spare[0].Addr(), spare[1].Addr()}, "", 1, "*** At least 3 nodes are required.\n", "", true},
		{"create/no-answer", G, spareArgs(spare[0].Addr()), "", 0, "Can I set the above configuration? (type 'yes' to accept): ", "", true},
		{"create/answer-no", G, spareArgs(spare[0].Addr()), "no\n", 0, "Can I set the above configuration? (type 'yes' to accept): ", "", true},
		{"create/answer-y", G, spareArgs(spare[0].Addr()), "y\n", 0, "Can I set the above configuration? (type 'yes' to accept): ", "", true},

		// reshard
		{"reshard/no-port", G, []string{"reshard", "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"reshard/refused", G, []string{"reshard", refused}, "", 1, "", refusedMsg, true},
		{"reshard/missing-password", noPass, []string{"reshard", A, "--cluster-yes"}, "", 1, noAuth(master), "", true},
		{"reshard/not-cluster", G, []string{"reshard", alone.Addr()}, "", 1, notCluster, "", true},
		{"reshard/unknown-to", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", unknownID, "--cluster-slots", "10", "--cluster-yes"}, "", 1,
			strings.Replace(notKnown, "%s", unknownID, 1), "", true},
		{"reshard/replica-to", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", replicaID, "--cluster-slots", "10", "--cluster-yes"}, "", 1,
			strings.Replace(notKnown, "%s", replicaID, 1), "", true},
		{"reshard/unknown-from", G, []string{"reshard", A, "--cluster-from", unknownID, "--cluster-to", otherID, "--cluster-slots", "10", "--cluster-yes"}, "", 1,
			strings.Replace(notKnown, "%s", unknownID, 1), "", true},
		{"reshard/to-itself", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", masterID, "--cluster-slots", "10", "--cluster-yes"}, "", 1,
			"*** It is not possible to use the target node as source node.\n", "*** No source nodes given, operation aborted.\n", true},
		// redis-cli asks how many slots when --cluster-slots is 0, even with
		// --cluster-yes; rcluster refuses a 0 that was given.
		{"reshard/zero-slots", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "0", "--cluster-yes"}, "", 1, "", badSlots, false},
		{"reshard/negative-slots", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "-5", "--cluster-yes"}, "", 1, "", badSlots, false},
		{"reshard/too-many-slots", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "16385", "--cluster-yes"}, "", 1, "", badSlots, false},
		{"reshard/slots-not-number", G, []string{"reshard", A, "--cluster-slots", "ten"}, "", 2, "",
			"invalid argument \"ten\" for \"--slots\" flag: strconv.ParseInt: parsing \"ten\": invalid syntax" + usage, false},
		{"reshard/no-stdin", G, []string{"reshard", A}, "", 1, "How many slots do you want to move (from 1 to 16384)? ", noAnswer, false},
		{"reshard/no-stdin-to", G, []string{"reshard", A, "--cluster-slots", "10"}, "", 1, "What is the receiving node ID? ", noAnswer, false},
		{"reshard/no-stdin-confirm", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "10"}, "", 1,
			"Do you want to proceed with the proposed reshard plan (yes/no)? ", "", true},
		{"reshard/answer-no", G, []string{"reshard", A, "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "10"}, "no\n", 1,
			"Do you want to proceed with the proposed reshard plan (yes/no)? ", "", true},

		// Settings of the moves, refused before anything is loaded.
		{"reshard/extra-arg", G, []string{"reshard", "127.0.0.1", strconv.Itoa(master.Port), "junk", "--cluster-from", masterID, "--cluster-to", otherID, "--cluster-slots", "10", "--cluster-yes"}, "", 1, "", wrongArgs, false},
		{"reshard/negative-timeout", G, move("--cluster-timeout", "-1"), "", 1, "", "Invalid --timeout -1: it must be a number of milliseconds, 1 or more.\n", false},
		{"reshard/zero-timeout", G, move("--cluster-timeout", "0"), "", 1, "", "Invalid --timeout 0: it must be a number of milliseconds, 1 or more.\n", false},
		{"reshard/negative-pipeline", G, move("--cluster-pipeline", "-5"), "", 1, "", "Invalid --pipeline -5: it must be 0 (adaptive batches) or more.\n", false},
		{"reshard/zero-batch-keys", G, move("--batch-keys", "0"), "", 1, "", "Invalid --batch-keys 0: it must be 1 or more.\n", false},
		{"reshard/zero-batch-bytes", G, move("--batch-bytes", "0"), "", 1, "", "Invalid --batch-bytes 0: it must be 1 or more.\n", false},
		{"reshard/zero-parallel", G, move("--parallel", "0"), "", 1, "", "Invalid --parallel 0: it must be 1 or more.\n", false},
		{"reshard/negative-settle", G, move("--settle-timeout", "-1s"), "", 1, "", "Invalid --settle-timeout -1s: it must be positive.\n", false},
		{"reshard/settle-not-duration", G, move("--settle-timeout", "5"), "", 2, "",
			"invalid argument \"5\" for \"--settle-timeout\" flag: time: missing unit in duration \"5\"" + usage, false},
		{"fix/negative-timeout", G, []string{"fix", A, "--cluster-timeout", "-1"}, "", 1, "", "Invalid --timeout -1: it must be a number of milliseconds, 1 or more.\n", false},
		{"fix/extra-arg", G, []string{"fix", "127.0.0.1", strconv.Itoa(master.Port), "junk"}, "", 1, "", wrongArgs, false},
		{"check/extra-arg", G, []string{"check", "127.0.0.1", strconv.Itoa(master.Port), "junk"}, "", 1, "", wrongArgs, false},
		{"info/extra-arg", G, []string{"info", "127.0.0.1", strconv.Itoa(master.Port), "junk"}, "", 1, "", wrongArgs, false},
		{"add-node/zero-settle", G, []string{"add-node", spare[0].Addr(), A, "--settle-timeout", "0s"}, "", 1, "", "Invalid --settle-timeout 0s: it must be positive.\n", false},
		{"del-node/negative-settle", G, []string{"del-node", A, masterID, "--settle-timeout", "-2s"}, "", 1, "", "Invalid --settle-timeout -2s: it must be positive.\n", false},
		{"create/negative-join-timeout", G, append(spareArgs(spare[0].Addr()), "--join-timeout", "-1m", "--cluster-yes"), "", 1, "", "Invalid --join-timeout -1m0s: it must be positive.\n", false},
		{"import/negative-timeout", G, []string{"import", A, "--cluster-from", alone.Addr(), "--cluster-timeout", "-1"}, "", 1, "", "Invalid --timeout -1: it must be a number of milliseconds, 1 or more.\n", false},
		{"import/zero-pipeline", G, []string{"import", A, "--cluster-from", alone.Addr(), "--cluster-pipeline", "0"}, "", 1, "", "Invalid --pipeline 0: it must be 1 or more.\n", false},
		{"rebalance/weight-comma", G, []string{"rebalance", A, "--cluster-weight", masterID + "=1,5"}, "", 1, "", "*** Invalid weight " + masterID + "=1,5: a weight is a number, 0 or more (0 drains the master).\n", false},
		{"rebalance/weight-text", G, []string{"rebalance", A, "--cluster-weight", masterID + "=abc"}, "", 1, "", "*** Invalid weight " + masterID + "=abc: a weight is a number, 0 or more (0 drains the master).\n", false},
		{"rebalance/weight-negative", G, []string{"rebalance", A, "--cluster-weight", masterID + "=-1"}, "", 1, "", "*** Invalid weight " + masterID + "=-1: a weight is a number, 0 or more (0 drains the master).\n", false},
		{"rebalance/weight-nan", G, []string{"rebalance", A, "--cluster-weight", masterID + "=NaN"}, "", 1, "", "*** Invalid weight " + masterID + "=NaN: a weight is a number, 0 or more (0 drains the master).\n", false},
		{"rebalance/weight-inf", G, []string{"rebalance", A, "--cluster-weight", masterID + "=+Inf"}, "", 1, "", "*** Invalid weight " + masterID + "=+Inf: a weight is a number, 0 or more (0 drains the master).\n", false},
		{"rebalance/threshold-nan", G, []string{"rebalance", A, "--cluster-threshold", "NaN"}, "", 1, "", "Invalid --threshold NaN: it must be a percentage, 0 or more.\n", false},
		{"rebalance/threshold-negative", G, []string{"rebalance", A, "--cluster-threshold", "-3"}, "", 1, "", "Invalid --threshold -3: it must be a percentage, 0 or more.\n", false},
		{"rebalance/extra-arg", G, []string{"rebalance", "127.0.0.1", strconv.Itoa(master.Port), "junk"}, "", 1, "", wrongArgs, false},
		{"rebalance/negative-pipeline", G, []string{"rebalance", A, "--cluster-pipeline", "-5"}, "", 1, "", "Invalid --pipeline -5: it must be 0 (adaptive batches) or more.\n", false},
		{"rebalance/by-unknown", G, []string{"rebalance", A, "--by", "cpu"}, "", 1, "", "Invalid --by \"cpu\": it must be slots, keys or memory.\n", false},
		{"set-timeout/over-a-day", G, []string{"set-timeout", A, "99999999999999"}, "", 1, "",
			"A node timeout of 99999999999999 ms is over a day: failures would go undetected that long. Add --force to set it anyway.\n", false},
		{"uri/port-not-number", []string{"-u", "redis://:" + pw + "@127.0.0.1:notaport"}, []string{"check", A}, "", 1, "",
			"Invalid URI port notaport: it must be a number from 1 to 65535\n", false},
		{"uri/db-not-number", []string{"-u", "redis://127.0.0.1:6379/x"}, []string{"check", A}, "", 1, "", "Invalid URI database x: it must be a number\n", false},
		{"negative-reply-timeout", append([]string{"--reply-timeout", "-1s"}, G...), []string{"check", A}, "", 2, "", "invalid --reply-timeout -1s: it must be positive (0: 10s)" + usage, false},

		// rebalance
		{"rebalance/no-port", G, []string{"rebalance", "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"rebalance/refused", G, []string{"rebalance", refused}, "", 1, "", refusedMsg, true},
		{"rebalance/wrong-password", wrongPass, []string{"rebalance", A}, "", 1, authRefused(master), "", true},
		{"rebalance/unknown-weight", G, []string{"rebalance", A, "--cluster-weight", unknownID + "=2"}, "", 1, "*** No such master node " + unknownID + "\n", "", true},
		// redis-cli takes a replica's weight, and it plays no part.
		{"rebalance/replica-weight", G, []string{"rebalance", A, "--cluster-weight", replicaID + "=2"}, "", 1,
			"*** Node " + replicaID + " (" + replica.Addr() + ") is a replica: only masters take a weight.\n", "", false},
		// Weight 0 of a replica (a drained master) is nothing to do, as in redis-cli.
		{"rebalance/replica-weight-0", G, []string{"rebalance", A, "--cluster-weight", replicaID + "=0"}, "", 0,
			"*** No rebalancing needed! All nodes are within the 2.00% threshold.\n", "", true},
		// redis-cli leaves a word without "=" out of the weights, silently.
		{"rebalance/weight-without-value", G, []string{"rebalance", A, "--cluster-weight", masterID}, "", 1, "*** invalid input " + masterID + "\n", "", false},
		{"rebalance/threshold-not-number", G, []string{"rebalance", A, "--cluster-threshold", "x"}, "", 2, "",
			"invalid argument \"x\" for \"--threshold\" flag: strconv.ParseFloat: parsing \"x\": invalid syntax" + usage, false},

		// add-node
		{"add-node/new-no-port", G, []string{"add-node", "127.0.0.1", A}, "", 1, "", report.InvalidAddress, true},
		{"add-node/existing-no-port", G, []string{"add-node", spare[0].Addr(), "127.0.0.1"}, "", 1, "", report.InvalidAddress, true},
		{"add-node/existing-refused", G, []string{"add-node", spare[0].Addr(), refused}, "", 1,
			">>> Adding node " + spare[0].Addr() + " to cluster 127.0.0.1:1\n", refusedMsg, true},
		{"add-node/new-refused", G, []string{"add-node", refused, A}, "", 1, "[ERR] Sorry, can't connect to node 127.0.0.1:1\n", refusedMsg, true},
		{"add-node/new-in-a-cluster", G, []string{"add-node", other.Addr(), A}, "", 1, notEmpty(other), "", true},
		{"add-node/new-not-cluster", G, []string{"add-node", alone.Addr(), A}, "", 1, notCluster, "", true},
		{"add-node/wrong-password", wrongPass, []string{"add-node", spare[0].Addr(), A}, "", 1, authRefused(master), "", true},
		{"add-node/unknown-master-id", G, []string{"add-node", spare[0].Addr(), A, "--cluster-slave", "--cluster-master-id", unknownID}, "", 1,
			"[ERR] No such master ID " + unknownID + "\n", "", true},
		{"add-node/replica-master-id", G, []string{"add-node", spare[0].Addr(), A, "--cluster-slave", "--cluster-master-id", replicaID}, "", 1,
			"[ERR] No such master ID " + replicaID + "\n", "", false},
		{"add-node/one-arg", G, []string{"add-node", spare[0].Addr()}, "", 1, "", wrongArgs, true},

		// del-node
		{"del-node/no-port", G, []string{"del-node", "127.0.0.1", masterID}, "", 1, "", report.InvalidAddress, true},
		{"del-node/refused", G, []string{"del-node", refused, masterID}, "", 1,
			">>> Removing node " + masterID + " from cluster 127.0.0.1:1\n", refusedMsg, true},
		{"del-node/unknown-id", G, []string{"del-node", A, unknownID}, "", 1, "[ERR] No such node ID " + unknownID + "\n", "", true},
		{"del-node/missing-password", noPass, []string{"del-node", A, unknownID}, "", 1, noAuth(master), "", true},
		{"del-node/not-empty", G, []string{"del-node", A, otherID}, "", 1,
			"[ERR] Node " + other.Addr() + " is not empty! Reshard data away and try again.\n", "", true},
		{"del-node/no-id", G, []string{"del-node", A}, "", 1, "", wrongArgs, true},

		// call
		{"call/no-port", G, []string{"call", "127.0.0.1", "PING"}, "", 1, "", report.InvalidAddress, true},
		{"call/refused", G, []string{"call", refused, "PING"}, "", 1, "", refusedMsg, true},
		{"call/not-cluster", G, []string{"call", alone.Addr(), "PING"}, "", 1, notCluster, "", true},
		{"call/no-command", G, []string{"call", A}, "", 1, "", wrongArgs, true},

		// set-timeout
		{"set-timeout/below-100", G, []string{"set-timeout", A, "99"}, "", 1, "", "Setting a node timeout of less than 100 milliseconds is a bad idea.\n", true},
		{"set-timeout/zero", G, []string{"set-timeout", A, "0"}, "", 1, "", "Setting a node timeout of less than 100 milliseconds is a bad idea.\n", true},
		{"set-timeout/not-number", G, []string{"set-timeout", A, "abc"}, "", 1, "", "Invalid node timeout abc: it must be a number of milliseconds.\n", false},
		{"set-timeout/number-and-text", G, []string{"set-timeout", A, "5000x"}, "", 1, "", "Invalid node timeout 5000x: it must be a number of milliseconds.\n", false},
		{"set-timeout/negative", G, []string{"set-timeout", A, "-5"}, "", 2, "", "unknown shorthand flag: '5' in -5" + usage, false},
		{"set-timeout/no-port", G, []string{"set-timeout", "127.0.0.1", "5000"}, "", 1, "", report.InvalidAddress, true},
		{"set-timeout/refused", G, []string{"set-timeout", refused, "5000"}, "", 1, "", refusedMsg, true},
		{"set-timeout/missing-password", noPass, []string{"set-timeout", A, "5000"}, "", 1, noAuth(master), "", true},
		{"set-timeout/one-arg", G, []string{"set-timeout", A}, "", 1, "", wrongArgs, true},

		// import
		{"import/no-from", G, []string{"import", A}, "", 1, "", "[ERR] Option '--cluster-from' is required for subcommand 'import'.\n", true},
		{"import/from-no-port", G, []string{"import", A, "--cluster-from", "127.0.0.1"}, "", 1, "",
			"[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. 120.0.0.1:7000).\n", true},
		{"import/no-port", G, []string{"import", "127.0.0.1", "--cluster-from", alone.Addr()}, "", 1, "", report.InvalidAddress, true},
		{"import/from-refused", G, []string{"import", A, "--cluster-from", refused}, "", 1, "[OK] All 16384 slots covered.\n",
			"Could not connect to Redis at 127.0.0.1:1: Connection refused.\n", true},
		{"import/from-cluster-node", G, []string{"import", A, "--cluster-from", other.Addr(), "--cluster-from-pass", pw}, "", 1,
			"[ERR] The source node should not be a cluster node.\n", "", true},
		{"import/from-wrong-password", G, []string{"import", A, "--cluster-from", alone.Addr(), "--cluster-from-pass", "wrong"}, "", 1,
			"[OK] All 16384 slots covered.\n", "AUTH failed: " + wrongPW, true},

		// backup
		{"backup/no-port", G, []string{"backup", "127.0.0.1", t.TempDir()}, "", 1, "", report.InvalidAddress, true},
		{"backup/refused", G, []string{"backup", refused, t.TempDir()}, "", 1, "", refusedMsg, true},
		{"backup/empty-dir", G, []string{"backup", A, ""}, "", 1, "", "Invalid backup directory: it must not be empty.\n", false},
		{"backup/one-arg", G, []string{"backup", A}, "", 1, "", wrongArgs, true},

		// reshard --slot-range
		{"reshard/slot-range-reversed", G, []string{"reshard", A, "--slot-range", "200-100", "--to", otherID, "--yes"}, "", 1, "",
			"*** Invalid --slot-range \"200-100\": slot range \"200-100\" starts after it ends.\n", false},
		{"reshard/slot-range-too-big", G, []string{"reshard", A, "--slot-range", "16384", "--to", otherID, "--yes"}, "", 1, "",
			"*** Invalid --slot-range \"16384\": slot 16384 is out of range (0 to 16383).\n", false},
		{"reshard/slot-range-and-slots", G, []string{"reshard", A, "--slot-range", "1", "--slots", "1", "--to", otherID, "--yes"}, "", 1, "",
			"*** --slot-range and --slots cannot be used together: --slot-range names the slots to move.\n", false},
		{"reshard/slot-range-and-from", G, []string{"reshard", A, "--slot-range", "1", "--from", masterID, "--to", otherID, "--yes"}, "", 1, "",
			"*** --slot-range and --from cannot be used together: the slots move from whichever masters own them.\n", false},
		{"reshard/slot-range-on-target", G, []string{"reshard", A, "--slot-range", strconv.Itoa(otherSlot), "--to", otherID, "--yes"}, "", 1,
			"*** Slots [" + strconv.Itoa(otherSlot) + "] are already on the target node " + other.Addr() + ": name only slots that other masters own.\n", "", false},

		// failover and evacuate
		{"failover/no-port", G, []string{"failover", "127.0.0.1"}, "", 1, "", report.InvalidAddress, false},
		{"failover/refused", G, []string{"failover", refused}, "", 1, "", refusedMsg, false},
		{"failover/missing-password", noPass, []string{"failover", replica.Addr()}, "", 1, noAuth(replica), "", false},
		{"failover/a-master", G, []string{"failover", A}, "", 1, "[ERR] Node " + A + " is a master: give the address of the replica to promote.\n", "", false},
		{"failover/force-and-takeover", G, []string{"failover", replica.Addr(), "--force", "--takeover"}, "", 1, "", "*** --force and --takeover cannot be used together.\n", false},
		{"failover/negative-max-lag", G, []string{"failover", replica.Addr(), "--max-lag", "-1"}, "", 1, "", "Invalid --max-lag -1: it must be a number of bytes, 0 or more.\n", false},
		{"failover/zero-settle", G, []string{"failover", replica.Addr(), "--settle-timeout", "0s"}, "", 1, "", "Invalid --settle-timeout 0s: it must be positive.\n", false},
		{"failover/extra-arg", G, []string{"failover", "127.0.0.1", strconv.Itoa(replica.Port), "junk"}, "", 1, "", wrongArgs, false},
		{"evacuate/bare-host", G, []string{"evacuate", "127.0.0.1"}, "", 1, "",
			"*** evacuate needs the address of a node to load the cluster through: 127.0.0.1:PORT (the host evacuated is its host), or HOST:PORT 127.0.0.1.\n", false},
		{"evacuate/refused", G, []string{"evacuate", refused}, "", 1, "", refusedMsg, false},
		{"evacuate/empty-host", G, []string{"evacuate", A, ""}, "", 1, "", "*** The host to evacuate must not be empty.\n", false},
		{"evacuate/extra-arg", G, []string{"evacuate", A, "127.0.0.1", "junk"}, "", 1, "", wrongArgs, false},
		{"evacuate/no-args", G, []string{"evacuate"}, "", 1, "", wrongArgs, false},

		// The command line itself.
		{"unknown-subcommand", G, []string{"frobnicate", A}, "", 2, "", "unknown command \"frobnicate\" for \"rcluster\"" + usage, false},
		{"unknown-flag", G, []string{"check", A, "--frobnicate"}, "", 2, "", "unknown flag: --frobnicate" + usage, false},
		{"unknown-global-flag", append([]string{"--frobnicate"}, G...), []string{"check", A}, "", 2, "", "unknown flag: --frobnicate" + usage, false},
		// redis-cli 7.0 has no -t.
		{"negative-connect-timeout", append([]string{"-t", "-1"}, G...), []string{"check", A}, "", 1, "", "Invalid connection timeout for -t.\n", false},
	}

	before := snapshot(t, all)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runRCluster(t, tc.stdin, "dumb", tc.global, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n--- stdout\n%s--- stderr\n%s", got.code, tc.code, got.stdout, got.stderr)
			}
			if tc.outTail == "" && got.stdout != "" || !strings.HasSuffix(got.stdout, tc.outTail) {
				t.Errorf("stdout does not end with %q:\n%s", tc.outTail, got.stdout)
			}
			if got.stderr != tc.errText {
				t.Errorf("stderr %q, want %q", got.stderr, tc.errText)
			}
			if after := snapshot(t, all); after != before {
				t.Fatalf("the nodes changed\n--- before\n%s\n--- after\n%s", before, after)
			}
			if tc.sameAsCLI {
				want := runRedisCLI(t, tc.stdin, "dumb", tc.global, tc.args...)
				sameAsRedisCLI(t, tc.name, got, want)
				if after := snapshot(t, all); after != before {
					t.Fatalf("redis-cli changed the nodes\n--- before\n%s\n--- after\n%s", before, after)
				}
			}
		})
	}
}

// Node IDs are taken whole or as a prefix that starts no other node's ID,
// by every command that takes one. Two of the masters here have IDs that
// start alike: their common prefix is refused, listing both, before any
// node is changed; an unknown prefix gets each command's own message.
func TestBadNodeIDs(t *testing.T) {
	t.Parallel()
	servers := redistest.Start(t, redistest.Options{Count: 4})
	spare := servers[3]
	// CLUSTER RESET HARD gives a node a new random ID: draw until the
	// second node's ID starts like the first's.
	first := nodeIDOf(t, servers[0])
	for i := 0; nodeIDOf(t, servers[1])[0] != first[0]; i++ {
		if i == 1000 {
			t.Fatal("no ID starting with", first[:1])
		}
		if _, err := servers[1].Do("CLUSTER", "RESET", "HARD"); err != nil {
			t.Fatal(err)
		}
	}
	for nodeIDOf(t, servers[2])[0] == first[0] {
		if _, err := servers[2].Do("CLUSTER", "RESET", "HARD"); err != nil {
			t.Fatal(err)
		}
	}
	masters := servers[:3]
	redistest.Create(t, masters, 0)
	redistest.WaitStable(t, masters)
	A := masters[0].Addr()
	ids := []string{nodeIDOf(t, masters[0]), nodeIDOf(t, masters[1]), nodeIDOf(t, masters[2])}
	shared := commonPrefix(ids[0], ids[1])
	third := ids[2][:len(shared)+1] // starts only the third ID
	unknown := ""
	for _, c := range "0123456789abcdef" {
		if !slices.ContainsFunc(ids, func(id string) bool { return id[0] == byte(c) }) {
			unknown = string(c) + "0"
			break
		}
	}
	pair := []string{ids[0] + " (" + masters[0].Addr() + ")", ids[1] + " (" + masters[1].Addr() + ")"}
	slices.Sort(pair)
	ambiguous := "*** The node ID prefix " + shared + " is ambiguous: it starts the IDs of " + strings.Join(pair, ", ") + ". Give more of the ID.\n"
	notKnown := func(id string) string {
		return "*** The specified node (" + id + ") is not known or not a master, please retry.\n"
	}

	cases := []struct {
		name    string
		args    []string
		code    int
		outTail string
		errText string
	}{
		{"reshard/ambiguous-to", []string{"reshard", A, "--from", third, "--to", shared, "--slots", "10", "--yes"}, 1, ambiguous, ""},
		{"reshard/ambiguous-from", []string{"reshard", A, "--from", third + "," + shared, "--to", ids[0], "--slots", "10", "--yes"}, 1, ambiguous, ""},
		{"reshard/unknown-to", []string{"reshard", A, "--from", third, "--to", unknown, "--slots", "10", "--yes"}, 1, notKnown(unknown), ""},
		{"reshard/unknown-from", []string{"reshard", A, "--from", unknown, "--to", third, "--slots", "10", "--yes"}, 1, notKnown(unknown), ""},
		{"reshard/ambiguous-answer", []string{"reshard", A, "--slots", "10"}, 1, ambiguous, ""},
		{"reshard/prefixes", []string{"reshard", A, "--from", third, "--to", ids[0][:len(shared)+1], "--slots", "10", "--dry-run"}, 0,
			"    Moving slot 10931 from " + ids[2] + "\n", "Dry run: nothing was changed.\n"},
		{"del-node/ambiguous", []string{"del-node", A, shared}, 1, ambiguous, ""},
		{"del-node/unknown", []string{"del-node", A, unknown}, 1, "[ERR] No such node ID " + unknown + "\n", ""},
		{"del-node/prefix", []string{"del-node", A, third}, 1, "[ERR] Node " + masters[2].Addr() + " is not empty! Reshard data away and try again.\n", ""},
		{"add-node/ambiguous-master-id", []string{"add-node", spare.Addr(), A, "--replica", "--master-id", shared}, 1, ambiguous, ""},
		{"add-node/unknown-master-id", []string{"add-node", spare.Addr(), A, "--replica", "--master-id", unknown}, 1, "[ERR] No such master ID " + unknown + "\n", ""},
		{"add-node/master-id-prefix", []string{"add-node", spare.Addr(), A, "--replica", "--master-id", third, "--dry-run"}, 0,
			"", "Dry run: nothing was changed.\n"},
		{"rebalance/ambiguous-weight", []string{"rebalance", A, "--weight", shared + "=2"}, 1, ambiguous, ""},
		{"rebalance/unknown-weight", []string{"rebalance", A, "--weight", unknown + "=2"}, 1, "*** No such master node " + unknown + "\n", ""},
		{"rebalance/weight-prefix", []string{"rebalance", A, "--weight", third + "=0", "--dry-run"}, 0,
			"Moving 2731 slots from " + masters[2].Addr() + " to " + masters[0].Addr() + "\n", "Dry run: nothing was changed.\n"},
	}
	all := servers
	before := snapshot(t, all)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.name == "reshard/ambiguous-answer" {
				stdin = shared + "\n"
			}
			got := runRCluster(t, stdin, "dumb", nil, tc.args...)
			if got.code != tc.code {
				t.Errorf("exit %d, want %d\n--- stdout\n%s--- stderr\n%s", got.code, tc.code, got.stdout, got.stderr)
			}
			if !strings.Contains(got.stdout, tc.outTail) {
				t.Errorf("stdout lacks %q:\n%s", tc.outTail, got.stdout)
			}
			if got.stderr != tc.errText {
				t.Errorf("stderr %q, want %q", got.stderr, tc.errText)
			}
			if after := snapshot(t, all); after != before {
				t.Fatalf("the nodes changed\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}
}

// commonPrefix returns the longest prefix a and b share.
func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}
