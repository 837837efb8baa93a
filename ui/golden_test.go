package ui

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// Golden screens (ANSI stripped) through a real tea.Program: the fake
// engine and clock keep them stable. `go test ./ui -update` rewrites them.
func TestGoldenScreens(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, screen := range []string{"campaigns", "monitor", "help", "toosmall", "form", "import", "summary", "dnc", "call", "webhooks"} {
			if screen == "toosmall" && size[0] != 80 {
				continue // one size below the minimum is enough
			}
			t.Run(fmt.Sprintf("%s_%dx%d", screen, size[0], size[1]), func(t *testing.T) {
				f := newFakeEngine()
				m := New(f, Options{Now: func() time.Time { return fixedNow }, Refresh: -1})
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(size[0], size[1]),
					teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
				waitFor(t, tm, "March collections")
				switch screen {
				case "monitor":
					tm.Send(keyPress("enter"))
					waitFor(t, tm, "Arjun") // the last lead row: header and leads are in
				case "help":
					tm.Send(keyPress("?"))
					waitFor(t, tm, "General")
				case "form":
					tm.Send(keyPress("n"))
					waitFor(t, tm, "1/3 Campaign")
				case "import", "summary":
					tm.Send(keyPress("j")) // Demo renewals, a draft
					tm.Send(keyPress("i"))
					waitFor(t, tm, "import leads")
					tm.Type("testdata/leads.csv")
					tm.Send(keyPress("enter"))
					waitFor(t, tm, "Priya")
					if screen == "summary" {
						tm.Send(keyPress("enter"))
						waitFor(t, tm, "INVALID LINES")
					}
				case "call":
					tm.Send(keyPress("enter"))
					waitFor(t, tm, "Arjun")
					tm.Send(keyPress("enter"))
					waitFor(t, tm, "esc closes")
				case "webhooks":
					tm.Send(keyPress("enter"))
					waitFor(t, tm, "Arjun")
					tm.Send(keyPress("W"))
					waitFor(t, tm, "#21")
				case "dnc":
					tm.Send(keyPress("D"))
					waitFor(t, tm, "optout.csv")
				case "toosmall":
					tm.Send(tea.WindowSizeMsg{Width: 79, Height: 23})
					waitFor(t, tm, "too small")
				}
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
				teatest.RequireEqualOutput(t, []byte(ansi.Strip(final.render())))
			})
		}
	}
}

// waitFor polls the program's output until s appears in what was written
// since the call began. (The output buffer returns what it has at once, so
// plain reads never block.)
func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	var acc []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := io.ReadAll(tm.Output())
		if err != nil {
			t.Fatal(err)
		}
		acc = append(acc, b...)
		if bytes.Contains(acc, []byte(s)) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%q not written within 5s; output:\n%s", s, acc)
}
