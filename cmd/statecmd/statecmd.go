// Package statecmd implements lvsadm's desired-state commands: plan, apply,
// export and list. They read a table the user wants (package desired),
// compare it with the kernel's and change only what differs (package
// reconcile).
package statecmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/compat"
	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/exitcode"
	"github.com/lvsadm/lvsadm/cmd/reconcile"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Env is what the commands use outside the process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Dial connects to the kernel's IPVS, loading the module if need be.
	Dial func() (*ipvs.Client, error)
	// OpenProc opens /proc/net/ip_vs.
	OpenProc func() (io.ReadCloser, error)
	// Parser parses rules, with the system's names.
	Parser compat.Parser
	// Ipvsadm runs an ipvsadm command line with this Env's streams and
	// returns its exit status (export -o rules is ipvsadm -Sn).
	Ipvsadm func(args ...string) int
}

// ExitError carries a command's exit status.
type ExitError = exitcode.Error

// Exit statuses.
const (
	exitChanges = 2 // plan: changes are pending
	exitFailure = 1
)

// failure is err with status 1. A message of several lines (one per
// problem) gets lvsadm's prefix on each, as lvsadm prints the first.
func failure(err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		err = errors.New(strings.ReplaceAll(msg, "\n", "\nlvsadm: "))
	}
	return &ExitError{Code: exitFailure, Err: err}
}

// Commands returns plan, apply, export and list, built afresh.
func Commands(e Env) []*cobra.Command {
	cmds := []*cobra.Command{planCommand(e), applyCommand(e), exportCommand(e), listCommand(e)}
	for _, c := range cmds {
		c.SilenceErrors, c.SilenceUsage = true, true
		// Flag mistakes exit 1: plan's 2 means changes are pending.
		c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &ExitError{Code: exitFailure, Err: err} })
	}
	return cmds
}

// tableFlags are the options that name the desired table.
type tableFlags struct {
	file, format string
	prune        bool
	fullRead     bool
}

func (f *tableFlags) add(c *cobra.Command) {
	c.Flags().StringVarP(&f.file, "file", "f", "", "the desired table: a file, or - for standard input (required)")
	c.Flags().StringVar(&f.format, "format", "", "the file's format: rules, yaml or json (default: from its content)")
	c.Flags().BoolVar(&f.prune, "prune", false, "also remove services the file does not name")
	c.Flags().BoolVar(&f.fullRead, "full-read", false, "read every real server over netlink, to see thresholds /proc/net/ip_vs does not show")
}

// load reads the desired table's file, unparsed.
func (f *tableFlags) load(e Env) (name string, data []byte, format desired.Format, err error) {
	if f.file == "" {
		return "", nil, "", errors.New("give the desired table with -f FILE (- for standard input)")
	}
	if f.format != "" {
		if format, err = desired.ParseFormat(f.format); err != nil {
			return "", nil, "", err
		}
	}
	name = f.file
	if f.file == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(e.Stdin)
	} else {
		data, err = os.ReadFile(f.file)
	}
	return name, data, format, err
}

// plan reads the desired table and the kernel's, and plans. The kernel is
// read while the file is parsed, on another CPU if there is one: on a large
// table each is a good part of the time. A file's error comes first.
func (f *tableFlags) plan(e Env) (*ipvs.Client, *reconcile.Plan, string, error) {
	name, data, format, err := f.load(e)
	if err != nil {
		return nil, nil, "", err
	}
	o := reconcile.Options{Prune: f.prune, FullRead: f.fullRead}
	type read struct {
		k   *reconcile.Kernel
		err error
	}
	kernel := make(chan read, 1)
	c, dialErr := e.Dial()
	if dialErr == nil {
		go func() {
			k, err := reconcile.ReadKernel(c, e.OpenProc, o)
			kernel <- read{k, err}
		}()
	}
	want, err := desired.Parse(name, data, format, e.Parser)
	switch {
	case err != nil && dialErr == nil:
		// A read under way cannot be cut short: report the file now and
		// close the client when the read ends.
		go func() { <-kernel; c.Close() }()
		return nil, nil, "", err
	case err != nil:
		return nil, nil, "", err
	case dialErr != nil:
		return nil, nil, "", dialErr
	}
	r := <-kernel
	var p *reconcile.Plan
	if err = r.err; err == nil {
		p, err = r.k.Plan(want, o)
	}
	if err != nil {
		c.Close()
		return nil, nil, "", fmt.Errorf("reading the kernel's table: %w", err)
	}
	return c, p, name, nil
}

func planCommand(e Env) *cobra.Command {
	var f tableFlags
	var output string
	c := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show what apply would change to make the kernel's table FILE's",
		Long: `Read the desired table from FILE (ipvsadm rules as ipvsadm-save writes them,
or lvsadm's YAML or JSON format, see docs/config.md), read the kernel's table
once, and print the changes that would make the kernel's table the desired
one: "+" adds, "~" edits in place, "-" removes, each as the ipvsadm command
that would do it. A service FILE names is owned by it whole: real servers it
does not list are removed. Services it does not name are left alone unless
--prune.

Exit status: 0 when nothing differs, 2 when changes are pending, 1 on error.`,
		Example: `  lvsadm plan -f /etc/ipvsadm.rules
  lvsadm plan -f lvs.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return failure(fmt.Errorf("-o %s: want text or json", output))
			}
			c, p, _, err := f.plan(e)
			if err != nil {
				return failure(err)
			}
			defer c.Close()
			if output == "json" {
				b, err := desired.MarshalJSON(p.JSON())
				if err != nil {
					return failure(err)
				}
				if _, err := e.Stdout.Write(b); err != nil {
					return failure(err)
				}
			} else if err := p.WriteText(e.Stdout, 0); err != nil {
				return failure(err)
			}
			if !p.Empty() {
				return &ExitError{Code: exitChanges, Err: errChangesPending}
			}
			return nil
		},
	}
	f.add(c)
	c.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return c
}

// errChangesPending is plan's status 2; it prints nothing.
var errChangesPending = errors.New("")

// ChangesPending reports plan's quiet exit with changes pending.
func ChangesPending(err error) bool { return errors.Is(err, errChangesPending) }

func applyCommand(e Env) *cobra.Command {
	var f tableFlags
	var drain time.Duration
	var dryRun bool
	c := &cobra.Command{
		Use:   "apply -f FILE",
		Short: "Make the kernel's table FILE's, changing only what differs",
		Long: `Make the kernel's IPVS table the one in FILE (see 'lvsadm plan --help'),
without disrupting traffic: whatever the kernel lets be edited in place is
edited (a service's scheduler, flags, persistence; a real server's method,
weight, thresholds, tunnel), so counters, persistence and connections
survive; only what cannot be edited is removed and added.

A real server that goes is drained with --drain-timeout: it is set to weight 0
at once (no new connections) and deleted once its active and inactive
connections have ended, or when the timeout has passed; apply waits in the
foreground, printing progress. Without it, it is deleted at once, as ipvsadm
does.

All changes go to the kernel in batches. If the kernel refuses any, nothing
more is sent and the ones it made are undone, so the kernel is as it was, and
apply says what was refused and where FILE defines it, and exits 1. Applying a file the kernel
already matches sends nothing.`,
		Example: `  lvsadm apply -f /etc/ipvsadm.rules
  lvsadm apply -f lvs.yaml --drain-timeout 30s
  lvsadm apply -f lvs.yaml --prune --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, name, err := f.plan(e)
			if err != nil {
				return failure(err)
			}
			defer c.Close()
			if p.Empty() {
				fmt.Fprintf(e.Stdout, "No changes: the kernel's table already matches %s; nothing was sent.\n", name)
				return nil
			}
			if err := p.WriteText(e.Stdout, drain); err != nil {
				return failure(err)
			}
			if dryRun {
				fmt.Fprintln(e.Stdout, "Dry run: nothing was changed.")
				return nil
			}
			err = reconcile.Apply(c, p, reconcile.ApplyOptions{
				DrainTimeout: drain,
				Progress:     func(line string) { fmt.Fprintln(e.Stdout, line) },
			})
			if err != nil {
				return failure(applyFailure(err, name))
			}
			add, change, remove := p.Counts()
			fmt.Fprintf(e.Stdout, "Applied: %d added, %d changed, %d removed.\n", add, change, remove)
			return nil
		},
	}
	f.add(c)
	c.Flags().DurationVar(&drain, "drain-timeout", 0, "drain removed real servers for up to this long (e.g. 30s) before deleting them; 0 deletes at once")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	return c
}

// applyFailure says what a failed apply left.
func applyFailure(err error, name string) error {
	var ae *reconcile.ApplyError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case len(ae.Failed) == 0 && ae.Err != nil && !ae.RolledBack && ae.RollbackErr == nil:
		return err // a drain step: the batch was made
	case ae.RolledBack:
		return fmt.Errorf("%w\nevery change that had been made was undone: the kernel's table is as it was", err)
	}
	return fmt.Errorf("%w\nundoing the changes made failed too (%v): the kernel's table is neither as it was nor as %s says; see 'lvsadm plan -f %s'", err, ae.RollbackErr, name, name)
}
