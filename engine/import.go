package engine

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// ImportOptions tune a lead import.
type ImportOptions struct {
	// Region is the default region for numbers without a country code
	// (ISO 3166, e.g. "IN"); it overrides the campaign's defaultRegion.
	Region string
	// PhoneColumn names the phone column; empty finds it by name.
	PhoneColumn string
	// Delimiter overrides the sniffed one.
	Delimiter rune
	// Progress, when set, is called after each stored batch.
	Progress func(ImportProgress)
}

// ImportProgress is reported while an import runs.
type ImportProgress struct {
	BytesRead int64
	Rows      int
	Imported  int
}

// ImportError is one skipped row.
type ImportError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportSummary is what an import did.
type ImportSummary struct {
	Rows             int           `json:"rows"`
	Imported         int           `json:"imported"`
	Duplicates       int           `json:"duplicates"`
	Invalid          int           `json:"invalid"`
	Blank            int           `json:"blank"`
	Ragged           int           `json:"ragged"`
	DNCMatches       int           `json:"dncMatches"`
	Errors           []ImportError `json:"errors"`
	ErrorsOmitted    int           `json:"errorsOmitted"`
	Variables        []string      `json:"variables"`
	MissingVariables []string      `json:"missingVariables"`
	PhoneColumn      string        `json:"phoneColumn"`
	Region           string        `json:"region"`
	RegionSource     string        `json:"regionSource"`
	Delimiter        string        `json:"delimiter"`
	Seconds          float64       `json:"seconds"`
}

// maxImportErrors bounds the per-row error list kept in a summary.
const maxImportErrors = 1000

// importBatch is how many rows go into one storage transaction.
const importBatch = 10000

// phoneColumnNames are recognised phone column headers (compared after
// lower-casing and turning spaces and dashes into underscores).
var phoneColumnNames = []string{"phone", "phone_number", "phonenumber", "mobile", "mobile_number", "number", "msisdn", "telephone", "tel", "cell"}

func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// findPhoneColumn picks the phone column by explicit name or known names.
func findPhoneColumn(header []string, explicit string) (int, error) {
	if explicit != "" {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(explicit)) {
				return i, nil
			}
		}
		return -1, fmt.Errorf("%w: phone column %q not in header (columns: %s)", ErrInvalid, explicit, strings.Join(header, ", "))
	}
	for _, name := range phoneColumnNames {
		for i, h := range header {
			if normalizeHeader(h) == name {
				return i, nil
			}
		}
	}
	return -1, fmt.Errorf("%w: no phone column found (looked for %s, any case); name it with --phone-column (columns: %s)",
		ErrInvalid, strings.Join(phoneColumnNames[:5], ", "), strings.Join(header, ", "))
}

type rowKind uint8

const (
	rowOK rowKind = iota
	rowBlank
	rowRagged
	rowInvalid
)

type importRow struct {
	line   int
	kind   rowKind
	reason string
	rec    []string
	e164   string
	digits uint64
	zones  string
}

type importChunk struct {
	seq  int
	rows []importRow
	read int64
}

// byteCounter counts bytes for progress reports.
type byteCounter struct {
	r  io.Reader
	n  int64
	mu sync.Mutex
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *byteCounter) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// ImportLeads streams a CSV into a draft campaign. Memory stays bounded by
// the batch size plus the dedupe set (8 bytes of phone per lead). When r is
// an io.ReadSeeker the file's structure is checked first, so a broken file
// (unterminated quote, oversized field) imports nothing.
func (e *Engine) ImportLeads(ref string, r io.Reader, opts ImportOptions) (*ImportSummary, error) {
	e.importMu.Lock()
	defer e.importMu.Unlock()
	started := time.Now()
	c, err := e.Campaign(ref)
	if err != nil {
		return nil, err
	}
	if err := checkAction(c, ActImport); err != nil {
		return nil, err
	}
	sum := &ImportSummary{Errors: []ImportError{}, Variables: []string{}, MissingVariables: []string{}}
	region, err := ValidRegion(opts.Region)
	if err != nil {
		return nil, fmt.Errorf("import leads: --region: %w", err)
	}
	switch {
	case region != "":
		sum.RegionSource = "--region"
	case c.DefaultRegion != "":
		region, sum.RegionSource = c.DefaultRegion, "campaign defaultRegion"
	default:
		sum.RegionSource = "none (numbers must start with + and a country code)"
	}
	sum.Region = region

	if rs, ok := r.(io.ReadSeeker); ok {
		if err := precheckCSV(rs, opts.Delimiter); err != nil {
			return nil, fmt.Errorf("import leads: %w", err)
		}
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("import leads: rewind: %w", err)
		}
	}
	cr := &byteCounter{r: r}
	csv, err := NewCSVReader(cr, CSVOptions{Delimiter: opts.Delimiter})
	if err != nil {
		return nil, fmt.Errorf("import leads: %w", err)
	}
	header := csv.Header()
	sum.Delimiter = delimiterName(csv.Delimiter())
	phoneCol, err := findPhoneColumn(header, opts.PhoneColumn)
	if err != nil {
		return nil, fmt.Errorf("import leads: %w", err)
	}
	sum.PhoneColumn = header[phoneCol]
	tzCol := -1
	for i, h := range header {
		if i != phoneCol {
			sum.Variables = append(sum.Variables, h)
			if normalizeHeader(h) == "timezone" || normalizeHeader(h) == "time_zone" || normalizeHeader(h) == "tz" {
				tzCol = i
			}
		}
	}
	// Map this file's columns onto the campaign's stored header.
	colMap, columns, err := mapColumns(c, header, phoneCol)
	if err != nil {
		return nil, fmt.Errorf("import leads: %w", err)
	}
	agent := e.agents[c.AgentID]
	have := map[string]bool{}
	for _, v := range sum.Variables {
		have[v] = true
	}
	for _, v := range TemplateVariables(agent.Prompt + "\n" + agent.WelcomeMessage) {
		if !have[v] && !builtinVars[v] {
			sum.MissingVariables = append(sum.MissingVariables, v)
		}
	}

	// Known phones: the campaign's and the DNC list, in memory for speed.
	seen := map[uint64]int{} // phone -> line of first occurrence (0: already in campaign)
	dnc := map[string]struct{}{}
	if err := e.store.View(func(tx Tx) error {
		if err := tx.ScanPhones(c.ID, func(p, _ uint64) bool { seen[p] = 0; return true }); err != nil {
			return err
		}
		return tx.ScanDNC(func(d DNCEntry) bool { dnc[d.Phone] = struct{}{}; return true })
	}); err != nil {
		return nil, fmt.Errorf("import leads: load existing phones: %w", err)
	}

	groups := map[string]uint16{}
	tzGroups := c.TZGroups
	if len(tzGroups) == 0 {
		tzGroups = [][]string{nil}
	}
	for i, g := range tzGroups {
		if i > 0 {
			groups[strings.Join(g, ",")] = uint16(i)
		}
	}

	chunks, readErr := e.parseLeads(csv, cr, len(header), phoneCol, tzCol, region)
	var pending []*Lead
	var pendingDigits []uint64 // parallel to pending: the workers already computed them
	var phones []PhoneEntry
	storedPhoneCol := slices.Index(columns, header[phoneCol])
	addErr := func(line int, reason string) {
		if len(sum.Errors) < maxImportErrors {
			sum.Errors = append(sum.Errors, ImportError{Line: line, Reason: reason})
		} else {
			sum.ErrorsOmitted++
		}
	}
	flush := func(read int64) error {
		if len(pending) == 0 {
			return nil
		}
		err := e.store.Update(func(tx Tx) error {
			cur, err := tx.Campaign(c.ID)
			if err != nil {
				return err
			}
			if err := checkAction(cur, ActImport); err != nil {
				return err
			}
			cur.Columns, cur.PhoneColumn, cur.TZGroups, cur.PhoneIndexDirty = columns, storedPhoneCol, tzGroups, true
			if err := tx.PutCampaign(cur); err != nil {
				return err
			}
			return tx.InsertLeads(c.ID, pending)
		})
		if err != nil {
			return fmt.Errorf("store leads: %w", err)
		}
		for i, l := range pending {
			phones = append(phones, PhoneEntry{Phone: pendingDigits[i], LeadID: l.ID})
		}
		sum.Imported += len(pending)
		pending, pendingDigits = pending[:0], pendingDigits[:0]
		if opts.Progress != nil {
			opts.Progress(ImportProgress{BytesRead: read, Rows: sum.Rows, Imported: sum.Imported})
		}
		return nil
	}
	var fatal error
	for ch := range chunks {
		if fatal != nil {
			continue // drain so the parser goroutines finish
		}
		for i := range ch.rows {
			row := &ch.rows[i]
			sum.Rows++
			switch row.kind {
			case rowBlank:
				sum.Blank++
				addErr(row.line, "blank row")
				continue
			case rowRagged:
				sum.Ragged++
				addErr(row.line, row.reason)
				continue
			case rowInvalid:
				sum.Invalid++
				addErr(row.line, row.reason)
				continue
			}
			if first, dup := seen[row.digits]; dup {
				sum.Duplicates++
				if first == 0 {
					addErr(row.line, fmt.Sprintf("duplicate: %s is already in this campaign", row.e164))
				} else {
					addErr(row.line, fmt.Sprintf("duplicate: %s already on line %d", row.e164, first))
				}
				continue
			}
			seen[row.digits] = row.line
			if _, on := dnc[row.e164]; on {
				sum.DNCMatches++
			}
			g := uint16(0)
			if row.zones != "" {
				var ok bool
				if g, ok = groups[row.zones]; !ok && len(tzGroups) < 65535 {
					g = uint16(len(tzGroups))
					groups[row.zones] = g
					tzGroups = append(tzGroups, strings.Split(row.zones, ","))
				}
			}
			pending = append(pending, &Lead{Phone: row.e164, Status: LeadPending, TZGroup: g, Values: reorder(row.rec, colMap)})
			pendingDigits = append(pendingDigits, row.digits)
			if len(pending) >= importBatch {
				if err := flush(ch.read); err != nil {
					fatal = err
				}
			}
		}
	}
	if fatal == nil {
		fatal = flush(cr.count())
	}
	if err := readErr(); err != nil && fatal == nil {
		fatal = err
	}
	// The phone index is written sorted at the end: appending sorted keys is
	// what keeps a 1M-lead import fast in bbolt.
	if ierr := e.writePhoneIndex(c.ID, phones, false); ierr != nil && fatal == nil {
		fatal = ierr
	}
	sum.Seconds = time.Since(started).Seconds()
	if sum.Imported > 0 {
		e.log.Info("leads imported", "campaign", c.ID, "imported", sum.Imported, "duplicates", sum.Duplicates, "invalid", sum.Invalid)
		e.changed(c.ID)
	}
	if fatal != nil {
		return sum, fmt.Errorf("import leads: %w (%d leads stored before the error)", fatal, sum.Imported)
	}
	return sum, nil
}

// mapColumns maps a file's header onto the campaign's stored columns. The
// first import defines them; later imports must have the same columns (in
// any order).
func mapColumns(c *Campaign, header []string, phoneCol int) (colMap []int, columns []string, err error) {
	if len(c.Columns) == 0 {
		colMap = make([]int, len(header))
		for i := range colMap {
			colMap[i] = i
		}
		return colMap, header, nil
	}
	pos := map[string]int{}
	for i, h := range header {
		pos[h] = i
	}
	if len(header) != len(c.Columns) {
		return nil, nil, fmt.Errorf("%w: campaign already has leads with columns [%s]; this file has [%s]",
			ErrInvalid, strings.Join(c.Columns, ", "), strings.Join(header, ", "))
	}
	colMap = make([]int, len(c.Columns))
	for i, col := range c.Columns {
		j, ok := pos[col]
		if !ok {
			return nil, nil, fmt.Errorf("%w: campaign already has leads with columns [%s]; this file lacks %q",
				ErrInvalid, strings.Join(c.Columns, ", "), col)
		}
		colMap[i] = j
	}
	if c.Columns[c.PhoneColumn] != header[phoneCol] {
		return nil, nil, fmt.Errorf("%w: campaign's phone column is %q, this file's is %q", ErrInvalid, c.Columns[c.PhoneColumn], header[phoneCol])
	}
	return colMap, c.Columns, nil
}

func reorder(rec []string, colMap []int) []string {
	out := make([]string, len(colMap))
	for i, j := range colMap {
		if j < len(rec) {
			out[i] = rec[j]
		}
	}
	return out
}

func delimiterName(d rune) string {
	switch d {
	case '\t':
		return "tab"
	case ',':
		return "comma"
	case ';':
		return "semicolon"
	case '|':
		return "pipe"
	}
	return string(d)
}

// precheckCSV reads the whole file structurally (no phone parsing) so a
// broken file is refused before anything is stored.
func precheckCSV(r io.Reader, delim rune) error {
	cr, err := NewCSVReader(r, CSVOptions{Delimiter: delim})
	if err != nil {
		return err
	}
	for {
		_, _, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseLeads reads records on one goroutine and normalises phones on all
// cores (phone parsing is the import's bottleneck); chunks come out in file
// order. The returned func reports a read error after the channel closes.
func (e *Engine) parseLeads(csv *CSVReader, cr *byteCounter, width, phoneCol, tzCol int, region string) (<-chan importChunk, func() error) {
	const chunkRows = 1000
	workers := runtime.GOMAXPROCS(0)
	raw := make(chan importChunk, workers*2)
	done := make(chan importChunk, workers*2)
	out := make(chan importChunk, 4)
	var readErr error
	go func() {
		defer close(raw)
		seq := 0
		ch := importChunk{seq: seq}
		for {
			rec, line, err := csv.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				readErr = err
				break
			}
			row := importRow{line: line, rec: rec}
			switch {
			case isBlank(rec):
				row.kind = rowBlank
			case len(rec) != width && !trailingEmpty(rec, width):
				row.kind = rowRagged
				row.reason = fmt.Sprintf("ragged row: %d fields, header has %d", len(rec), width)
			}
			if len(rec) > width {
				row.rec = rec[:width]
			}
			ch.rows = append(ch.rows, row)
			if len(ch.rows) == chunkRows {
				ch.read = cr.count()
				raw <- ch
				seq++
				ch = importChunk{seq: seq}
			}
		}
		if len(ch.rows) > 0 {
			ch.read = cr.count()
			raw <- ch
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ch := range raw {
				for i := range ch.rows {
					normalizeRow(&ch.rows[i], phoneCol, tzCol, region)
				}
				done <- ch
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	go func() {
		defer close(out)
		next := 0
		held := map[int]importChunk{}
		for ch := range done {
			held[ch.seq] = ch
			for {
				c, ok := held[next]
				if !ok {
					break
				}
				delete(held, next)
				out <- c
				next++
			}
		}
	}()
	return out, func() error { return readErr }
}

func normalizeRow(row *importRow, phoneCol, tzCol int, region string) {
	if row.kind != rowOK {
		return
	}
	raw := row.rec[phoneCol]
	e164, digits, err := NormalizePhone(raw, region)
	if err != nil {
		row.kind = rowInvalid
		row.reason = fmt.Sprintf("phone %q: %v", clip(raw, 40), err)
		return
	}
	row.e164, row.digits = e164, digits
	if tzCol >= 0 {
		if tz := strings.TrimSpace(row.rec[tzCol]); tz != "" {
			if _, err := time.LoadLocation(tz); err == nil {
				row.zones = tz
				return
			}
		}
	}
	zones := PhoneTimezones(e164)
	sort.Strings(zones)
	row.zones = strings.Join(zones, ",")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func isBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// trailingEmpty accepts rows with extra empty trailing fields (a common
// spreadsheet artefact).
func trailingEmpty(rec []string, width int) bool {
	if len(rec) <= width {
		return false
	}
	for _, f := range rec[width:] {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// writePhoneIndex stores phone index entries sorted, in chunks, then clears
// the campaign's dirty flag. With clear set it replaces the index.
func (e *Engine) writePhoneIndex(cid uint64, phones []PhoneEntry, clear bool) error {
	sort.Slice(phones, func(i, j int) bool { return phones[i].Phone < phones[j].Phone })
	const chunk = 100000
	for i := 0; i == 0 || i < len(phones); i += chunk {
		end := min(i+chunk, len(phones))
		last := end == len(phones)
		err := e.store.Update(func(tx Tx) error {
			if clear && i == 0 {
				if err := tx.ClearPhones(cid); err != nil {
					return err
				}
			}
			if err := tx.PutPhones(cid, phones[i:end]); err != nil {
				return err
			}
			if !last {
				return nil
			}
			c, err := tx.Campaign(cid)
			if err != nil {
				return err
			}
			if !c.PhoneIndexDirty {
				return nil
			}
			c.PhoneIndexDirty = false
			return tx.PutCampaign(c)
		})
		if err != nil {
			return fmt.Errorf("write phone index: %w", err)
		}
		if last {
			break
		}
	}
	return nil
}

// rebuildPhoneIndex recreates a campaign's phone index from its leads, after
// an import was interrupted between storing leads and indexing them.
func (e *Engine) rebuildPhoneIndex(cid uint64) error {
	var phones []PhoneEntry
	var bad error
	if err := e.store.View(func(tx Tx) error {
		return tx.ScanLeads(cid, 0, func(l *Lead) bool {
			d, err := PhoneDigits(l.Phone)
			if err != nil {
				bad = fmt.Errorf("lead %d: %w", l.ID, err)
				return false
			}
			phones = append(phones, PhoneEntry{Phone: d, LeadID: l.ID})
			return true
		})
	}); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	e.log.Warn("rebuilt phone index after interrupted import", "campaign", cid, "leads", len(phones))
	return e.writePhoneIndex(cid, phones, true)
}

// FindPhoneColumn returns the index of the phone column in a CSV header:
// the one named explicit, else the first recognised phone header (for an
// import preview; ImportLeads finds it the same way).
func FindPhoneColumn(header []string, explicit string) (int, error) {
	return findPhoneColumn(header, explicit)
}
