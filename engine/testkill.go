package engine

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// KillAtEnv is a test hook, not a feature: when this environment variable
// is "<point>:<n>", the engine SIGKILLs its own process the n-th time (in
// this process) it reaches point, so a crash test can land a kill exactly
// where random kills rarely do:
//
//   - precommit: a claim transaction that claimed leads is about to
//     commit; if any of those leads already has a live call (placing before
//     the claim commits: a bug), the kill waits (up to 2 s) until those calls
//     are out at the carrier, so the bug shows as a (lead, attempt) placed
//     twice after the restart rather than depending on a race;
//   - claim: a claim transaction that claimed leads has committed, and
//     none of its calls is launched yet;
//   - placed: a call is out at the carrier (the placer's first progress
//     past "dialing", e.g. the sim carrier's "ringing", reported after it
//     logged the placement).
//
// Unset (always, outside tests) it costs a nil check.
const KillAtEnv = "DIALDECK_TEST_KILL_AT"

type killHook struct {
	point string
	n     int64
	count atomic.Int64
}

// loadKillHook reads KillAtEnv; nil when unset or malformed (said on stderr:
// a test that sets it wrongly must not pass for the wrong reason quietly).
func loadKillHook() *killHook {
	v := os.Getenv(KillAtEnv)
	if v == "" {
		return nil
	}
	point, num, _ := strings.Cut(v, ":")
	n, err := strconv.ParseInt(num, 10, 64)
	if (point != "precommit" && point != "claim" && point != "placed") || err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s=%q: want precommit:<n>, claim:<n> or placed:<n>; ignored\n", KillAtEnv, v)
		return nil
	}
	return &killHook{point: point, n: n}
}

// at kills the process on the n-th arrival at point (after ready returns
// true or 2 s pass, if ready is not nil); it never returns then.
func (k *killHook) at(point string, ready func() bool) {
	if k == nil || k.point != point || k.count.Add(1) != k.n {
		return
	}
	for end := time.Now().Add(2 * time.Second); ready != nil && !ready() && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill() // SIGKILL on Unix
	}
	select {} // the signal is on its way: do nothing more here
}

// callsOut reports whether every claimed lead that already has a live call
// has it out at the carrier (for the precommit kill point).
func (e *Engine) callsOut(cid uint64, claimed []*Lead) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range claimed {
		if ac := e.active[callKey{cid, l.ID}]; ac != nil && !ac.out {
			return false
		}
	}
	return true
}
