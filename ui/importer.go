package ui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/dialdeck/dialdeck/engine"
)

// importScreen is the lead import (i on a draft campaign): a file path
// with tab completion, the default region, a preview of the first rows
// with the phone column and variables, then the import itself in the
// background with a progress bar, then its summary.
type importScreen struct {
	sh    *shared
	c     *engine.Campaign
	path  lineInput
	reg   lineInput
	focus int // 0 path, 1 region
	step  importStep

	compSeq int
	choices []string // completions when several match

	prevSeq int
	preview *csvPreview
	prevErr error

	prog   engine.ImportProgress
	size   int64
	run    *importRun
	sum    *engine.ImportSummary
	runErr error
	scroll int // first invalid line shown
	w, h   int
}

type importStep int

const (
	stepChoose importStep = iota
	stepRunning
	stepDone
)

// previewRows is how many data rows the preview shows.
const previewRows = 5

// openImport opens the import for c if its state allows importing.
func (s *shared) openImport(c *engine.Campaign) tea.Cmd {
	if c == nil {
		s.fail("no campaign selected")
		return nil
	}
	if !engine.Can(c.State, engine.ActImport) {
		s.fail((&engine.RefusalError{Campaign: c.Name, State: c.State, Action: engine.ActImport}).Error())
		return nil
	}
	scr := &importScreen{sh: s, c: c}
	scr.reg.value = c.DefaultRegion
	s.info("")
	return func() tea.Msg { return openMsg{scr: scr} }
}

func (s *importScreen) Init() tea.Cmd    { return nil }
func (s *importScreen) SetSize(w, h int) { s.w, s.h = w, h }
func (s *importScreen) Refresh() tea.Cmd { return nil }

// Editing: the path and region inputs own the keyboard until the import
// starts; the summary takes the usual keys.
func (s *importScreen) Editing() bool { return s.step != stepDone }

func (s *importScreen) KeyGroups() []keyGroup {
	k := s.sh.keys
	if s.step == stepDone {
		return []keyGroup{
			{"Summary", []key.Binding{k.Up, k.Down, k.PgUp, k.PgDown, k.Back}},
			{"General", []key.Binding{k.Help, k.Quit, k.ForceQuit}},
		}
	}
	return []keyGroup{
		{"Import", []key.Binding{k.Complete, k.NextField, k.PrevField, k.Cancel}},
		{"General", []key.Binding{k.ForceQuit}},
	}
}

// Messages of the import screen; seq numbers drop stale answers.
type completeMsg struct {
	seq     int
	value   string
	choices []string
	err     error
}

type previewMsg struct {
	seq  int
	path string
	p    *csvPreview
	err  error
}

type csvPreview struct {
	header   []string
	rows     [][]string
	phoneCol int // -1: not found
	phoneErr error
	size     int64
}

// importRun connects the background import to the UI: progress is
// coalesced (the latest wins) and read by a Cmd that re-arms itself.
type importRun struct {
	prog chan engine.ImportProgress
	done chan importDoneMsg
}

type importProgressMsg struct {
	run *importRun
	p   engine.ImportProgress
}

type importDoneMsg struct {
	run *importRun
	sum *engine.ImportSummary
	err error
}

func (s *importScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case completeMsg:
		if msg.seq != s.compSeq {
			return nil
		}
		if msg.err != nil {
			s.sh.fail(msg.err.Error())
			return nil
		}
		s.path.value, s.choices = msg.value, msg.choices
		if len(msg.choices) == 0 && !strings.HasSuffix(msg.value, string(filepath.Separator)) {
			return s.loadPreview()
		}
	case previewMsg:
		if msg.seq != s.prevSeq {
			return nil
		}
		s.preview, s.prevErr = msg.p, msg.err
		if msg.p != nil {
			s.size = msg.p.size
		}
	case importProgressMsg:
		if msg.run != s.run {
			return nil
		}
		s.prog = msg.p
		return waitImport(s.run)
	case importDoneMsg:
		if msg.run != s.run {
			return nil
		}
		s.step, s.sum, s.runErr = stepDone, msg.sum, msg.err
		if msg.err != nil {
			s.sh.fail("import failed: " + msg.err.Error())
		} else {
			s.sh.info(fmt.Sprintf("imported %d leads into %q", msg.sum.Imported, s.c.Name))
		}
	case tea.PasteMsg:
		if s.step == stepChoose {
			s.input().value += msg.Content
		}
	case tea.KeyPressMsg:
		return s.key(msg)
	}
	return nil
}

func (s *importScreen) input() *lineInput {
	if s.focus == 1 {
		return &s.reg
	}
	return &s.path
}

func (s *importScreen) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	switch s.step {
	case stepRunning:
		if key.Matches(msg, k.Cancel) {
			s.sh.info("the import runs to the end; the summary follows")
		}
		return nil
	case stepDone:
		return s.summaryKey(msg)
	}
	switch {
	case key.Matches(msg, k.Cancel):
		s.sh.info("import cancelled")
		return func() tea.Msg { return closeMsg{} }
	case key.Matches(msg, k.Complete) && s.focus == 0:
		s.compSeq++
		return completePath(s.path.value, s.compSeq)
	case key.Matches(msg, k.PrevField):
		s.focus = 0
	case key.Matches(msg, k.NextField):
		if s.focus == 0 {
			if strings.TrimSpace(s.path.value) == "" {
				s.sh.fail("give the CSV file's path (tab completes)")
				return nil
			}
			s.focus = 1
			s.choices = nil
			return s.loadPreview()
		}
		return s.start()
	default:
		if s.input().key(msg) && s.focus == 0 {
			s.preview, s.prevErr, s.choices = nil, nil, nil
		}
	}
	return nil
}

func (s *importScreen) loadPreview() tea.Cmd {
	s.prevSeq++
	return fetchPreview(s.path.value, s.prevSeq)
}

// start runs the import in the background once the preview found a phone
// column; the region sent is empty when it is the campaign's own (so the
// summary says where it came from).
func (s *importScreen) start() tea.Cmd {
	switch {
	case s.preview == nil && s.prevErr == nil:
		s.sh.info("reading the file…")
		return nil
	case s.prevErr != nil:
		s.sh.fail("cannot import: " + s.prevErr.Error())
		return nil
	case s.preview.phoneErr != nil:
		s.sh.fail("cannot import: no phone column")
		return nil
	}
	region := strings.ToUpper(strings.TrimSpace(s.reg.value))
	if region != "" {
		if _, err := engine.ValidRegion(region); err != nil {
			s.sh.fail("region: " + err.Error())
			return nil
		}
	}
	if region == s.c.DefaultRegion {
		region = ""
	}
	s.step = stepRunning
	s.run = &importRun{prog: make(chan engine.ImportProgress, 1), done: make(chan importDoneMsg, 1)}
	s.sh.info("importing " + filepath.Base(s.path.value) + "…")
	run, eng, path, cid := s.run, s.sh.eng, s.path.value, s.c.ID
	return tea.Batch(func() tea.Msg {
		go func() {
			sum, err := importFile(eng, cid, path, region, run)
			run.done <- importDoneMsg{run: run, sum: sum, err: err}
		}()
		return nil
	}, waitImport(run))
}

func importFile(eng Engine, cid uint64, path, region string, run *importRun) (*engine.ImportSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return eng.ImportLeads(ref(cid), f, engine.ImportOptions{Region: region, Progress: func(p engine.ImportProgress) {
		select { // keep only the latest
		case <-run.prog:
		default:
		}
		run.prog <- p
	}})
}

// waitImport delivers the next progress report, or the result.
func waitImport(run *importRun) tea.Cmd {
	return func() tea.Msg {
		select {
		case d := <-run.done:
			return d
		case p := <-run.prog:
			return importProgressMsg{run: run, p: p}
		}
	}
}

func (s *importScreen) summaryKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &s.sh.keys
	n := 0
	if s.sum != nil {
		n = len(s.sum.Errors)
	}
	page := s.errRows()
	switch {
	case key.Matches(msg, k.Back, k.Open):
		return func() tea.Msg { return closeMsg{} }
	case key.Matches(msg, k.Down):
		s.scroll++
	case key.Matches(msg, k.Up):
		s.scroll--
	case key.Matches(msg, k.PgDown):
		s.scroll += page
	case key.Matches(msg, k.PgUp):
		s.scroll -= page
	case key.Matches(msg, k.Top):
		s.scroll = 0
	case key.Matches(msg, k.Bottom):
		s.scroll = n
	default:
		s.sh.fail(fmt.Sprintf("key %q does nothing here (? shows the keys)", msg.String()))
	}
	s.scroll = max(0, min(s.scroll, n-page))
	return nil
}

// errRows is how many invalid lines fit under the summary.
func (s *importScreen) errRows() int { return max(s.h-12, 3) }

func (s *importScreen) View() string {
	st := s.sh.st
	lines := []string{st.title.Render("dialdeck") + " › " + s.c.Name + " › import leads"}
	if s.step == stepDone {
		return fit(append(lines, s.summaryLines()...), s.w, s.h)
	}
	field := func(i int, label string, in *lineInput, hint string) string {
		l := pad(label, 16) + in.value
		if s.focus == i && s.step == stepChoose {
			return st.heading.Render("› ") + l + "▏" + st.dim.Render("  "+hint)
		}
		return "  " + l
	}
	lines = append(lines, "",
		field(0, "CSV file", &s.path, "tab completes · enter next"),
		field(1, "Default region", &s.reg, "numbers without +country · enter imports"))
	if len(s.choices) > 0 {
		lines = append(lines, st.dim.Render("  "+pad(strings.Join(s.choices, "  "), s.w-2)))
	}
	lines = append(lines, "")
	if s.step == stepRunning {
		pct := 0
		if s.size > 0 {
			pct = int(100 * s.prog.BytesRead / s.size)
		}
		lines = append(lines, fmt.Sprintf("importing  %s %3d%%  %d rows read, %d imported",
			st.barFull.Render(bar(uint64(s.prog.BytesRead), uint64(max(s.size, 1)), 30)), pct, s.prog.Rows, s.prog.Imported))
	}
	lines = append(lines, s.previewLines()...)
	return fit(lines, s.w, s.h)
}

func (s *importScreen) previewLines() []string {
	st := s.sh.st
	switch {
	case s.prevErr != nil:
		return []string{st.err.Render("cannot read the file: " + s.prevErr.Error())}
	case s.preview == nil:
		return []string{st.dim.Render("the first rows show here once the file is chosen")}
	}
	p := s.preview
	var out []string
	if p.phoneErr != nil {
		out = append(out, st.err.Render(p.phoneErr.Error()))
	} else {
		var vars []string
		for i, h := range p.header {
			if i != p.phoneCol {
				vars = append(vars, h)
			}
		}
		out = append(out, fmt.Sprintf("phone column: %s · variables: %s", p.header[p.phoneCol], strings.Join(vars, ", ")))
	}
	out = append(out, st.heading.Render(fmt.Sprintf("PREVIEW (first %d rows)", len(p.rows))))
	colW := max(min((s.w-2)/max(len(p.header), 1)-1, 24), 6)
	row := func(rec []string, head bool) string {
		var b strings.Builder
		for i := range p.header {
			v := ""
			if i < len(rec) {
				v = oneLine(rec[i])
			}
			if i == p.phoneCol && !head {
				v = "☎ " + v
			}
			b.WriteString(pad(v, colW) + " ")
		}
		return b.String()
	}
	out = append(out, st.heading.Render(row(p.header, true)))
	for _, r := range p.rows {
		out = append(out, row(r, false))
	}
	return out
}

func (s *importScreen) summaryLines() []string {
	st := s.sh.st
	if s.runErr != nil {
		return []string{"", st.err.Render("import failed: " + s.runErr.Error()), "", st.dim.Render("esc goes back")}
	}
	m := s.sum
	src := m.RegionSource
	if src == "--region" {
		src = "entered here"
	}
	region := m.Region
	if region == "" {
		region = "none"
	}
	missing := "none"
	if len(m.MissingVariables) > 0 {
		missing = strings.Join(m.MissingVariables, ", ")
	}
	lines := []string{
		"",
		st.heading.Render("IMPORT DONE") + fmt.Sprintf("  %s · %d rows in %.1fs", filepath.Base(s.path.value), m.Rows, m.Seconds),
		fmt.Sprintf("imported %d · duplicates %d · invalid %d · blank %d · ragged %d · DNC matches %d",
			m.Imported, m.Duplicates, m.Invalid, m.Blank, m.Ragged, m.DNCMatches),
		fmt.Sprintf("region %s (%s) · phone column %s · delimiter %s", region, src, m.PhoneColumn, m.Delimiter),
		"variables: " + strings.Join(m.Variables, ", "),
		"the prompt needs but the CSV lacks: " + missing,
		"",
	}
	head := fmt.Sprintf("INVALID LINES (%d)", len(m.Errors))
	if m.ErrorsOmitted > 0 {
		head += fmt.Sprintf(", %d more not kept", m.ErrorsOmitted)
	}
	lines = append(lines, st.heading.Render(head))
	if len(m.Errors) == 0 {
		lines = append(lines, st.dim.Render("none"))
	}
	end := min(s.scroll+s.errRows(), len(m.Errors))
	for _, e := range m.Errors[s.scroll:end] {
		lines = append(lines, pad("line "+strconv.Itoa(e.Line), 11)+" "+oneLine(e.Reason))
	}
	if end < len(m.Errors) {
		lines = append(lines, st.dim.Render(fmt.Sprintf("… %d more (j/k, pgdn)", len(m.Errors)-end)))
	}
	return lines
}

// fetchPreview reads the header and first rows of path (in a Cmd: it
// touches the disk).
func fetchPreview(path string, seq int) tea.Cmd {
	return func() tea.Msg {
		p, err := readPreview(path)
		return previewMsg{seq: seq, path: path, p: p, err: err}
	}
}

func readPreview(path string) (*csvPreview, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	r, err := engine.NewCSVReader(f, engine.CSVOptions{})
	if err != nil {
		return nil, err
	}
	p := &csvPreview{header: r.Header(), size: fi.Size()}
	p.phoneCol, p.phoneErr = engine.FindPhoneColumn(p.header, "")
	for len(p.rows) < previewRows {
		rec, _, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p, nil // the import reports it by line
		}
		p.rows = append(p.rows, append([]string(nil), rec...))
	}
	return p, nil
}

// completePath completes a path prefix from the file system: the longest
// common prefix of the matching entries, and the entries when several
// match (directories end in a separator).
func completePath(prefix string, seq int) tea.Cmd {
	return func() tea.Msg {
		value, choices, err := completeFile(prefix)
		return completeMsg{seq: seq, value: value, choices: choices, err: err}
	}
}

func completeFile(prefix string) (string, []string, error) {
	expanded := prefix
	if strings.HasPrefix(prefix, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			expanded = filepath.Join(home, prefix[2:])
		}
	}
	dir, base := filepath.Split(expanded)
	readDir := dir
	if readDir == "" {
		readDir = "."
	}
	ents, err := os.ReadDir(readDir)
	if err != nil {
		return prefix, nil, fmt.Errorf("cannot complete: %v", err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), base) || (strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		n := e.Name()
		if e.IsDir() {
			n += string(filepath.Separator)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return prefix, nil, fmt.Errorf("no file matches %q", prefix)
	case 1:
		return dir + names[0], nil, nil
	}
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			common = common[:len(common)-1]
		}
	}
	return dir + common, names, nil
}

// lineInput is a one-line text input (the filter's editing keys).
type lineInput struct{ value string }

// key edits the value; it reports whether it changed.
func (l *lineInput) key(msg tea.KeyPressMsg) bool {
	old := l.value
	switch msg.String() {
	case "backspace":
		if r := []rune(l.value); len(r) > 0 {
			l.value = string(r[:len(r)-1])
		}
	case "ctrl+u":
		l.value = ""
	case "ctrl+w":
		v := strings.TrimRight(l.value, "/ ")
		if i := strings.LastIndexAny(v, "/ "); i >= 0 {
			l.value = v[:i+1]
		} else {
			l.value = ""
		}
	default:
		if msg.Text != "" {
			l.value += msg.Text
		}
	}
	return l.value != old
}
