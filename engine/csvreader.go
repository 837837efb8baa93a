package engine

import (
	"fmt"
	"io"
	"strings"
)

// Defaults for CSVOptions. They bound the memory one record can take, so a
// hostile or broken file (a 10 MB cell, an unterminated quote) fails fast
// instead of being buffered whole.
const (
	DefaultCSVMaxField  = 64 << 10 // bytes in one field
	DefaultCSVMaxFields = 1024     // fields in one record
	DefaultCSVMaxRecord = 1 << 20  // bytes in one record (all fields)

	csvBufSize = 128 << 10
)

// CSVOptions tunes a CSVReader. The zero value is ready to use.
type CSVOptions struct {
	// Delimiter, if non-zero, disables sniffing. It must be an ASCII
	// character other than '"', '\r' and '\n'.
	Delimiter rune
	// MaxField is the longest field in bytes (default 64 KiB).
	MaxField int
	// MaxFields is the widest record (default 1024 fields).
	MaxFields int
	// MaxRecord is the longest record in bytes (default 1 MiB).
	MaxRecord int
}

// CSVError is a problem at a line of the input. Line is the 1-based physical
// line; 0 only for "empty file", which has no line to point at.
type CSVError struct {
	Line int
	Msg  string
	Err  error // underlying I/O error, if any
}

func (e *CSVError) Error() string {
	if e.Line <= 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func (e *CSVError) Unwrap() error { return e.Err }

// CSVReader is a streaming reader for the CSV dialects spreadsheets and CRMs
// export: RFC 4180 quoting, any of the line endings CRLF, LF and lone CR, a
// UTF-8 BOM, and a delimiter sniffed from the header (',' ';' '\t' '|').
//
// Field values are returned raw: surrounding whitespace of unquoted fields is
// kept (the caller trims what it wants), and a line ending inside a quoted
// field is returned as "\n" whatever it was in the file. It is lenient where
// spreadsheets are: a quote in the middle of an unquoted field is literal, and
// text after a closing quote is appended (`"ab"c` reads as `abc`).
//
// Rows are not checked against the header width: ragged rows are returned as
// they are, for the importer to report. A line holding only spaces and tabs is
// returned as a zero-length record so the importer can report it by line.
//
// Errors are *CSVError and sticky: after one, Read returns it again. They stop
// the read promptly: no more than MaxField bytes of a field (plus one buffer)
// are ever read.
type CSVReader struct {
	src  io.Reader
	buf  []byte
	r, w int
	eof  bool  // src returned io.EOF; buf[r:w] is all that is left
	rerr error // src failed with something other than io.EOF

	delim      byte
	header     []string
	line       int // physical line at buf[r]
	recordLine int // line the current record starts on
	maxField   int
	maxFields  int
	maxRecord  int

	// special[b] says b ends an unquoted run: delimiter, CR or LF.
	special [256]bool

	scratch []byte // field bytes of the record being read, back to back
	ends    []int  // end offset in scratch of each field
	err     error  // sticky
}

// quotedSpecial: bytes that end a run inside a quoted field.
var quotedSpecial = func() (t [256]bool) {
	t['"'], t['\r'], t['\n'] = true, true, true
	return
}()

// NewCSVReader reads the header row of r and returns a reader positioned at
// the first data row.
func NewCSVReader(r io.Reader, opts CSVOptions) (*CSVReader, error) {
	c := &CSVReader{
		src:       r,
		buf:       make([]byte, csvBufSize),
		line:      1,
		maxField:  opts.MaxField,
		maxFields: opts.MaxFields,
		maxRecord: opts.MaxRecord,
	}
	if c.maxField <= 0 {
		c.maxField = DefaultCSVMaxField
	}
	if c.maxFields <= 0 {
		c.maxFields = DefaultCSVMaxFields
	}
	if c.maxRecord <= 0 {
		c.maxRecord = DefaultCSVMaxRecord
	}
	if c.maxRecord < c.maxField {
		c.maxRecord = c.maxField
	}

	// Skip a UTF-8 BOM (Excel's "CSV UTF-8" writes one).
	for c.w-c.r < 3 && c.fill() {
	}
	if c.w-c.r >= 3 && c.buf[c.r] == 0xEF && c.buf[c.r+1] == 0xBB && c.buf[c.r+2] == 0xBF {
		c.r += 3
	}
	if c.rerr != nil {
		return nil, c.ioError()
	}

	switch d := opts.Delimiter; {
	case d == 0:
		c.delim = c.sniff()
	case d >= 0x80 || d == '"' || d == '\r' || d == '\n':
		return nil, fmt.Errorf("csv delimiter %q: must be an ASCII character other than a quote or line break", d)
	default:
		c.delim = byte(d)
	}
	c.special[c.delim], c.special['\r'], c.special['\n'] = true, true, true

	rec, _, err := c.Read()
	if err == io.EOF {
		return nil, &CSVError{Msg: "empty file: a header row is required"}
	}
	if err != nil {
		return nil, err
	}
	if len(rec) == 0 && !c.more() && c.rerr == nil {
		return nil, &CSVError{Msg: "empty file: a header row is required"}
	}
	if len(rec) == 0 {
		return nil, &CSVError{Line: 1, Msg: "the first line is blank: a header row is required"}
	}
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
		if rec[i] == "" {
			return nil, &CSVError{Line: 1, Msg: fmt.Sprintf("header column %d has no name", i+1)}
		}
		// Case-insensitive: {{Phone}} and {{phone}} side by side is a mistake.
		for j := range i {
			if strings.EqualFold(rec[i], rec[j]) {
				return nil, &CSVError{Line: 1, Msg: fmt.Sprintf("header column %d %q duplicates column %d %q", i+1, rec[i], j+1, rec[j])}
			}
		}
	}
	c.header = rec
	return c, nil
}

// Header returns the trimmed column names.
func (c *CSVReader) Header() []string { return c.header }

// Delimiter returns the delimiter in use (sniffed or given).
func (c *CSVReader) Delimiter() rune { return rune(c.delim) }

// sniff picks the delimiter that occurs most often outside quotes in the
// first line; comma when none occurs or the top count is tied.
func (c *CSVReader) sniff() byte {
	cands := [...]byte{',', ';', '\t', '|'}
	var counts [4]int
	inQuote := false
	for i := c.r; ; i++ {
		if i == c.w {
			// Look at no more than one buffer's worth of header.
			if c.w-c.r == len(c.buf) {
				break
			}
			off := c.r
			if !c.fill() {
				break
			}
			i -= off - c.r // fill may have moved the data down
		}
		b := c.buf[i]
		if b == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if b == '\n' || b == '\r' {
			break
		}
		for k, d := range cands {
			if b == d {
				counts[k]++
			}
		}
	}
	best, bestN, tie := 0, 0, false
	for k, n := range counts {
		if n > bestN {
			best, bestN, tie = k, n, false
		} else if n == bestN && n > 0 {
			tie = true
		}
	}
	if bestN == 0 || tie {
		return ','
	}
	return cands[best]
}

// fill reads more input into the buffer, moving unread bytes to the front.
// It reports whether any byte was added.
func (c *CSVReader) fill() bool {
	if c.eof || c.rerr != nil {
		return false
	}
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	if c.w == len(c.buf) {
		return false
	}
	for tries := 0; tries < 100; tries++ {
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if err == io.EOF {
			c.eof = true
		} else if err != nil {
			c.rerr = err
		}
		if n > 0 || err != nil {
			return n > 0
		}
	}
	c.rerr = io.ErrNoProgress
	return false
}

func (c *CSVReader) ioError() error {
	return &CSVError{Line: c.line, Msg: "read: " + c.rerr.Error(), Err: c.rerr}
}

// more makes sure at least one unread byte is buffered; false at end of
// input (or on a read error, left in c.rerr).
func (c *CSVReader) more() bool {
	return c.r < c.w || c.fill()
}

// Read returns the next record and the physical line it starts on, or io.EOF
// after the last one. The returned slice and strings are the caller's: they
// stay valid after the next Read. A blank line is a zero-length record.
func (c *CSVReader) Read() (rec []string, line int, err error) {
	if c.err != nil {
		return nil, 0, c.err
	}
	rec, line, err = c.readRecord()
	if err != nil && err != io.EOF {
		c.err = err
	}
	return rec, line, err
}

func (c *CSVReader) readRecord() ([]string, int, error) {
	if !c.more() {
		if c.rerr != nil {
			return nil, 0, c.ioError()
		}
		return nil, 0, io.EOF
	}
	start := c.line
	c.recordLine = start
	c.scratch = c.scratch[:0]
	c.ends = c.ends[:0]
	quoted := false
	for {
		if len(c.ends) == c.maxFields {
			return nil, 0, &CSVError{Line: start, Msg: fmt.Sprintf("record has more than %d fields", c.maxFields)}
		}
		fieldLine := c.line
		fieldStart := len(c.scratch)
		// At end of input after a delimiter, readUnquoted reads the last,
		// empty field.
		if c.more() && c.buf[c.r] == '"' {
			quoted = true
			c.r++
			if err := c.readQuoted(fieldLine, fieldStart); err != nil {
				return nil, 0, err
			}
		}
		// Unquoted field, or what follows a closing quote.
		endOfRecord, err := c.readUnquoted(fieldLine, fieldStart)
		if err != nil {
			return nil, 0, err
		}
		c.ends = append(c.ends, len(c.scratch))
		if endOfRecord {
			break
		}
	}

	if !quoted && c.blank() {
		return []string{}, start, nil
	}
	// One string for the whole record, sliced into fields: two allocations
	// per record, and the caller may keep the strings.
	s := string(c.scratch)
	rec := make([]string, len(c.ends))
	prev := 0
	for i, e := range c.ends {
		rec[i] = s[prev:e]
		prev = e
	}
	return rec, start, nil
}

// blank reports whether the record just read holds only spaces and tabs
// (the delimiter itself counts when it is a tab).
func (c *CSVReader) blank() bool {
	if len(c.ends) > 1 && c.delim != '\t' {
		return false
	}
	for _, b := range c.scratch {
		if b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}

// appendField adds p to the current field, enforcing the size limits before
// anything is buffered.
func (c *CSVReader) appendField(p []byte, fieldStart, fieldLine int, quoted bool) error {
	fieldRoom := c.maxField - (len(c.scratch) - fieldStart)
	recordRoom := c.maxRecord - len(c.scratch)
	if len(p) > fieldRoom || len(p) > recordRoom {
		// Report the limit a byte-by-byte reader would hit first, so the
		// error does not depend on how the input arrived.
		if fieldRoom <= recordRoom {
			if quoted {
				// Most likely a quote that is never closed: say where it opened.
				return &CSVError{Line: fieldLine, Msg: fmt.Sprintf("quoted field opened here is longer than %d bytes (unterminated quote?)", c.maxField)}
			}
			return &CSVError{Line: fieldLine, Msg: fmt.Sprintf("field longer than %d bytes", c.maxField)}
		}
		return &CSVError{Line: c.recordLine, Msg: fmt.Sprintf("record longer than %d bytes", c.maxRecord)}
	}
	c.scratch = append(c.scratch, p...)
	return nil
}

// readUnquoted reads up to and including the field's terminator. It reports
// whether the terminator ended the record (line break or end of input).
func (c *CSVReader) readUnquoted(fieldLine, fieldStart int) (bool, error) {
	for {
		if !c.more() {
			if c.rerr != nil {
				return false, c.ioError()
			}
			return true, nil
		}
		buf, i, w := c.buf, c.r, c.w
		for i < w && !c.special[buf[i]] {
			i++
		}
		if i > c.r {
			if err := c.appendField(buf[c.r:i], fieldStart, fieldLine, false); err != nil {
				return false, err
			}
			c.r = i
		}
		if i == w {
			continue
		}
		b := buf[i] // before more(), which may move the buffer
		c.r++
		switch b {
		case '\n':
			c.line++
			return true, nil
		case '\r':
			c.line++
			if c.more() && c.buf[c.r] == '\n' {
				c.r++
			}
			return true, nil
		default: // delimiter
			return false, nil
		}
	}
}

// readQuoted reads a quoted field's content, after the opening quote, up to
// and including the closing quote.
func (c *CSVReader) readQuoted(fieldLine, fieldStart int) error {
	for {
		if !c.more() {
			if c.rerr != nil {
				return c.ioError()
			}
			return &CSVError{Line: fieldLine, Msg: "unterminated quoted field"}
		}
		buf, i, w := c.buf, c.r, c.w
		for i < w && !quotedSpecial[buf[i]] {
			i++
		}
		if i > c.r {
			if err := c.appendField(buf[c.r:i], fieldStart, fieldLine, true); err != nil {
				return err
			}
			c.r = i
		}
		if i == w {
			continue
		}
		b := buf[i] // before more(), which may move the buffer
		c.r++
		switch b {
		case '"':
			if !c.more() || c.buf[c.r] != '"' {
				return nil // closing quote
			}
			c.r++ // doubled quote: a literal one
			if err := c.appendField(quoteByte, fieldStart, fieldLine, true); err != nil {
				return err
			}
		case '\r', '\n':
			if b == '\r' && c.more() && c.buf[c.r] == '\n' {
				c.r++
			}
			c.line++
			if err := c.appendField(newlineByte, fieldStart, fieldLine, true); err != nil {
				return err
			}
		}
	}
}

var (
	quoteByte   = []byte{'"'}
	newlineByte = []byte{'\n'}
)
