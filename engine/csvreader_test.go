package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

const corpusDir = "../testdata/csv"

type wantRec struct {
	line int
	rec  []string
}

func (w wantRec) String() string { return fmt.Sprintf("%d:%q", w.line, w.rec) }

type csvCase struct {
	file   string
	header []string
	delim  rune
	recs   []wantRec
	err    string // "" = clean io.EOF after recs
}

// csvCorpus is the expected reading of every file in testdata/csv.
var csvCorpus = []csvCase{
	{
		file: "bom_crlf.csv", header: []string{"phone", "first_name", "company"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun", "Acme"}},
			{3, []string{"09876543211", "Priya", "Acme, Ltd"}},
			{4, []string{"98765 43212", "Ravi", "Initech"}},
		},
	},
	{
		file: "semicolon_excel.csv", header: []string{"phone", "first_name", "premium", "renewal_date"}, delim: ';',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun", "12450,50", "28.05.2026"}},
			{3, []string{"+919876543211", "Zoë", "1.234,00", "29.05.2026"}},
			{4, []string{"+919876543212", "Jürgen", "0,99", "30.05.2026"}},
		},
	},
	{
		file: "tab.tsv", header: []string{"phone", "name", "note"}, delim: '\t',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun", "has, commas; and semis"}},
			{3, []string{"+919876543211", "Priya", ""}},
		},
	},
	{
		file: "pipe.csv", header: []string{"phone", "name", "city"}, delim: '|',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun", "Mumbai"}},
			{3, []string{"+919876543211", "Priya|P", "Pune"}},
		},
	},
	{
		file: "quoted_multiline.csv", header: []string{"phone", "name", "notes"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", `Arjun "AJ" Rao`, "line one\nline two"}},
			{4, []string{"+919876543211", "Priya", "crlf\ninside, with comma"}},
			{6, []string{"+919876543212", "", `"`}},
			{7, []string{"+919876543213", "Ravi", "a\n\nb"}},
		},
	},
	{
		file: "ragged.csv", header: []string{"phone", "name", "company"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun"}},
			{3, []string{"+919876543211", "Priya", "Acme", "extra", "more"}},
			{4, []string{"+919876543212", "Ravi", "Initech"}},
			{5, []string{"+919876543213"}},
		},
	},
	{
		file: "blank_lines.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun"}},
			{3, []string{}},
			{4, []string{}},
			{5, []string{"+919876543211", "Priya"}},
			{6, []string{}},
			{7, []string{}},
		},
	},
	{
		file: "duplicates.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun"}},
			{3, []string{"09876543210", "Arjun again"}},
			{4, []string{"98765 43210", "Arjun thrice"}},
			{5, []string{"+919876543211", "Priya"}},
		},
	},
	{
		file: "invalid_numbers.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"", "empty"}},
			{3, []string{"abc", "letters"}},
			{4, []string{"12", "short"}},
			{5, []string{"987654321012345", "long"}},
			{6, []string{"+999123456", "bad country"}},
			{7, []string{"+919876543210", "good"}},
		},
	},
	{
		file: "foreign_in.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+44 20 7946 0958", "London"}},
			{3, []string{"+49 30 901820", "Berlin"}},
			{4, []string{"+919876543210", "Mumbai"}},
			{5, []string{"4155552671", "US number without +1"}},
		},
	},
	{
		file: "excel_sci.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"9.19876E+11", "sci"}},
			{3, []string{"9.19876543210E+11", "sci full"}},
			{4, []string{"919876543210.0", "decimal"}},
			{5, []string{"919876543210", "plain digits"}},
		},
	},
	{
		file: "unterminated_quote.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun"}},
		},
		err: "line 3: unterminated quoted field",
	},
	{
		file: "lone_cr.csv", header: []string{"phone", "name"}, delim: ',',
		recs: []wantRec{
			{2, []string{"+919876543210", "Arjun"}},
			{3, []string{"+919876543211", "two\nlines"}},
		},
	},
}

// readAll reads every record; err is the final non-EOF error, if any.
func readAll(r *CSVReader) (recs []wantRec, err error) {
	for {
		rec, line, err := r.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		recs = append(recs, wantRec{line, rec})
	}
}

func TestCSVCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.*sv"))
	if len(files) != len(csvCorpus) {
		t.Errorf("%d files in %s, %d cases: every fixture needs a case", len(files), corpusDir, len(csvCorpus))
	}
	for _, tc := range csvCorpus {
		data, err := os.ReadFile(filepath.Join(corpusDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		// One-byte reads move every buffer boundary through every state.
		for _, mode := range []string{"whole", "onebyte"} {
			t.Run(tc.file+"/"+mode, func(t *testing.T) {
				var src io.Reader = bytes.NewReader(data)
				if mode == "onebyte" {
					src = iotest.OneByteReader(src)
				}
				r, err := NewCSVReader(src, CSVOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(r.Header(), tc.header) {
					t.Errorf("header %q, want %q", r.Header(), tc.header)
				}
				if r.Delimiter() != tc.delim {
					t.Errorf("delimiter %q, want %q", r.Delimiter(), tc.delim)
				}
				recs, err := readAll(r)
				if !reflect.DeepEqual(recs, tc.recs) {
					t.Errorf("records:\n got %v\nwant %v", recs, tc.recs)
				}
				checkErr(t, err, tc.err)
				if err != nil {
					// Sticky.
					if _, _, err2 := r.Read(); err2 != err {
						t.Errorf("second Read: %v, want the same error again", err2)
					}
				}
			})
		}
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
		return
	}
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
		return
	}
	var ce *CSVError
	if !errors.As(err, &ce) {
		t.Errorf("error %T, want *CSVError", err)
	}
}

// TestCSVCorpusPhones reads the phone column of the phone-centred fixtures
// through NormalizePhone with region IN, as the importer will.
func TestCSVCorpusPhones(t *testing.T) {
	want := map[string][]string{ // per data row: E.164 or "!" + error substring
		"duplicates.csv":      {"+919876543210", "+919876543210", "+919876543210", "+919876543211"},
		"invalid_numbers.csv": {"!empty phone", "!not a phone number", "!too short for region IN", "!too long for region IN", "!unknown country code", "+919876543210"},
		"foreign_in.csv":      {"+442079460958", "+4930901820", "+919876543210", "+914155552671"},
		"excel_sci.csv": {
			"!looks like a number mangled by Excel scientific notation (9.19876E+11); format the column as text and export again",
			"!mangled by Excel scientific notation (9.19876543210E+11)",
			"!mangled by Excel number formatting (919876543210.0)",
			"+919876543210",
		},
	}
	for file, phones := range want {
		f, err := os.Open(filepath.Join(corpusDir, file))
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewCSVReader(f, CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(r)
		f.Close()
		if err != nil || len(recs) != len(phones) {
			t.Fatalf("%s: %d records, %v", file, len(recs), err)
		}
		for i, rec := range recs {
			e164, _, err := NormalizePhone(rec.rec[0], "IN")
			got := e164
			if err != nil {
				got = "!" + err.Error()
			}
			w := phones[i]
			if got != w && !(strings.HasPrefix(w, "!") && strings.Contains(got, w[1:])) {
				t.Errorf("%s line %d: %q -> %q, want %q", file, rec.line, rec.rec[0], got, w)
			}
		}
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"", "empty file: a header row is required"},
		{"\ufeff", "empty file: a header row is required"},
		{"  \r\n", "empty file: a header row is required"},
		{"\nphone\n", "line 1: the first line is blank: a header row is required"},
		{"phone,,name\n", "line 1: header column 2 has no name"},
		{"phone,\"\",name\n", "line 1: header column 2 has no name"},
		{"phone, \"\" ,name\n", ""}, // not a quoted field: the name is `""`
		{"phone,name,Phone\n", `line 1: header column 3 "Phone" duplicates column 1 "phone"`},
		{"phone,name, name \n", `line 1: header column 3 "name" duplicates column 2 "name"`},
		{"\"phone\n", "line 1: unterminated quoted field"},
	} {
		_, err := NewCSVReader(strings.NewReader(tc.in), CSVOptions{})
		checkErr(t, err, tc.err)
	}
}

func TestCSVHeaderTrimmedAndQuoted(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader(" phone ;\"first; name\"\n1;2\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); !reflect.DeepEqual(h, []string{"phone", "first; name"}) || r.Delimiter() != ';' {
		t.Fatalf("header %q delimiter %q", h, r.Delimiter())
	}
}

func TestCSVSniff(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   rune
	}{
		{"phone", ','},
		{"phone,name", ','},
		{"phone;name;premium", ';'},
		{"phone;name,x;premium", ';'},
		{"phone\tname", '\t'},
		{"phone|name|a,b", '|'},
		{"phone;name|x", ','},               // tie
		{"\"a;b;c\",d", ','},                // quoted delimiters do not count
		{"a;b\nc,d,e,f,g\n", ';'},           // only the header line counts
		{"a|b\r\nc,d,e,f,g\r\n", '|'},       // CRLF ends it
		{"a\tb\rc,d,e,f,g\r", '\t'},         // so does a lone CR
		{"\ufeffa;b;c\n", ';'},              // after the BOM
		{"\"multi\nline\";b;c\nx,y\n", ';'}, // header with a quoted line break
	} {
		r, err := NewCSVReader(strings.NewReader(tc.header), CSVOptions{})
		if err != nil {
			t.Errorf("%q: %v", tc.header, err)
			continue
		}
		if r.Delimiter() != tc.want {
			t.Errorf("%q: delimiter %q, want %q", tc.header, r.Delimiter(), tc.want)
		}
	}
}

func TestCSVExplicitDelimiter(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("a;b,c\n1;2,3\n"), CSVOptions{Delimiter: ','})
	if err != nil {
		t.Fatal(err)
	}
	rec, line, err := r.Read()
	if err != nil || line != 2 || !reflect.DeepEqual(rec, []string{"1;2", "3"}) {
		t.Fatalf("%q %d %v", rec, line, err)
	}
	for _, d := range []rune{'"', '\n', '\r', 'é'} {
		if _, err := NewCSVReader(strings.NewReader("a\n"), CSVOptions{Delimiter: d}); err == nil {
			t.Errorf("delimiter %q accepted", d)
		}
	}
}

func TestCSVFieldsAndEdges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		recs []wantRec
		err  string
	}{
		// Raw values: whitespace kept for the caller to trim.
		{"h,i\n a , b \n", []wantRec{{2, []string{" a ", " b "}}}, ""},
		// No final line break.
		{"h,i\n1,2", []wantRec{{2, []string{"1", "2"}}}, ""},
		// Trailing delimiter: an empty last field, with and without EOL.
		{"h,i\n1,\n2,", []wantRec{{2, []string{"1", ""}}, {3, []string{"2", ""}}}, ""},
		// Only delimiters: not blank, a row of empty fields.
		{"h,i\n,\n", []wantRec{{2, []string{"", ""}}}, ""},
		// A quoted empty field alone on its line is a value, not blank.
		{"h\n\"\"\n", []wantRec{{2, []string{""}}}, ""},
		// Lenient quotes: literal inside unquoted, text after closing quote appended.
		{"h,i\nab\"c,\"x\"y \n", []wantRec{{2, []string{`ab"c`, "xy "}}}, ""},
		// Mixed line endings, counted right.
		{"h\r\na\rb\nc\r\n\r\nd", []wantRec{{2, []string{"a"}}, {3, []string{"b"}}, {4, []string{"c"}}, {5, []string{}}, {6, []string{"d"}}}, ""},
		// CR then LF split by a quote close: CRLF inside and after quotes.
		{"h,i\n\"a\r\n\",\"b\"\r\nz,z\r\n", []wantRec{{2, []string{"a\n", "b"}}, {4, []string{"z", "z"}}}, ""},
		// Unterminated quote reports where it opened, after earlier lines.
		{"h,i\n1,2\n3,\"x\n\n\ny", []wantRec{{2, []string{"1", "2"}}}, "line 3: unterminated quoted field"},
	} {
		for _, onebyte := range []bool{false, true} {
			var src io.Reader = strings.NewReader(tc.in)
			if onebyte {
				src = iotest.OneByteReader(src)
			}
			r, err := NewCSVReader(src, CSVOptions{})
			if err != nil {
				t.Fatalf("%q: %v", tc.in, err)
			}
			recs, err := readAll(r)
			if !reflect.DeepEqual(recs, tc.recs) {
				t.Errorf("%q (onebyte %v):\n got %q\nwant %q", tc.in, onebyte, recs, tc.recs)
			}
			checkErr(t, err, tc.err)
		}
	}
}

func TestCSVRecordsStayValid(t *testing.T) {
	r, err := NewCSVReader(strings.NewReader("h,i\na,b\nc,d\n"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := r.Read()
	second, _, _ := r.Read()
	if !reflect.DeepEqual(first, []string{"a", "b"}) || !reflect.DeepEqual(second, []string{"c", "d"}) {
		t.Fatalf("%q %q", first, second)
	}
}

func TestCSVLimits(t *testing.T) {
	opts := CSVOptions{MaxField: 8, MaxFields: 3, MaxRecord: 20}
	for _, tc := range []struct {
		in   string
		recs []wantRec
		err  string
	}{
		{"h\n12345678\n123456789\n", []wantRec{{2, []string{"12345678"}}}, "line 3: field longer than 8 bytes"},
		{"h\n\"1234\"\"567\"\n\"1\n2345678\n", []wantRec{{2, []string{"1234\"567"}}},
			"line 3: quoted field opened here is longer than 8 bytes (unterminated quote?)"},
		{"h\na,b,c\na,b,c,d\n", []wantRec{{2, []string{"a", "b", "c"}}}, "line 3: record has more than 3 fields"},
		{"h\n1234567,1234567,1234567\n", nil, "line 2: record longer than 20 bytes"},
	} {
		r, err := NewCSVReader(strings.NewReader(tc.in), opts)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(r)
		if !reflect.DeepEqual(recs, tc.recs) {
			t.Errorf("%q:\n got %v\nwant %v", tc.in, recs, tc.recs)
		}
		checkErr(t, err, tc.err)
	}
}

// countingReader counts the bytes handed out, to prove the reader stops
// promptly instead of draining the source.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// writeHugeField writes a CSV with a 10 MB field on line 3 to a temp file.
func writeHugeField(t *testing.T, quoted bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "huge.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprint(f, "phone,notes\n+919876543210,ok\n+919876543211,")
	if quoted {
		fmt.Fprint(f, `"`)
	}
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range 10 {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprint(f, "\n+919876543212,after\n")
	return path
}

func TestCSVHugeField(t *testing.T) {
	for _, quoted := range []bool{false, true} {
		path := writeHugeField(t, quoted)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src := &countingReader{r: f}
		r, err := NewCSVReader(src, CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := readAll(r)
		f.Close()
		if !reflect.DeepEqual(recs, []wantRec{{2, []string{"+919876543210", "ok"}}}) {
			t.Errorf("records %v", recs)
		}
		want := "line 3: field longer than 65536 bytes"
		if quoted {
			want = "line 3: quoted field opened here is longer than 65536 bytes (unterminated quote?)"
		}
		checkErr(t, err, want)
		if limit := int64(DefaultCSVMaxField + 2*csvBufSize); src.n > limit {
			t.Errorf("read %d bytes of a 10 MB field; want at most %d", src.n, limit)
		}
		if cap(r.scratch) > 2*DefaultCSVMaxField {
			t.Errorf("buffered %d bytes", cap(r.scratch))
		}
	}
}

func TestCSVReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	src := io.MultiReader(strings.NewReader("h,i\n1,2\n3,"), iotest.ErrReader(boom))
	r, err := NewCSVReader(src, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(r)
	if len(recs) != 1 || !errors.Is(err, boom) {
		t.Fatalf("%v %v", recs, err)
	}
	checkErr(t, err, "line 3: read: disk on fire")
}

// FuzzCSVReader: no panics, every error a *CSVError with a line, bounded
// fields and records, increasing lines, and the same result however the
// input is split into reads.
func FuzzCSVReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.*sv"))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("h\n\"x"))
	f.Add([]byte("a;b\r\"\"\"\r\n\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []CSVOptions{{}, {MaxField: 7, MaxFields: 4, MaxRecord: 12}} {
			a, errA := fuzzRead(t, bytes.NewReader(data), opts)
			b, errB := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(data)), opts)
			if !reflect.DeepEqual(a, b) || fmt.Sprint(errA) != fmt.Sprint(errB) {
				t.Fatalf("whole vs one-byte reads differ:\n%v %v\n%v %v", a, errA, b, errB)
			}
		}
	})
}

func fuzzRead(t *testing.T, src io.Reader, opts CSVOptions) ([]wantRec, error) {
	maxField, maxFields := opts.MaxField, opts.MaxFields
	if maxField == 0 {
		maxField, maxFields = DefaultCSVMaxField, DefaultCSVMaxFields
	}
	r, err := NewCSVReader(src, opts)
	if err != nil {
		var ce *CSVError
		if !errors.As(err, &ce) {
			t.Fatalf("header error %T %v, want *CSVError", err, err)
		}
		if ce.Line < 1 && ce.Msg != "empty file: a header row is required" {
			t.Fatalf("header error without a line: %v", err)
		}
		return nil, err
	}
	if len(r.Header()) == 0 {
		t.Fatal("no header and no error")
	}
	var recs []wantRec
	prev := 1
	for {
		rec, line, err := r.Read()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			var ce *CSVError
			if !errors.As(err, &ce) || ce.Line < 1 {
				t.Fatalf("error %T %v: want *CSVError with a line", err, err)
			}
			return recs, err
		}
		if line <= prev {
			t.Fatalf("record on line %d after line %d", line, prev)
		}
		prev = line
		if len(rec) > maxFields {
			t.Fatalf("%d fields", len(rec))
		}
		for _, s := range rec {
			if len(s) > maxField {
				t.Fatalf("field of %d bytes", len(s))
			}
		}
		recs = append(recs, wantRec{line, rec})
	}
}

// genLeads builds a lead list like a CRM export: n rows of 6 columns.
func genLeads(n int) []byte {
	var b bytes.Buffer
	b.WriteString("phone,first_name,company,policy_type,renewal_date,premium\r\n")
	for i := range n {
		fmt.Fprintf(&b, "+9198%08d,Name%d,\"Acme, Ltd\",Health,2026-05-28,%d\r\n", i, i, 10000+i)
	}
	return b.Bytes()
}

func BenchmarkCSVReader(b *testing.B) {
	data := genLeads(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewCSVReader(bytes.NewReader(data), CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, _, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100_000 {
			b.Fatalf("%d rows", n)
		}
	}
}
