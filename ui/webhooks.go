package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// webhooksScreen is a campaign's webhook outbox: the undelivered events
// (pending, failing with their last error) and the dead ones. r or enter
// replays the selected failing or dead event, R every dead one (asks), t
// sends a test event. Reads and actions run as Cmds.
type webhooksScreen struct {
	sh     *shared
	c      *engine.Campaign
	rows   []*engine.OutboxEvent
	cursor int
	offset int
	loaded bool
	err    error
	seq    int
	w, h   int
}

type webhooksLoadedMsg struct {
	seq  int
	cid  uint64
	rows []*engine.OutboxEvent
	err  error
}

// webhookDoneMsg reports a replay or a test event.
type webhookDoneMsg struct {
	cid  uint64
	what string
	err  error
}

func newWebhooksScreen(sh *shared, c *engine.Campaign) *webhooksScreen {
	return &webhooksScreen{sh: sh, c: c}
}

// openWebhooks puts the outbox of c on top.
func (s *shared) openWebhooks(c *engine.Campaign) tea.Cmd {
	if c == nil {
		s.fail("no campaign selected")
		return nil
	}
	scr := newWebhooksScreen(s, c)
	return func() tea.Msg { return openMsg{scr: scr} }
}

func (s *webhooksScreen) Init() tea.Cmd    { return s.Refresh() }
func (s *webhooksScreen) SetSize(w, h int) { s.w, s.h = w, h; s.scroll() }
func (s *webhooksScreen) Editing() bool    { return false }

func (s *webhooksScreen) Refresh() tea.Cmd {
	s.seq++
	seq, eng, cid := s.seq, s.sh.eng, s.c.ID
	return func() tea.Msg {
		rows, err := eng.Webhooks(ref(cid))
		return webhooksLoadedMsg{seq: seq, cid: cid, rows: rows, err: err}
	}
}

func (s *webhooksScreen) KeyGroups() []keyGroup {
	k := s.sh.keys
	return []keyGroup{
		{"Webhooks", []key.Binding{k.Replay, k.ReplayAll, k.TestHook, k.Back}},
		{"Navigate", []key.Binding{k.Up, k.Down, k.PgUp, k.PgDown, k.Top, k.Bottom}},
		{"General", []key.Binding{k.DNC, k.Command, k.Help, k.Quit, k.ForceQuit}},
	}
}

// detailLines is the room under the table for the selected event's
// details (its whole last error, cut in the table).
const detailLines = 4

func (s *webhooksScreen) visible() int { return max(s.h-3-detailLines, 1) }

func (s *webhooksScreen) scroll() {
	s.cursor = max(0, min(s.cursor, len(s.rows)-1))
	s.offset = scrollOffset(s.cursor, s.offset, len(s.rows), s.visible())
}

func (s *webhooksScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case webhooksLoadedMsg:
		if msg.seq != s.seq || msg.cid != s.c.ID {
			return nil
		}
		s.loaded, s.err = true, msg.err
		if msg.err == nil {
			// Keep the cursor on the same event when rows come and go.
			var at uint64
			if s.cursor < len(s.rows) {
				at = s.rows[s.cursor].Seq
			}
			s.rows = msg.rows
			for i, ev := range s.rows {
				if ev.Seq == at {
					s.cursor = i
				}
			}
		}
		s.scroll()
	case webhookDoneMsg:
		if msg.cid != s.c.ID {
			return nil
		}
		if msg.err != nil {
			s.sh.fail(msg.err.Error())
		} else {
			s.sh.info(msg.what)
		}
		return s.Refresh()
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

func (s *webhooksScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	if c, ok := moveCursor(k, msg, s.cursor, s.visible(), len(s.rows)); ok {
		s.cursor = c
		s.scroll()
		return nil
	}
	switch {
	case key.Matches(msg, k.Back):
		return func() tea.Msg { return closeMsg{} }
	case key.Matches(msg, k.Replay):
		return s.replayOne()
	case key.Matches(msg, k.ReplayAll):
		return s.replayAll()
	case key.Matches(msg, k.TestHook):
		return s.test()
	case key.Matches(msg, k.Open) && s.sh.readonly:
		// enter replays; the binding is off in a read-only session.
		s.sh.fail("read-only session (--readonly): actions are disabled")
	default:
		s.sh.fail(fmt.Sprintf("key %q does nothing here (? shows the keys)", msg.String()))
	}
	s.scroll()
	return nil
}

func (s *webhooksScreen) replayOne() tea.Cmd {
	if len(s.rows) == 0 {
		s.sh.fail("no event selected")
		return nil
	}
	ev := s.rows[s.cursor]
	if ev.State == engine.OutboxPending {
		s.sh.fail(fmt.Sprintf("event %d is pending: it goes out on its own", ev.Seq))
		return nil
	}
	seq, cid, eng := ev.Seq, s.c.ID, s.sh.eng
	s.sh.info(fmt.Sprintf("replaying event %d…", seq))
	return func() tea.Msg {
		n, err := eng.ReplayWebhooks(ref(cid), []uint64{seq})
		if err == nil && n == 0 {
			err = fmt.Errorf("event %d is no longer in the outbox (delivered meanwhile?)", seq)
		}
		return webhookDoneMsg{cid: cid, what: fmt.Sprintf("event %d queued again, due now", seq), err: err}
	}
}

func (s *webhooksScreen) replayAll() tea.Cmd {
	dead := 0
	for _, ev := range s.rows {
		if ev.State == engine.OutboxDead {
			dead++
		}
	}
	if dead == 0 {
		s.sh.fail("no dead events to replay")
		return nil
	}
	cid, name, eng := s.c.ID, s.c.Name, s.sh.eng
	s.sh.ask(fmt.Sprintf("Replay the %d dead events of %s now?", dead, strconv.Quote(name)), func() tea.Msg {
		n, err := eng.ReplayWebhooks(ref(cid), nil)
		return webhookDoneMsg{cid: cid, what: fmt.Sprintf("%d dead events queued again, due now", n), err: err}
	})
	return nil
}

func (s *webhooksScreen) test() tea.Cmd {
	cid, eng := s.c.ID, s.sh.eng
	s.sh.info("sending a test event…")
	return func() tea.Msg {
		status, excerpt, err := eng.TestWebhook(context.Background(), ref(cid))
		if err != nil {
			return webhookDoneMsg{cid: cid, err: fmt.Errorf("test event: %w", err)}
		}
		what := fmt.Sprintf("test event: HTTP %d", status)
		if excerpt = oneLine(excerpt); excerpt != "" {
			what += " · " + excerpt
		}
		if status < 200 || status > 299 {
			return webhookDoneMsg{cid: cid, err: fmt.Errorf("%s", what)}
		}
		return webhookDoneMsg{cid: cid, what: what}
	}
}

// Outbox table column widths; the last error takes what is left.
const (
	wcSeq   = 6
	wcType  = 14
	wcLead  = 7
	wcState = 7
	wcTries = 5
	wcNext  = 9
)

func (s *webhooksScreen) View() string {
	st := s.sh.st
	now := s.sh.now()
	title := st.title.Render("dialdeck") + " › " + s.c.Name + " · webhooks"
	if s.sh.readonly {
		title += "  [read-only]"
	}
	counts := ""
	if s.loaded && s.err == nil {
		n := map[engine.OutboxState]int{}
		for _, ev := range s.rows {
			n[ev.State]++
		}
		counts = fmt.Sprintf("%d pending · %d failing · %d dead  ", n[engine.OutboxPending], n[engine.OutboxFailing], n[engine.OutboxDead])
	}
	url := "no webhookUrl set on this campaign (e edits it)"
	if s.c.WebhookURL != "" {
		url = "→ " + s.c.WebhookURL
	}
	lines := []string{title, counts + st.dim.Render(url)}
	errW := max(s.w-(wcSeq+wcType+wcLead+wcState+wcTries+wcNext+6), 10)
	lines = append(lines, st.heading.Render(padLeft("SEQ", wcSeq)+" "+pad("TYPE", wcType)+" "+pad("LEAD", wcLead)+" "+
		pad("STATE", wcState)+" "+padLeft("TRIES", wcTries)+" "+pad("NEXT TRY", wcNext)+" "+pad("LAST ERROR", errW)))
	switch {
	case !s.loaded:
		lines = append(lines, st.dim.Render("loading…"))
	case s.err != nil:
		lines = append(lines, st.err.Render("cannot read the outbox: "+s.err.Error()))
	case len(s.rows) == 0:
		lines = append(lines, st.dim.Render("the outbox is empty: every event was delivered"))
	}
	end := min(s.offset+s.visible(), len(s.rows))
	for i := s.offset; i < end; i++ {
		ev := s.rows[i]
		lead := "-"
		if ev.LeadID != 0 {
			lead = fmt.Sprintf("#%d", ev.LeadID)
		}
		next := "-"
		if ev.State != engine.OutboxDead && !ev.NextTry.IsZero() {
			if d := ev.NextTry.Sub(now); d > 0 {
				next = "in " + dur(d)
			} else {
				next = "due"
			}
		}
		state := pad(string(ev.State), wcState)
		if i != s.cursor {
			// The selected row is reversed whole: its state stays a plain word.
			state = st.outbox[ev.State].Render(state)
		}
		line := padLeft(strconv.FormatUint(ev.Seq, 10), wcSeq) + " " + pad(strings.TrimPrefix(ev.Type, "campaign."), wcType) + " " +
			pad(lead, wcLead) + " " + state + " " +
			padLeft(strconv.Itoa(ev.Attempts), wcTries) + " " + pad(next, wcNext) + " " + pad(lastError(ev), errW)
		if i == s.cursor {
			line = st.selected.Render(pad(line, s.w))
		}
		lines = append(lines, line)
	}
	if len(s.rows) > 0 {
		for len(lines) < 3+s.visible() {
			lines = append(lines, "")
		}
		lines = append(lines, s.detail(s.rows[s.cursor], now)...)
	}
	return fit(lines, s.w, s.h)
}

// detail describes the selected event: id, age, last try and the whole
// last error, wrapped.
func (s *webhooksScreen) detail(ev *engine.OutboxEvent, now time.Time) []string {
	st := s.sh.st
	head := fmt.Sprintf("EVENT %d · %s · created %s ago", ev.Seq, ev.ID, dur(now.Sub(ev.CreatedAt)))
	if ev.CreatedAt.IsZero() {
		head = fmt.Sprintf("EVENT %d · %s", ev.Seq, ev.ID)
	}
	if ev.LastTryAt != nil {
		head += " · last try " + dur(now.Sub(*ev.LastTryAt)) + " ago"
	}
	lines := []string{st.heading.Render(head)}
	if ev.LastError == "" {
		return append(lines, st.dim.Render("not tried yet"))
	}
	for _, l := range strings.Split(wrapText(oneLine(ev.LastError), s.w), "\n") {
		if len(lines) >= detailLines {
			break
		}
		lines = append(lines, l)
	}
	return lines
}

// lastError drops the `Post "URL": ` prefix of a transport error (the URL
// is on the screen already) so the cause fits.
func lastError(ev *engine.OutboxEvent) string {
	e := oneLine(ev.LastError)
	if ev.URL != "" {
		e = strings.TrimPrefix(e, "Post "+strconv.Quote(ev.URL)+": ")
	}
	return e
}
