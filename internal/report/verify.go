package report

import (
	"fmt"
	"strings"
	"time"
)

// VerifyDoc is printed by verify with -o json.
type VerifyDoc struct {
	Command string            `json:"command"` // "verify"
	OK      bool              `json:"ok"`
	Entry   string            `json:"entry"`
	Prefix  string            `json:"prefix"`
	Masters []VerifyMasterDoc `json:"masters"`
	// KeysLeft are the test keys that could not be deleted (they expire).
	KeysLeft []string `json:"keys_left"`
}

// VerifyMasterDoc is how one master took its test keys.
type VerifyMasterDoc struct {
	Address string     `json:"address"`
	ID      string     `json:"id"`
	Slots   []RangeDoc `json:"slots"`
	Keys    []string   `json:"keys"`
	// Reached: the keys written through the cluster client were found on
	// this master.
	Reached bool `json:"reached"`
	// WriteMS, ReadMS: mean time of one SET, one GET, redirects included.
	WriteMS  float64            `json:"write_ms"`
	ReadMS   float64            `json:"read_ms"`
	Error    string             `json:"error,omitempty"`
	Replicas []VerifyReplicaDoc `json:"replicas"`
}

// VerifyReplicaDoc is how one replica caught up with its master.
type VerifyReplicaDoc struct {
	Address  string `json:"address"`
	ID       string `json:"id"`
	CaughtUp bool   `json:"caught_up"`
	// AfterMS: how long after its master's writes it served them all.
	AfterMS float64 `json:"after_ms,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// Millis is d in milliseconds, for the documents.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Redirected is redis-cli -c's line for a redirect it follows.
func (p *Printer) Redirected(slot int, addr string) {
	p.Plain("-> Redirected to slot [%d] located at %s\n", slot, addr)
}

// NothingToVerify: no master owns slots.
func (p *Printer) NothingToVerify() {
	p.Err("[ERR] No master owns slots: there is nothing to verify.\n")
}

// VerifyStart announces the run.
func (p *Printer) VerifyStart(entry string, masters, keys int, prefix string) {
	p.Info(">>> Verifying the cluster through %s: %d test %s on each of %d %s (prefix %s)\n",
		entry, keys, plural(keys, "key", "keys"), masters, plural(masters, "master", "masters"), prefix)
}

// VerifyMaster reports one master, then its replicas that lag.
func (p *Printer) VerifyMaster(d VerifyMasterDoc, replicaTimeout time.Duration) {
	name := fmt.Sprintf("%s (%s...)", d.Address, shortID(d.ID))
	switch {
	case d.Error != "":
		p.Err("[ERR] %s -> could not take a write and read it back: %s\n", name, d.Error)
		return
	case !d.Reached:
		p.Err("[ERR] %s -> the keys written to its slots are not on it: the cluster sent them elsewhere\n", name)
		return
	}
	caught := 0
	var slowest float64
	for _, r := range d.Replicas {
		if r.CaughtUp {
			caught++
			slowest = max(slowest, r.AfterMS)
		}
	}
	replicas := "no replicas"
	if len(d.Replicas) > 0 {
		replicas = fmt.Sprintf("%d/%d replicas caught up", caught, len(d.Replicas))
		if caught > 0 {
			replicas += fmt.Sprintf(" in %.2f ms", slowest)
		}
	}
	line := fmt.Sprintf("%s -> %d %s | write %.2f ms | read %.2f ms | %s\n",
		name, len(d.Keys), plural(len(d.Keys), "key", "keys"), d.WriteMS, d.ReadMS, replicas)
	if caught < len(d.Replicas) {
		p.Warn("[WARNING] %s", line)
	} else {
		p.Success("[OK] %s", line)
	}
	for _, r := range d.Replicas {
		if r.CaughtUp {
			continue
		}
		why := "did not serve the keys within " + replicaTimeout.String()
		if r.Error != "" {
			why = "cannot be read (READONLY, GET): " + r.Error
		}
		p.Warn("[WARNING] Replica %s (%s...) of %s %s\n", r.Address, shortID(r.ID), d.Address, why)
	}
}

// VerifyDone ends the run: the keys left, if any, and the verdict.
func (p *Printer) VerifyDone(d VerifyDoc) {
	p.VerifyKeysLeft(d.KeysLeft)
	failed, replicas, caught := 0, 0, 0
	for _, m := range d.Masters {
		if m.Error != "" || !m.Reached {
			failed++
		}
		for _, r := range m.Replicas {
			replicas++
			if r.CaughtUp {
				caught++
			}
		}
	}
	switch {
	case failed > 0:
		p.Err("[ERR] %d of %d masters could not take a write.\n", failed, len(d.Masters))
	case len(d.KeysLeft) == 0:
		p.Success("[OK] All %d masters took writes and served reads, %d/%d replicas caught up, no test key left.\n",
			len(d.Masters), caught, replicas)
	}
}

// VerifyKeysLeft names the test keys that could not be deleted, if any.
func (p *Printer) VerifyKeysLeft(keys []string) {
	if len(keys) > 0 {
		p.Err("[ERR] %d test %s could not be deleted (%s within 5 minutes): %s\n",
			len(keys), plural(len(keys), "key", "keys"), plural(len(keys), "it expires", "they expire"), strings.Join(keys, " "))
	}
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
