// Command dialdeck runs outbound AI-voice campaigns from a terminal: it loads
// leads from CSV, dials them on a controlled schedule, bridges each call to
// an AI voice agent and records the outcome per lead.
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	_ "time/tzdata" // a dialer box without /usr/share/zoneinfo still knows every zone
)

// defaultConfig is example.toml: the built-in default configuration.
//
//go:embed example.toml
var defaultConfig []byte

// version is stamped by the build (-ldflags "-X main.version=...").
var version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitErr   = 1
	exitUsage = 2
)

// usageError marks a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// globals are the flags every command takes.
type globals struct {
	config   string
	db       string
	readonly bool // --readonly: the TUI shows but changes nothing
	stdout   io.Writer
	stderr   io.Writer
	stdin    io.Reader
}

type command struct {
	name    string
	args    string
	summary string
	run     func(g *globals, args []string) error
}

func commands() []command {
	return []command{
		{"config check", "[file]", "validate a config file and summarise it", cmdConfigCheck},
		{"campaign create", "-f body.json [--json]", "create a draft campaign from the spec's JSON body; prints its id", cmdCampaignCreate},
		{"campaign list", "[--json]", "list campaigns with state and progress", cmdCampaignList},
		{"campaign show", "<campaign> [--json]", "show a campaign's settings and report", cmdCampaignShow},
		{"campaign edit", "<campaign> -f body.json", "replace a draft or scheduled campaign's settings", cmdCampaignEdit},
		{"campaign delete", "<campaign>", "delete a draft, completed or failed campaign", cmdCampaignDelete},
		{"campaign start", "<campaign>", "start dialing (draft or scheduled)", cmdLifecycle("start")},
		{"campaign pause", "<campaign>", "stop placing new calls (live calls finish)", cmdLifecycle("pause")},
		{"campaign resume", "<campaign>", "resume a paused campaign", cmdLifecycle("resume")},
		{"campaign stop", "<campaign>", "end a campaign for good (state completed)", cmdLifecycle("stop")},
		{"campaign schedule", "<campaign> [--at RFC3339]", "start automatically at scheduledStartAt", cmdCampaignSchedule},
		{"leads import", "<campaign> <file.csv> [--region IN] [--phone-column C] [--delimiter ';'] [--json]", "import leads from CSV ('-' reads stdin)", cmdLeadsImport},
		{"leads why", "<campaign> <phone|#leadId> [--json]", "explain why a lead is or is not being dialed", cmdLeadsWhy},
		{"report", "<campaign> [--json]", "per-status and per-disposition counts", cmdReport},
		{"export", "<campaign> [-o file.csv]", "every lead with its outcome, as CSV", cmdExport},
		{"attempts", "<campaign> [--lead ID] [--json]", "every call attempt with its outcome and transcript", cmdAttempts},
		{"dnc add", "<phone>... [--region US]", "add numbers to the do-not-call list", cmdDNCAdd},
		{"dnc remove", "<phone>... [--region US]", "remove numbers from the do-not-call list", cmdDNCRemove},
		{"dnc import", "<file> [--region US]", "add every number in a file (one per line, or first CSV column)", cmdDNCImport},
		{"dnc list", "[--filter TEXT] [--json]", "list the do-not-call list", cmdDNCList},
		{"webhooks list", "<campaign> [--json]", "events waiting for delivery: pending, failing (last error), dead", cmdWebhooksList},
		{"webhooks replay", "<campaign> [--seq N,M]", "queue dead events again (same webhook-id) and send them", cmdWebhooksReplay},
		{"webhooks test", "<campaign>", "send one signed campaign.test event to the campaign's webhookUrl", cmdWebhooksTest},
		{"run", "--headless [--exit-when-done]", "run the dialing engine without the UI, logging to stdout", cmdRun},
		{"db check", "", "verify the database invariants (non-zero exit if broken)", cmdDBCheck},
		{"sip test", "<carrier-id> <E.164> [--ring-timeout D] [--talk D] [--agent ID]", "place one test call through a SIP trunk, printing each SIP step and the result (non-zero exit if not answered)", cmdSIPTest},
		{"agent-sim", "--listen 127.0.0.1:PORT", "run the built-in simulated AI agent (WebRTC, loopback) on its own", cmdAgentSim},
		{"simulate", "<campaign> [--from RFC3339] [--json]", "dry-run a campaign on a virtual clock (touches nothing)", cmdSimulate},
		{"version", "", "print the version", func(g *globals, _ []string) error { fmt.Fprintln(g.stdout, "dialdeck", version); return nil }},
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `dialdeck - outbound AI-voice campaigns from a terminal

Usage:
  dialdeck [--config FILE] [--db FILE] [--readonly]   open the live TUI
  dialdeck [--config FILE] [--db FILE] COMMAND ...

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-18s %s\n  %-18s   %s\n", c.name, c.args, "", c.summary)
	}
	fmt.Fprint(w, `
Global flags (before or after the command):
  --config FILE   config file (default: ./dialdeck.toml, else the built-in example.toml)
  --db FILE       database file (overrides [engine] database)
  --readonly      TUI only: watch, with every action key disabled

A <campaign> is an id or an exact name. Exit status: 0 ok, 1 error, 2 usage.
`)
}

func main() {
	g := &globals{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin}
	os.Exit(runMain(g, os.Args[1:]))
}

// runMain parses global flags, dispatches and maps errors to exit codes.
func runMain(g *globals, args []string) int {
	rest, err := parseGlobals(g, args)
	if err != nil {
		fmt.Fprintln(g.stderr, "dialdeck:", err)
		return exitUsage
	}
	if len(rest) == 0 {
		return runTUI(g)
	}
	if rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(g.stdout)
		return exitOK
	}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			err := c.run(g, rest[len(words):])
			return report(g, err)
		}
	}
	// A group name alone ("dialdeck campaign") lists its subcommands.
	var group []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, rest[0]+" ") {
			group = append(group, fmt.Sprintf("  dialdeck %s %s", c.name, c.args))
		}
	}
	if len(group) > 0 {
		fmt.Fprintf(g.stderr, "dialdeck %s: which one?\n%s\n", rest[0], strings.Join(group, "\n"))
		return exitUsage
	}
	fmt.Fprintf(g.stderr, "dialdeck: unknown command %q (dialdeck help lists them)\n", strings.Join(rest, " "))
	return exitUsage
}

func report(g *globals, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(g.stderr, "dialdeck:", err)
		}
		return exitUsage
	}
	fmt.Fprintln(g.stderr, "dialdeck:", err)
	return exitErr
}

// parseGlobals takes --config, --db and --readonly from anywhere in args.
func parseGlobals(g *globals, args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "readonly" {
			// A boolean flag: --readonly, or --readonly=false to undo it.
			ro := true
			if hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, fmt.Errorf("flag --readonly takes true or false, not %q", val)
				}
				ro = b
			}
			g.readonly = ro
			continue
		}
		if !strings.HasPrefix(a, "-") || (name != "config" && name != "db") {
			rest = append(rest, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		if name == "config" {
			g.config = val
		} else {
			g.db = val
		}
	}
	return rest, nil
}

// parseFlags parses a command's flags wherever they appear among its
// positional arguments (Go's flag package stops at the first positional).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usagef("flags of this command:\n%s", flagHelp(fs))
			}
			return nil, usagef("%v\n%s", err, flagHelp(fs))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(&b, "  --%s  %s\n", f.Name, f.Usage)
	})
	return strings.TrimRight(b.String(), "\n")
}
