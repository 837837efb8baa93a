package main

import (
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

func dncFlags(name string, args []string) (pos []string, region string, asJSON bool, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	r := fs.String("region", "", "default region (ISO 3166) for numbers without a country code")
	j := fs.Bool("json", false, "print JSON")
	pos, err = parseFlags(fs, args)
	return pos, *r, *j, err
}

func cmdDNCAdd(g *globals, args []string) error {
	pos, region, _, err := dncFlags("dnc add", args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("usage: dialdeck dnc add <phone>... [--region US]")
	}
	return withApp(g, func(a *app) error {
		added, err := a.eng.DNCAdd(pos, region, "cli")
		if err != nil {
			return err
		}
		for _, p := range added {
			fmt.Fprintf(g.stdout, "added %s\n", p)
		}
		return nil
	})
}

func cmdDNCRemove(g *globals, args []string) error {
	pos, region, _, err := dncFlags("dnc remove", args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("usage: dialdeck dnc remove <phone>... [--region US]")
	}
	return withApp(g, func(a *app) error {
		removed, err := a.eng.DNCRemove(pos, region)
		if err != nil {
			return err
		}
		for _, p := range removed {
			fmt.Fprintf(g.stdout, "removed %s\n", p)
		}
		if len(removed) < len(pos) {
			fmt.Fprintf(g.stdout, "%d of the numbers were not on the list\n", len(pos)-len(removed))
		}
		return nil
	})
}

func cmdDNCImport(g *globals, args []string) error {
	pos, region, asJSON, err := dncFlags("dnc import", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: dialdeck dnc import <file> [--region US]")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("dnc import: %w", err)
	}
	defer f.Close()
	return withApp(g, func(a *app) error {
		sum, err := a.eng.DNCImport(f, region, "file "+pos[0])
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(g.stdout, sum)
		}
		fmt.Fprintf(g.stdout, "added %d numbers, %d invalid\n", sum.Added, sum.Invalid)
		for _, e := range sum.Errors {
			fmt.Fprintf(g.stdout, "  line %d: %s\n", e.Line, e.Reason)
		}
		return nil
	})
}

func cmdDNCList(g *globals, args []string) error {
	fs := flag.NewFlagSet("dnc list", flag.ContinueOnError)
	filter := fs.String("filter", "", "only numbers or sources containing this text")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("dnc list takes no arguments (use --filter)")
	}
	return withApp(g, func(a *app) error {
		list, total, err := a.eng.DNCList(*filter, 0)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.stdout, list)
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PHONE\tADDED\tSOURCE")
		for _, e := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Phone, e.AddedAt.Local().Format(time.DateTime), e.Source)
		}
		tw.Flush()
		fmt.Fprintf(g.stdout, "%d shown, %d on the list\n", len(list), total)
		return nil
	})
}
