package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dialdeck/dialdeck/engine"
)

func cmdLeadsImport(g *globals, args []string) error {
	fs := flag.NewFlagSet("leads import", flag.ContinueOnError)
	region := fs.String("region", "", "default region (ISO 3166, e.g. IN) for numbers without a country code; overrides the campaign's defaultRegion")
	phoneCol := fs.String("phone-column", "", "name of the phone column (default: found by name: phone, phone_number, mobile, number, msisdn)")
	delim := fs.String("delimiter", "", "field delimiter: , ; tab | (default: sniffed from the header)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: dialdeck leads import <campaign> <file.csv> [--region IN] [--phone-column C]")
	}
	var d rune
	switch strings.ToLower(*delim) {
	case "":
	case ",", "comma":
		d = ','
	case ";", "semicolon":
		d = ';'
	case "tab", "\\t", "\t":
		d = '\t'
	case "|", "pipe":
		d = '|'
	default:
		return usagef("--delimiter %q: use , ; tab or |", *delim)
	}
	var in io.Reader
	if pos[1] == "-" {
		in = g.stdin
	} else {
		f, err := os.Open(pos[1])
		if err != nil {
			return fmt.Errorf("import leads: %w", err)
		}
		defer f.Close()
		in = f
	}
	return withApp(g, func(a *app) error {
		sum, err := a.eng.ImportLeads(pos[0], in, engine.ImportOptions{Region: *region, PhoneColumn: *phoneCol, Delimiter: d})
		if sum != nil {
			if *asJSON {
				if werr := writeJSON(g.stdout, sum); werr != nil {
					return werr
				}
			} else {
				printImport(g.stdout, sum)
			}
		}
		return err
	})
}

func printImport(w io.Writer, s *engine.ImportSummary) {
	fmt.Fprintf(w, "Imported %d of %d rows in %.1fs\n", s.Imported, s.Rows, s.Seconds)
	fmt.Fprintf(w, "  phone column     %s (delimiter: %s)\n", s.PhoneColumn, s.Delimiter)
	region := s.Region
	if region == "" {
		region = "none"
	}
	fmt.Fprintf(w, "  default region   %s (from %s)\n", region, s.RegionSource)
	fmt.Fprintf(w, "  duplicates       %d\n  invalid numbers  %d\n  blank rows       %d\n  ragged rows      %d\n", s.Duplicates, s.Invalid, s.Blank, s.Ragged)
	fmt.Fprintf(w, "  on DNC list      %d (imported; they are never dialed)\n", s.DNCMatches)
	fmt.Fprintf(w, "  variables        %s\n", orNone(strings.Join(s.Variables, ", ")))
	if len(s.MissingVariables) > 0 {
		fmt.Fprintf(w, "  WARNING: the agent's prompt uses variables this CSV lacks (they will be spoken as blanks): %s\n", strings.Join(s.MissingVariables, ", "))
	}
	if len(s.Errors) > 0 {
		fmt.Fprintln(w, "Skipped rows:")
		for _, e := range s.Errors {
			fmt.Fprintf(w, "  line %d: %s\n", e.Line, e.Reason)
		}
		if s.ErrorsOmitted > 0 {
			fmt.Fprintf(w, "  ... and %d more (use --json for the first %d)\n", s.ErrorsOmitted, len(s.Errors))
		}
	}
}

func cmdLeadsWhy(g *globals, args []string) error {
	fs := flag.NewFlagSet("leads why", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("usage: dialdeck leads why <campaign> <phone|#leadId>")
	}
	return withApp(g, func(a *app) error {
		w, err := a.eng.WhyNotPhone(pos[0], pos[1])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.stdout, w)
		}
		fmt.Fprintf(g.stdout, "lead %d %s: %s (status %s, attempts %d/%d)\n", w.LeadID, w.Phone, w.Message, w.Status, w.Attempts, w.MaxAttempts)
		if w.LastCall != nil {
			fmt.Fprintf(g.stdout, "  last call: %s\n", w.LastCall)
		}
		if w.Until != nil {
			fmt.Fprintf(g.stdout, "  until %s\n", w.Until.Format(time.RFC3339))
		}
		return nil
	})
}
