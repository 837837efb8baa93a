package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func cmdWebhooksList(g *globals, args []string) error {
	ref, asJSON, err := oneCampaign("webhooks list", args, nil)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		evs, err := a.eng.Webhooks(ref)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(g.stdout, evs)
		}
		if len(evs) == 0 {
			fmt.Fprintln(g.stdout, "nothing waiting: every event of this campaign was delivered (or it has no webhookUrl)")
			return nil
		}
		tw := tabwriter.NewWriter(g.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tID\tTYPE\tLEAD\tSTATE\tTRIES\tNEXT TRY\tLAST ERROR")
		for _, ev := range evs {
			next := ev.NextTry.Local().Format(time.DateTime)
			if !ev.State.Undelivered() {
				next = "-"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", ev.Seq, ev.ID, ev.Type, ev.LeadID, ev.State, ev.Attempts, next, oneLine(ev.LastError))
		}
		return tw.Flush()
	})
}

func cmdWebhooksReplay(g *globals, args []string) error {
	fs := flag.NewFlagSet("webhooks replay", flag.ContinueOnError)
	seqs := fs.String("seq", "", "replay only these events (comma-separated seq numbers from webhooks list); default: every dead one")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: dialdeck webhooks replay <campaign> [--seq 3,7]")
	}
	var want []uint64
	for _, f := range strings.FieldsFunc(*seqs, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return usagef("--seq %q: want numbers such as 3,7", *seqs)
		}
		want = append(want, n)
	}
	return withApp(g, func(a *app) error {
		n, err := a.eng.ReplayWebhooks(pos[0], want)
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%d events queued again (same webhook-id); they are sent now and by the running engine\n", n)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		a.eng.DeliverWebhooks(ctx)
		left, err := a.eng.Webhooks(pos[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "%d events still waiting (dialdeck webhooks list shows why)\n", len(left))
		return nil
	})
}

func cmdWebhooksTest(g *globals, args []string) error {
	ref, _, err := oneCampaign("webhooks test", args, nil)
	if err != nil {
		return err
	}
	return withApp(g, func(a *app) error {
		status, excerpt, err := a.eng.TestWebhook(context.Background(), ref)
		if err != nil {
			return fmt.Errorf("webhooks test: %w", err)
		}
		fmt.Fprintf(g.stdout, "receiver answered HTTP %d %s\n", status, oneLine(excerpt))
		if status < 200 || status > 299 {
			return fmt.Errorf("webhooks test: the receiver did not accept the event (HTTP %d)", status)
		}
		return nil
	})
}
