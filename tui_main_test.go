package main

import (
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/storage"
)

// The database lock error must reach the plain terminal before the TUI
// takes the screen: no alternate-screen switch may precede it.
func TestTUILockedDatabaseFailsBeforeTheScreen(t *testing.T) {
	w := newWorkdir(t)
	st, err := storage.Open(w.path("dialdeck.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := w.run() // no command: the TUI
	if r.code != exitErr {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitErr, r)
	}
	if !strings.Contains(r.stderr, "in use by another dialdeck process") {
		t.Errorf("stderr does not name the lock:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "\x1b[?1049h") {
		t.Errorf("the TUI started before the lock error:\n%q", r.stdout+r.stderr)
	}
}

func TestParseGlobalsReadonly(t *testing.T) {
	for _, c := range []struct {
		args []string
		ro   bool
		rest string
		bad  bool
	}{
		{[]string{"--readonly"}, true, "", false},
		{[]string{"--config", "x.toml", "-readonly"}, true, "", false},
		{[]string{"--readonly=false", "report", "1"}, false, "report 1", false},
		{[]string{"--readonly=maybe"}, false, "", true},
		{[]string{"report", "1"}, false, "report 1", false},
	} {
		g := &globals{}
		rest, err := parseGlobals(g, c.args)
		if (err != nil) != c.bad || g.readonly != c.ro || strings.Join(rest, " ") != c.rest {
			t.Errorf("%q: readonly=%v rest=%q err=%v", c.args, g.readonly, rest, err)
		}
	}
}
