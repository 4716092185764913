// Package hostsetup implements lvsadm's host-setup commands: VIP addresses,
// the ARP, forwarding, redirect and reverse-path knobs around LVS, and whole
// director and real-server roles that apply them in a safe order, record
// every value they change (including the kernel's own side effects) and put
// each one back on the way down.
//
// State lives in /run/lvsadm/netns-INODE.json, one file per network
// namespace, written atomically under an flock in a directory only root can
// write. Every change is recorded as intended before it is made and as made
// right after, so that down can undo whatever a crash or a kill leaves;
// SIGINT and SIGTERM stop up and down after the step under way. A state
// file left by a namespace that no longer exists (its inode number reused)
// is moved aside. All of it acts on the network namespace of the calling
// thread, and needs Linux.
package hostsetup

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lvsadm/lvsadm/cmd/internal/exitcode"
	"github.com/spf13/cobra"
)

// ExitError carries the exit status for lvsadm's main. Every error the
// commands return is one. The message starts with the command path without
// "lvsadm" ("vip add: ...") and has no "lvsadm:" prefix.
type ExitError = exitcode.Error

// Exit statuses. A signal that stops up or down gives 128 + its number.
const (
	ExitFailure  = 1 // the operation failed or was refused
	ExitUsage    = 2 // the command line is wrong
	ExitProblems = 3 // status found values that are wrong for the role
)

// cmdPath is the command's path without the program name: "vip add".
func cmdPath(cmd *cobra.Command) string {
	p := cmd.CommandPath()
	if cmd.HasParent() {
		p = strings.TrimPrefix(p, cmd.Root().Name()+" ")
	}
	return p
}

// commandError gives err its exit status and starts its message with the
// command path, once.
func commandError(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	code := ExitFailure
	var ee *ExitError
	var ue usageError
	switch {
	case errors.As(err, &ee):
		code, err = ee.Code, ee.Err
	case errors.As(err, &ue):
		code = ExitUsage
	}
	if p := cmdPath(cmd); !strings.HasPrefix(err.Error(), p) {
		err = fmt.Errorf("%s: %w", p, err)
	}
	return &ExitError{Code: code, Err: err}
}

// Commands returns the host-setup commands (vip, arp, forward, redirects,
// rpfilter, director, realserver), built afresh on every call, for the
// lvsadm root command. They write only to stdout and stderr and return
// *ExitError values instead of printing errors. stderr gets warnings; if
// stdout is buffered, stderr must flush it first.
func Commands(stdout, stderr io.Writer) []*cobra.Command {
	return newCommands(defaultEnv(), stdout, stderr)
}

func newCommands(e env, stdout, stderr io.Writer) []*cobra.Command {
	r := &runner{env: e, out: stdout, errw: stderr}
	cmds := []*cobra.Command{
		vipCommand(r),
		roleCommand(r, roleARP),
		roleCommand(r, roleForward),
		roleCommand(r, roleRedirects),
		roleCommand(r, roleRPFilter),
		roleCommand(r, roleDirector),
		roleCommand(r, roleRealServer),
	}
	for _, c := range cmds {
		c.SetOut(stdout)
		c.SetErr(stderr)
		quiet(c)
	}
	return cmds
}

// quiet makes cobra leave error printing and exit codes to lvsadm's main.
func quiet(c *cobra.Command) {
	c.SilenceErrors = true
	c.SilenceUsage = true
	c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return commandError(cmd, usageError{err})
	})
	for _, sub := range c.Commands() {
		quiet(sub)
	}
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return commandError(cmd, usagef("expected %s", what))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return commandError(cmd, usagef("unexpected argument %q", args[0]))
	}
	return nil
}

// group is a parent command that only holds subcommands; an unknown one
// gets cobra's suggestions, as at the top level.
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	var names []string
	for _, s := range subs {
		names = append(names, s.Name())
	}
	c := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long,
		Example: example,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return &ExitError{Code: ExitUsage, Err: unknownCommand(cmd, args[0])}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return commandError(cmd, usagef("missing subcommand: %s (see 'lvsadm %s --help')", orList(names), cmdPath(cmd)))
		},
	}
	c.AddCommand(subs...)
	return c
}

// unknownCommand words the error as cobra does for the root command.
func unknownCommand(cmd *cobra.Command, arg string) error {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	msg := fmt.Sprintf("unknown command %q for %q", arg, cmd.CommandPath())
	if s := cmd.SuggestionsFor(arg); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t") + "\n"
	}
	return errors.New(msg)
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// needRoot refuses, before anything is read or locked, a command that
// changes the system when lvsadm does not run as root.
func (r *runner) needRoot() error {
	if r.env.euid() != 0 {
		return errors.New("must be run as root, as it changes the system (--dry-run shows what it would do)")
	}
	return nil
}
