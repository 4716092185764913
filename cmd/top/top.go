// Package top implements lvsadm top, a live full-screen view of the IPVS
// services and real servers with rates lvsadm computes from the kernel's
// 64-bit counters (so they work with the kernel's estimator off), and
// with lvsadm run's health states when it is running.
//
// The screen is drawn with bubbletea and lipgloss: the Go field's usual
// terminal-UI pair, which handles raw mode, resizing and key decoding.
//
// Each refresh is one service dump plus one read of /proc/net/ip_vs (as
// lvsadm -Ln reads the table), and one netlink dump of real servers for
// each expanded service on screen, whose real servers' counters /proc does
// not show; only the rows on screen are drawn. A real server's rates thus
// show "-" until its service has been on screen, expanded, for two reads
// (expanding reads at once, so one interval).
//
// lvsadm top --once (or with stdout not a terminal) prints one plain table
// of every service and real server: it reads the table twice, --interval
// apart, and prints the rates between the two reads; with --interval 0 it
// reads once and prints "-" for the rates.
package top

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/daemon"
	"github.com/lvsadm/lvsadm/cmd/internal/exitcode"
	"github.com/lvsadm/lvsadm/ipvs"
)

// Env is what the command uses outside the process.
type Env struct {
	Stdout, Stderr io.Writer
	// Dial connects to the kernel's IPVS, loading the module if need be.
	Dial func() (*ipvs.Client, error)
	// OpenProc opens /proc/net/ip_vs.
	OpenProc func() (io.ReadCloser, error)
	// Terminal returns the terminal to draw on, or ok false when stdout is
	// not one (then top prints one plain snapshot).
	Terminal func() (in, out *os.File, ok bool)
	// Now and Sleep are the clock; nil for the real one.
	Now   func() time.Time
	Sleep func(time.Duration)
}

// ExitError carries a command's exit status.
type ExitError = exitcode.Error

func failure(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: 1, Err: err}
}

// DefaultStatusURL is lvsadm run's /status at its default --listen.
const DefaultStatusURL = "http://" + daemon.DefaultListen + "/status"

// Command returns lvsadm top.
func Command(e Env) *cobra.Command {
	var once bool
	var interval time.Duration
	var statusURL string
	c := &cobra.Command{
		Use:   "top [--once] [--interval D]",
		Short: "Show the IPVS services and real servers live, with their rates",
		Long: `Show the services and real servers with their weights, active and inactive
connections, and connections, packets (in and out) and bytes (in and out) per
second, computed from the kernel's counters between two refreshes. With
lvsadm run listening at --status-url, a HEALTH column shows each real server's
state.

Keys: q quit; s/S next/previous sort column, 1-8 that column (twice:
reversed), r reverse; / filter by address (enter keeps it, esc clears it);
up/down, pgup/pgdown move; enter or space expands or collapses the service
under the cursor, e and c all of them; + and - change the refresh interval.
Real servers at weight 0 are highlighted. A real server's rates show one
interval after its service is expanded on screen (its counters are read only then).

With --once, or when stdout is not a terminal, print one plain table of every
service and real server instead: the table is read twice, --interval apart,
and the rates are those between the two reads; --interval 0 reads it once and
prints "-" for the rates.`,
		Example: `  lvsadm top
  lvsadm top --once --interval 2s
  lvsadm top --status-url ""`,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval < 0 {
				return failure(errors.New("--interval must not be negative"))
			}
			in, out, tty := (*os.File)(nil), (*os.File)(nil), false
			if !once && e.Terminal != nil {
				in, out, tty = e.Terminal()
			}
			if tty && interval == 0 {
				return failure(errors.New("--interval 0 only makes sense with --once"))
			}
			client, err := e.Dial()
			if err != nil {
				return failure(err)
			}
			defer client.Close()
			s := &sampler{client: client, openProc: e.OpenProc, now: e.Now, status: statusFetcher(statusURL)}
			if s.now == nil {
				s.now = time.Now
			}
			if !tty {
				return failure(e.snapshot(s, interval))
			}
			p := tea.NewProgram(newModel(s, interval), tea.WithInput(in), tea.WithOutput(out), tea.WithAltScreen())
			m, err := p.Run()
			if err != nil {
				return failure(err)
			}
			return failure(m.(*model).err)
		},
	}
	c.Flags().BoolVar(&once, "once", false, "print one plain snapshot and exit")
	c.Flags().DurationVarP(&interval, "interval", "i", time.Second, "time between refreshes (with --once: between the two reads; 0 for counters only)")
	c.Flags().StringVar(&statusURL, "status-url", DefaultStatusURL, `lvsadm run's /status, for the HEALTH column; "" for none`)
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return failure(err) })
	return c
}

// snapshot prints one plain table, with rates between two reads interval
// apart.
func (e Env) snapshot(s *sampler, interval time.Duration) error {
	all := func(ipvs.ServiceKey) bool { return true }
	if interval > 0 {
		if _, err := s.read(all); err != nil {
			return fmt.Errorf("reading the table: %w", err)
		}
		sleep := e.Sleep
		if sleep == nil {
			sleep = time.Sleep
		}
		sleep(interval)
	}
	snap, err := s.read(all)
	if err != nil {
		return fmt.Errorf("reading the table: %w", err)
	}
	return writePlain(e.Stdout, snap)
}
