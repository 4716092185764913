package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/lvsadm/lvsadm/cmd/desired"
	"github.com/lvsadm/lvsadm/cmd/internal/exitcode"
)

// DefaultListen is where lvsadm run serves /status, /metrics and /reload,
// and where lvsadm status and reload look for it.
const DefaultListen = "127.0.0.1:9129"

// ExitError carries a command's exit status.
type ExitError = exitcode.Error

func failure(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		err = errors.New(strings.ReplaceAll(msg, "\n", "\nlvsadm: "))
	}
	return &ExitError{Code: 1, Err: err}
}

// Commands returns run, reload and status. stdout is where status prints.
func Commands(env Env, stdout io.Writer) []*cobra.Command {
	cmds := []*cobra.Command{runCommand(env), reloadCommand(), statusCommand(stdout)}
	for _, c := range cmds {
		c.SilenceErrors, c.SilenceUsage = true, true
	}
	return cmds
}

func runCommand(env Env) *cobra.Command {
	var o Options
	var format, logFormat string
	c := &cobra.Command{
		Use:   "run -f FILE",
		Short: "Keep the kernel's table FILE's, filtered by the real servers' health",
		Long: `Apply FILE (see 'lvsadm apply --help' and docs/config.md), start the health
checks its health_check keys declare, and keep the kernel's table equal to
FILE with every real server's health applied: a failed server gets weight 0
(on_failure: quiesce) or is removed (on_failure: remove, drained with
--drain-timeout), a recovered one gets its weight back, an exec check can set
the weight, and a service below its quorum gets its sorry server. Each health
change becomes the few netlink edits it needs.

SIGHUP (or 'lvsadm reload') re-reads FILE and applies the difference; checks
that did not change keep their state. SIGTERM and SIGINT stop the daemon and
leave the table as it is, unless --flush-on-exit. The log (stderr) has one line
per state change with its reason. With --listen, /status (JSON), /metrics
(Prometheus) and POST /reload are served there. Under systemd (Type=notify)
it reports when it is ready, reloading and stopping.

A check with via_vip goes to the service's address and reaches its real server
(direct routing or tunnel) the way clients' packets do: the daemon gives each
such server a firewall-mark service of its own, with marks from --via-vip-mark
on, and marks the check's packets (docs/health.md).`,
		Example: `  lvsadm run -f /etc/lvsadm/lvs.yaml
  lvsadm run -f lvs.yaml --listen 127.0.0.1:9129 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.File == "" {
				return failure(errors.New("give the desired table with -f FILE"))
			}
			if format != "" {
				f, err := desired.ParseFormat(format)
				if err != nil {
					return failure(err)
				}
				o.Format = f
			}
			switch logFormat {
			case "text":
			case "json":
				o.LogJSON = true
			default:
				return failure(fmt.Errorf("--log-format %s: want text or json", logFormat))
			}
			return failure(Run(context.Background(), o, env))
		},
	}
	c.Flags().StringVarP(&o.File, "file", "f", "", "the desired table (required)")
	c.Flags().StringVar(&format, "format", "", "the file's format: rules, yaml or json (default: from its content)")
	c.Flags().StringVar(&o.Listen, "listen", DefaultListen, "address for /status, /metrics and /reload; empty for none")
	c.Flags().StringVar(&logFormat, "log-format", "text", "text or json")
	c.Flags().BoolVar(&o.FlushOnExit, "flush-on-exit", false, "remove the services and real servers it added when it stops")
	c.Flags().DurationVar(&o.DrainTimeout, "drain-timeout", 0, "how long a real server that goes keeps its connections at weight 0 before it is deleted")
	c.Flags().DurationVar(&o.Resync, "resync", time.Minute, "how often the kernel's table is read and corrected; 0 never")
	c.Flags().Uint32Var(&o.ViaVIPMark, "via-vip-mark", DefaultViaVIPMark, "the first of the 65,536 firewall marks of the services that carry via_vip checks")
	return c
}

func reloadCommand() *cobra.Command {
	var listen string
	c := &cobra.Command{
		Use:   "reload",
		Short: "Make a running 'lvsadm run' re-read its file",
		Long: `Ask the lvsadm run listening at --listen to re-read its file and apply the
difference (what SIGHUP does). Prints the daemon's answer; exit status 1 if
the file was refused (the daemon goes on with the previous one).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := (&http.Client{Timeout: 10 * time.Minute}).Post("http://"+listen+"/reload", "text/plain", nil)
			if err != nil {
				return failure(fmt.Errorf("no lvsadm run at %s: %w", listen, err))
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				return failure(fmt.Errorf("reload refused: %s", strings.TrimSpace(string(body))))
			}
			cmd.OutOrStdout().Write(body)
			return nil
		},
	}
	c.Flags().StringVar(&listen, "listen", DefaultListen, "the daemon's --listen address")
	return c
}

func statusCommand(stdout io.Writer) *cobra.Command {
	var listen, output string
	c := &cobra.Command{
		Use:   "status [-o table|json]",
		Short: "Show the health of the real servers of a running 'lvsadm run'",
		Long: `Show, for every real server of the file a running lvsadm run applies, its
check, state (up, down, draining, unchecked), since when, why, and its weight
in the kernel and in the file; -o json prints the daemon's /status document.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return failure(fmt.Errorf("-o %s: want table or json", output))
			}
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + listen + "/status")
			if err != nil {
				return failure(fmt.Errorf("no lvsadm run at %s: %w", listen, err))
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return failure(err)
			}
			if output == "json" {
				_, err := stdout.Write(body)
				return failure(err)
			}
			var doc StatusDoc
			if err := json.Unmarshal(body, &doc); err != nil {
				return failure(fmt.Errorf("the answer at %s is not lvsadm run's status: %w", listen, err))
			}
			return failure(writeStatusTable(stdout, &doc, time.Now()))
		},
	}
	c.Flags().StringVar(&listen, "listen", DefaultListen, "the daemon's --listen address")
	c.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return c
}

// writeStatusTable prints the status for people.
func writeStatusTable(w io.Writer, doc *StatusDoc, now time.Time) error {
	t := tablewriter.NewTable(w)
	t.Header("SERVICE", "REAL SERVER", "CHECK", "STATE", "SINCE", "WEIGHT", "REASON")
	for _, s := range doc.Services {
		for _, r := range s.RealServers {
			since := ""
			if !r.Since.IsZero() {
				since = now.Sub(r.Since).Truncate(time.Second).String() + " ago"
			}
			check := r.Check
			if check == "" {
				check = "-"
			}
			t.Append(s.Service, r.Address, check, r.State, since, fmt.Sprintf("%d/%d", r.Weight, r.ConfiguredWeight), r.Reason)
		}
		if s.SorryServer {
			t.Append(s.Service, "sorry server", "-", "in", "", "", fmt.Sprintf("live weight %d below quorum %d", s.LiveWeight, s.Quorum))
		}
	}
	return t.Render()
}
