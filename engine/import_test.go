package engine_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/dialdeck/dialdeck/engine"
)

// impErr is an expected per-row error: its line and a substring of its reason.
type impErr struct {
	line   int
	reason string
}

// impWant is the expected summary of one import; errs are compared by line
// and reason substring, everything else exactly.
type impWant struct {
	rows, imported, duplicates, invalid, blank, ragged, dnc int
	errs                                                    []impErr
	variables, missing                                      []string
	phoneColumn, delimiter, region, regionSource            string
}

const (
	impSrcCampaign = "campaign defaultRegion"
	impSrcFlag     = "--region"
	impSrcNone     = "none (numbers must start with + and a country code)"
)

// impCheckSummary compares a summary with what the user must see.
func impCheckSummary(t *testing.T, got *engine.ImportSummary, want impWant) {
	t.Helper()
	if got == nil {
		t.Fatal("nil summary")
	}
	counts := func(s *engine.ImportSummary) []int {
		return []int{s.Rows, s.Imported, s.Duplicates, s.Invalid, s.Blank, s.Ragged, s.DNCMatches}
	}
	wantCounts := []int{want.rows, want.imported, want.duplicates, want.invalid, want.blank, want.ragged, want.dnc}
	if !reflect.DeepEqual(counts(got), wantCounts) {
		t.Errorf("rows, imported, duplicates, invalid, blank, ragged, dncMatches = %v; want %v", counts(got), wantCounts)
	}
	if len(got.Errors) != len(want.errs) {
		t.Errorf("errors = %+v; want %d: %+v", got.Errors, len(want.errs), want.errs)
	} else {
		for i, w := range want.errs {
			if g := got.Errors[i]; g.Line != w.line || !strings.Contains(g.Reason, w.reason) {
				t.Errorf("errors[%d] = line %d %q; want line %d containing %q", i, g.Line, g.Reason, w.line, w.reason)
			}
		}
	}
	if got.ErrorsOmitted != 0 {
		t.Errorf("errorsOmitted = %d; want 0", got.ErrorsOmitted)
	}
	if want.variables == nil {
		want.variables = []string{}
	}
	if want.missing == nil {
		want.missing = []string{}
	}
	if !reflect.DeepEqual(got.Variables, want.variables) {
		t.Errorf("variables = %q; want %q", got.Variables, want.variables)
	}
	if !reflect.DeepEqual(got.MissingVariables, want.missing) {
		t.Errorf("missingVariables = %q; want %q", got.MissingVariables, want.missing)
	}
	if got.PhoneColumn != want.phoneColumn || got.Delimiter != want.delimiter || got.Region != want.region || got.RegionSource != want.regionSource {
		t.Errorf("phoneColumn, delimiter, region, regionSource = %q, %q, %q, %q; want %q, %q, %q, %q",
			got.PhoneColumn, got.Delimiter, got.Region, got.RegionSource,
			want.phoneColumn, want.delimiter, want.region, want.regionSource)
	}
}

// impImportFile imports a file (opened as *os.File, so seekable) into ref.
func impImportFile(t *testing.T, e *engine.Engine, ref, path string, opts engine.ImportOptions) (*engine.ImportSummary, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return e.ImportLeads(ref, f, opts)
}

// impWriteFile writes content to a file in t.TempDir().
func impWriteFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// impLeads returns every stored lead of a campaign.
func impLeads(t *testing.T, e *engine.Engine, cid uint64) []*engine.Lead {
	t.Helper()
	leads, err := e.Leads(cid, 0, 1<<30, nil)
	if err != nil {
		t.Fatal(err)
	}
	return leads
}

// impCheckStored asserts the store's invariants hold and the lead count.
func impCheckStored(t *testing.T, e *engine.Engine, ref string, leads int) {
	t.Helper()
	c, err := e.Campaign(ref)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := e.Check(c.ID)
	if err != nil || len(probs) != 0 {
		t.Errorf("Check = %q, %v; want no problems", probs, err)
	}
	r, err := e.Report(ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Leads != uint64(leads) || r.ByStatus[engine.LeadPending] != uint64(leads) {
		t.Errorf("report: %d leads, %d pending; want %d of each", r.Leads, r.ByStatus[engine.LeadPending], leads)
	}
}

// The hostile corpus: each file imported into a fresh campaign with
// defaultRegion IN (the region of the corpus's national numbers).
func TestImportCorpus(t *testing.T) {
	name2 := []string{"name"}
	missAll := []string{"company", "first_name", "policy_type"}
	in := func(w impWant) impWant {
		w.phoneColumn, w.region, w.regionSource = "phone", "IN", impSrcCampaign
		if w.delimiter == "" {
			w.delimiter = "comma"
		}
		return w
	}
	cases := []struct {
		file  string
		want  impWant
		e164s []string // stored phones in lead order
	}{
		{"bom_crlf.csv", in(impWant{rows: 3, imported: 3,
			variables: []string{"first_name", "company"}, missing: []string{"policy_type"}}),
			[]string{"+919876543210", "+919876543211", "+919876543212"}},
		{"semicolon_excel.csv", in(impWant{rows: 3, imported: 3, delimiter: "semicolon",
			variables: []string{"first_name", "premium", "renewal_date"}, missing: []string{"company", "policy_type"}}),
			[]string{"+919876543210", "+919876543211", "+919876543212"}},
		{"tab.tsv", in(impWant{rows: 2, imported: 2, delimiter: "tab",
			variables: []string{"name", "note"}, missing: missAll}),
			[]string{"+919876543210", "+919876543211"}},
		{"pipe.csv", in(impWant{rows: 2, imported: 2, delimiter: "pipe",
			variables: []string{"name", "city"}, missing: missAll}),
			[]string{"+919876543210", "+919876543211"}},
		{"quoted_multiline.csv", in(impWant{rows: 4, imported: 4,
			variables: []string{"name", "notes"}, missing: missAll}),
			[]string{"+919876543210", "+919876543211", "+919876543212", "+919876543213"}},
		{"lone_cr.csv", in(impWant{rows: 2, imported: 2, variables: name2, missing: missAll}),
			[]string{"+919876543210", "+919876543211"}},
		{"ragged.csv", in(impWant{rows: 4, imported: 1, ragged: 3,
			errs: []impErr{
				{2, "ragged row: 2 fields, header has 3"},
				{3, "ragged row: 5 fields, header has 3"},
				{5, "ragged row: 1 fields, header has 3"},
			},
			variables: []string{"name", "company"}, missing: []string{"first_name", "policy_type"}}),
			[]string{"+919876543212"}},
		{"blank_lines.csv", in(impWant{rows: 6, imported: 2, blank: 4,
			errs:      []impErr{{3, "blank row"}, {4, "blank row"}, {6, "blank row"}, {7, "blank row"}},
			variables: name2, missing: missAll}),
			[]string{"+919876543210", "+919876543211"}},
		{"duplicates.csv", in(impWant{rows: 4, imported: 2, duplicates: 2,
			errs: []impErr{
				{3, "duplicate: +919876543210 already on line 2"},
				{4, "duplicate: +919876543210 already on line 2"},
			},
			variables: name2, missing: missAll}),
			[]string{"+919876543210", "+919876543211"}},
		{"invalid_numbers.csv", in(impWant{rows: 6, imported: 1, invalid: 5,
			errs: []impErr{
				{2, `phone "": empty phone`},
				{3, `phone "abc": not a phone number`},
				{4, `phone "12": too short for region IN`},
				{5, `phone "987654321012345": too long for region IN`},
				{6, `phone "+999123456": unknown country code`},
			},
			variables: name2, missing: missAll}),
			[]string{"+919876543210"}},
		// Numbers written with + are valid in any campaign region: a
		// London and a Berlin number in an IN file are imported as such.
		// A US number written without +1 is read as Indian (the region
		// says so) and happens to be a valid Indian number.
		{"foreign_in.csv", in(impWant{rows: 4, imported: 4, variables: name2, missing: missAll}),
			[]string{"+442079460958", "+4930901820", "+919876543210", "+914155552671"}},
		{"excel_sci.csv", in(impWant{rows: 4, imported: 1, invalid: 3,
			errs: []impErr{
				{2, "mangled by Excel scientific notation (9.19876E+11); format the column as text and export again"},
				{3, "mangled by Excel scientific notation (9.19876543210E+11); format the column as text"},
				{4, "mangled by Excel number formatting (919876543210.0); format the column as text"},
			},
			variables: name2, missing: missAll}),
			[]string{"+919876543210"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
			c := impCampaign(t, e, "corpus", "IN")
			sum, err := impImportFile(t, e, c.Name, filepath.Join("../testdata/csv", tc.file), engine.ImportOptions{})
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			impCheckSummary(t, sum, tc.want)
			var got []string
			for _, l := range impLeads(t, e, c.ID) {
				got = append(got, l.Phone)
			}
			if !reflect.DeepEqual(got, tc.e164s) {
				t.Errorf("stored phones = %q; want %q", got, tc.e164s)
			}
			impCheckStored(t, e, c.Name, len(tc.e164s))
		})
	}
}

// The values a lead's call uses are stored as written, even where a naive
// CSV reader would split or mangle them.
func TestImportCorpusValues(t *testing.T) {
	cases := []struct {
		file    string
		columns []string
		values  [][]string
	}{
		{"bom_crlf.csv", []string{"phone", "first_name", "company"}, [][]string{
			{"+919876543210", "Arjun", "Acme"}, {"09876543211", "Priya", "Acme, Ltd"}, {"98765 43212", "Ravi", "Initech"}}},
		{"semicolon_excel.csv", []string{"phone", "first_name", "premium", "renewal_date"}, [][]string{
			{"+919876543210", "Arjun", "12450,50", "28.05.2026"}, {"+919876543211", "Zoë", "1.234,00", "29.05.2026"},
			{"+919876543212", "Jürgen", "0,99", "30.05.2026"}}},
		{"quoted_multiline.csv", []string{"phone", "name", "notes"}, [][]string{
			{"+919876543210", `Arjun "AJ" Rao`, "line one\nline two"}, {"+919876543211", "Priya", "crlf\ninside, with comma"},
			{"+919876543212", "", `"`}, {"+919876543213", "Ravi", "a\n\nb"}}},
		{"pipe.csv", []string{"phone", "name", "city"}, [][]string{
			{"+919876543210", "Arjun", "Mumbai"}, {"+919876543211", "Priya|P", "Pune"}}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
			c := impCampaign(t, e, "values", "IN")
			if _, err := impImportFile(t, e, c.Name, filepath.Join("../testdata/csv", tc.file), engine.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			c, _ = e.Campaign(c.Name)
			if !reflect.DeepEqual(c.Columns, tc.columns) || c.PhoneColumn != 0 {
				t.Errorf("columns = %q (phone %d); want %q (phone 0)", c.Columns, c.PhoneColumn, tc.columns)
			}
			var got [][]string
			for _, l := range impLeads(t, e, c.ID) {
				got = append(got, l.Values)
			}
			if !reflect.DeepEqual(got, tc.values) {
				t.Errorf("values = %q; want %q", got, tc.values)
			}
		})
	}
}

// A structurally broken file imports nothing: the error names the line and
// the campaign still has no leads.
func TestImportBrokenFileStoresNothing(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.csv")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "phone,notes\n+919876543210,ok\n+919876543211,")
	chunk := strings.Repeat("x", 1<<20)
	for range 10 {
		w.WriteString(chunk)
	}
	fmt.Fprint(w, "\n+919876543212,after\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	for _, tc := range []struct{ path, err string }{
		{filepath.Join("../testdata/csv", "unterminated_quote.csv"), "line 3: unterminated quoted field"},
		{huge, "line 3: field longer than"},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
			c := impCampaign(t, e, "broken", "IN")
			_, err := impImportFile(t, e, c.Name, tc.path, engine.ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("import err = %v; want it to contain %q", err, tc.err)
			}
			r, err := e.Report(c.Name)
			if err != nil {
				t.Fatal(err)
			}
			if r.Leads != 0 || r.ByStatus[engine.LeadPending] != 0 {
				t.Errorf("report after a refused import: %d leads, %d pending; want 0", r.Leads, r.ByStatus[engine.LeadPending])
			}
			if c, _ := e.Campaign(c.Name); len(c.Columns) != 0 {
				t.Errorf("campaign columns = %q after a refused import; want none", c.Columns)
			}
			if err := e.Start(c.Name); !errors.Is(err, engine.ErrRefused) {
				t.Errorf("Start after a refused import = %v; want refused (no leads)", err)
			}
		})
	}
}

const impSpecCSV = "phone,first_name,company,policy_type,renewal_date,premium\n+919876543210,Arjun,Acme,Health,2026-05-28,12450\n"

// The spec's own example row imports, is stored positionally and is found
// by phone; a second import of the same file finds it already there.
func TestImportSpecExample(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	c := impCampaign(t, e, "spec", "IN")
	path := impWriteFile(t, "spec.csv", impSpecCSV)
	sum, err := impImportFile(t, e, c.Name, path, engine.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vars := []string{"first_name", "company", "policy_type", "renewal_date", "premium"}
	impCheckSummary(t, sum, impWant{rows: 1, imported: 1, variables: vars,
		phoneColumn: "phone", delimiter: "comma", region: "IN", regionSource: impSrcCampaign})
	impCheckStored(t, e, c.Name, 1)

	c, _ = e.Campaign(c.Name)
	cols := []string{"phone", "first_name", "company", "policy_type", "renewal_date", "premium"}
	if !reflect.DeepEqual(c.Columns, cols) || c.PhoneColumn != 0 {
		t.Errorf("columns = %q (phone %d); want %q (phone 0)", c.Columns, c.PhoneColumn, cols)
	}
	leads := impLeads(t, e, c.ID)
	if len(leads) != 1 {
		t.Fatalf("%d leads; want 1", len(leads))
	}
	l := leads[0]
	if want := []string{"+919876543210", "Arjun", "Acme", "Health", "2026-05-28", "12450"}; !reflect.DeepEqual(l.Values, want) ||
		l.Phone != "+919876543210" || l.Status != engine.LeadPending || l.Attempts != 0 {
		t.Errorf("lead = %+v; want phone +919876543210, pending, values %q", l, want)
	}
	for _, q := range []string{"+919876543210", "098765 43210", "98765-43210"} {
		w, err := e.WhyNotPhone(c.Name, q)
		if err != nil || w.LeadID != l.ID || w.Phone != "+919876543210" {
			t.Errorf("WhyNotPhone(%q) = %+v, %v; want lead %d", q, w, err, l.ID)
		}
	}
	if _, err := e.WhyNotPhone(c.Name, "+919876543219"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("WhyNotPhone(unknown) = %v; want not found", err)
	}

	// Again: nothing new, each row reported as already in the campaign.
	sum, err = impImportFile(t, e, c.Name, path, engine.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	impCheckSummary(t, sum, impWant{rows: 1, duplicates: 1,
		errs:      []impErr{{2, "duplicate: +919876543210 is already in this campaign"}},
		variables: vars, phoneColumn: "phone", delimiter: "comma", region: "IN", regionSource: impSrcCampaign})
	impCheckStored(t, e, c.Name, 1)
}

// A second file adds leads: same columns in another order are mapped onto
// the stored header; different columns are refused and store nothing.
func TestImportSecondFile(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	c := impCampaign(t, e, "second", "IN")
	if _, err := impImportFile(t, e, c.Name, impWriteFile(t, "a.csv", impSpecCSV), engine.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	reordered := "premium,renewal_date,policy_type,company,first_name,phone\n99,2026-06-01,Life,Initech,Priya,+919876543211\n12450,2026-05-28,Health,Acme,Arjun,+919876543210\n"
	sum, err := impImportFile(t, e, c.Name, impWriteFile(t, "b.csv", reordered), engine.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 1 || sum.Duplicates != 1 {
		t.Errorf("reordered file: imported %d, duplicates %d; want 1, 1", sum.Imported, sum.Duplicates)
	}
	leads := impLeads(t, e, c.ID)
	if want := []string{"+919876543211", "Priya", "Initech", "Life", "2026-06-01", "99"}; len(leads) != 2 || !reflect.DeepEqual(leads[1].Values, want) {
		t.Errorf("second lead values = %q; want %q (positional against the first file's columns)", leads[1].Values, want)
	}

	for _, tc := range []struct{ name, csv, err string }{
		{"other columns", "phone,name\n+919876543212,Ravi\n", "campaign already has leads with columns [phone, first_name, company, policy_type, renewal_date, premium]; this file has [phone, name]"},
		{"renamed column", "phone,first_name,company,policy_type,renewal_date,amount\n+919876543212,Ravi,A,B,C,1\n", `this file lacks "premium"`},
	} {
		_, err := impImportFile(t, e, c.Name, impWriteFile(t, "c.csv", tc.csv), engine.ImportOptions{})
		if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v; want invalid containing %q", tc.name, err, tc.err)
		}
	}
	impCheckStored(t, e, c.Name, 2)
}

// A number on the do-not-call list is counted in the summary but imported:
// the list is checked again when the lead is claimed.
func TestImportDNCMatches(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	if _, err := e.DNCAdd([]string{"98765 43212", "+919876543213"}, "IN", "test"); err != nil {
		t.Fatal(err)
	}
	c := impCampaign(t, e, "dnc", "IN")
	sum, err := impImportFile(t, e, c.Name, "../testdata/csv/quoted_multiline.csv", engine.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.DNCMatches != 2 || sum.Imported != 4 || len(sum.Errors) != 0 {
		t.Errorf("dncMatches %d, imported %d, errors %+v; want 2, 4, none", sum.DNCMatches, sum.Imported, sum.Errors)
	}
	impCheckStored(t, e, c.Name, 4)
}

// examples/leads.csv is US numbers in every common way of writing them.
func TestImportExampleLeads(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	c := impCampaign(t, e, "example", "")
	sum, err := impImportFile(t, e, c.Name, "../examples/leads.csv", engine.ImportOptions{Region: "us"})
	if err != nil {
		t.Fatal(err)
	}
	impCheckSummary(t, sum, impWant{rows: 20, imported: 20,
		variables:   []string{"first_name", "company", "policy_type", "renewal_date", "premium"},
		phoneColumn: "phone", delimiter: "comma", region: "US", regionSource: impSrcFlag})
	for _, l := range impLeads(t, e, c.ID) {
		if !strings.HasPrefix(l.Phone, "+1") || len(l.Phone) != 12 {
			t.Errorf("lead %d phone %q; want a +1 number", l.ID, l.Phone)
		}
	}
	impCheckStored(t, e, c.Name, 20)
	if w, err := e.WhyNotPhone(c.Name, "+1 (415) 873-4196"); err != nil || w.Phone != "+14158734196" {
		t.Errorf("WhyNotPhone = %+v, %v; want +14158734196", w, err)
	}
}

// --region wins over the campaign's defaultRegion, and the summary says
// which one was used; with neither, a number without + is refused with the
// "no country code" reason while +numbers import.
func TestImportRegion(t *testing.T) {
	const file = "../testdata/csv/foreign_in.csv"
	base := impWant{variables: []string{"name"}, missing: []string{"company", "first_name", "policy_type"}, phoneColumn: "phone", delimiter: "comma"}
	t.Run("flag overrides campaign", func(t *testing.T) {
		e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
		c := impCampaign(t, e, "r", "IN")
		sum, err := impImportFile(t, e, c.Name, file, engine.ImportOptions{Region: "US"})
		if err != nil {
			t.Fatal(err)
		}
		w := base
		w.rows, w.imported, w.region, w.regionSource = 4, 4, "US", impSrcFlag
		impCheckSummary(t, sum, w)
		leads := impLeads(t, e, c.ID)
		if got := leads[len(leads)-1].Phone; got != "+14155552671" {
			t.Errorf("4155552671 with --region US stored as %q; want +14155552671", got)
		}
	})
	t.Run("campaign default", func(t *testing.T) {
		e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
		c := impCampaign(t, e, "r", "IN")
		sum, err := impImportFile(t, e, c.Name, file, engine.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := base
		w.rows, w.imported, w.region, w.regionSource = 4, 4, "IN", impSrcCampaign
		impCheckSummary(t, sum, w)
	})
	t.Run("none", func(t *testing.T) {
		e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
		c := impCampaign(t, e, "r", "")
		sum, err := impImportFile(t, e, c.Name, file, engine.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w := base
		w.rows, w.imported, w.invalid, w.region, w.regionSource = 4, 3, 1, "", impSrcNone
		w.errs = []impErr{{5, `phone "4155552671": no country code: write the number as +<country code><number> or set a default region`}}
		impCheckSummary(t, sum, w)
	})
	t.Run("bad flag", func(t *testing.T) {
		e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
		c := impCampaign(t, e, "r", "IN")
		_, err := impImportFile(t, e, c.Name, file, engine.ImportOptions{Region: "XX"})
		if err == nil || !strings.Contains(err.Error(), "--region") || !strings.Contains(err.Error(), `"XX"`) {
			t.Errorf("err = %v; want a --region error naming XX", err)
		}
		impCheckStored(t, e, c.Name, 0)
	})
}

// The phone column is found by name (any case, common synonyms) or named
// explicitly; without one the error lists the file's columns.
func TestImportPhoneColumn(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	c := impCampaign(t, e, "pc", "IN")
	two := "name,work,home\nArjun,+919876543210,+919876543211\n"
	sum, err := impImportFile(t, e, c.Name, impWriteFile(t, "two.csv", two), engine.ImportOptions{PhoneColumn: "HOME"})
	if err != nil {
		t.Fatal(err)
	}
	impCheckSummary(t, sum, impWant{rows: 1, imported: 1, variables: []string{"name", "work"},
		missing: []string{"company", "first_name", "policy_type"}, phoneColumn: "home", delimiter: "comma", region: "IN", regionSource: impSrcCampaign})
	c, _ = e.Campaign(c.Name)
	if c.PhoneColumn != 2 || impLeads(t, e, c.ID)[0].Phone != "+919876543211" {
		t.Errorf("phone column %d, lead %q; want 2, +919876543211", c.PhoneColumn, impLeads(t, e, c.ID)[0].Phone)
	}
	if w, err := e.WhyNotPhone(c.Name, "+919876543211"); err != nil || w.LeadID != 1 {
		t.Errorf("WhyNotPhone = %+v, %v; want lead 1", w, err)
	}

	c2 := impCampaign(t, e, "pc2", "IN")
	sum, err = impImportFile(t, e, c2.Name, impWriteFile(t, "mobile.csv", "Name,Mobile Number\nPriya,98765 43210\n"), engine.ImportOptions{})
	if err != nil || sum.PhoneColumn != "Mobile Number" || sum.Imported != 1 {
		t.Errorf("synonym header: %+v, %v; want phone column %q, 1 imported", sum, err, "Mobile Number")
	}

	c3 := impCampaign(t, e, "pc3", "IN")
	_, err = impImportFile(t, e, c3.Name, impWriteFile(t, "none.csv", "name,contact\nArjun,+919876543210\n"), engine.ImportOptions{})
	if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), "no phone column found") ||
		!strings.Contains(err.Error(), "--phone-column") || !strings.Contains(err.Error(), "(columns: name, contact)") {
		t.Errorf("err = %v; want no phone column, naming the columns and --phone-column", err)
	}
	_, err = impImportFile(t, e, c3.Name, impWriteFile(t, "none.csv", "name,contact\nArjun,+919876543210\n"), engine.ImportOptions{PhoneColumn: "tel"})
	if !errors.Is(err, engine.ErrInvalid) || !strings.Contains(err.Error(), `phone column "tel" not in header (columns: name, contact)`) {
		t.Errorf("err = %v; want the named column missing, naming the columns", err)
	}
	impCheckStored(t, e, c3.Name, 0)
}

// Leads can only be imported into a draft: a running (or paused) campaign
// refuses, naming its state, and keeps its leads.
func TestImportRefusedOutsideDraft(t *testing.T) {
	e, _ := impNewEngine(t, impBusyPlacer{}, 10, 10)
	c := impCampaign(t, e, "life", "IN")
	path := impWriteFile(t, "spec.csv", impSpecCSV)
	if _, err := impImportFile(t, e, c.Name, path, engine.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(c.Name); err != nil {
		t.Fatal(err)
	}
	more := impWriteFile(t, "more.csv", "phone,first_name,company,policy_type,renewal_date,premium\n+919876543211,Priya,Acme,Life,2026-06-01,1\n")
	for _, step := range []struct {
		state engine.CampaignState
		move  func(string) error
	}{{engine.StateRunning, nil}, {engine.StatePaused, e.Pause}} {
		if step.move != nil {
			if err := step.move(c.Name); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := impImportFile(t, e, c.Name, more, engine.ImportOptions{})
		var ref *engine.RefusalError
		if !errors.As(err, &ref) || !errors.Is(err, engine.ErrRefused) || ref.State != step.state || ref.Action != engine.ActImport || sum != nil {
			t.Errorf("%s: import = %+v, %v; want refused import naming the state", step.state, sum, err)
		}
		if !strings.Contains(fmt.Sprint(err), "it is "+string(step.state)) {
			t.Errorf("%s: err %q does not say the state", step.state, err)
		}
	}
	r, err := e.Report(c.Name)
	if err != nil || r.Leads != 1 {
		t.Errorf("report = %+v, %v; want 1 lead", r, err)
	}
}
